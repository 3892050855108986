using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using SmartCity.Contracts.Audit.V1;
using SmartCity.Contracts.Credit.V1;
using SmartCity.CreditApi.Auth;
using SmartCity.CreditApi.Bench;
using SmartCity.CreditApi.Hosting;
using SmartCity.CreditApi.Node;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Keys;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.State;

namespace SmartCity.CreditApi.Cli;

/// <summary>What <c>smartcity bench api</c> measures (issue 13, "Targets").</summary>
public sealed record ApiBenchOptions(
    int ThroughputRequests,
    int Concurrency,
    int ScoreRate,
    int LicenceRate,
    TimeSpan Duration,
    int Records,
    int ChainTransactions,
    [property: JsonIgnore] string? SaveReceiptDirectory = null)
{
    /// <summary>Seconds each open-loop phase first runs at its rate unmeasured (JIT tiers, pool threads, GC budgets settle).</summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>One phase's figures.</summary>
public sealed record ApiBenchPhase(
    string Name,
    string Method,
    string Mode,
    double TargetRate,
    long Requests,
    long Errors,
    double DurationSeconds,
    double RequestsPerSecond,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double MaxMs)
{
    /// <summary>What the process did meanwhile (CPU, allocation, GC, JIT, pool, access log, server stages).</summary>
    public ApiPhaseDiagnostics? Diagnostics { get; init; }

    /// <summary>Blocks the node committed during the phase (a read waits behind a block's commit on the writer).</summary>
    public long Blocks { get; init; }
}

/// <summary>The whole run: phases, the VerifyChain ratio, the targets and whether each was met.</summary>
public sealed record ApiBenchReport(
    string Started,
    string Machine,
    ApiBenchOptions Options,
    IReadOnlyList<ApiBenchPhase> Phases,
    long ChainTransactions,
    long ChainBlocks,
    double VerifyChainSeconds,
    double VerifyChainTransactionsPerSecond,
    double SignatureCeilingPerSecond,
    IReadOnlyList<ApiBenchTarget> Targets);

public sealed record ApiBenchTarget(string Target, string Measured, bool Met);

/// <summary>
/// The credit API's load tool: one node host (Kestrel, HTTP/2 cleartext on 127.0.0.1, a single-validator Tianjin chain
/// in a temporary directory, embedded store) and one Grpc.Net.Client process measuring it.
/// <list type="number">
/// <item>Throughput, closed loop (<c>Concurrency</c> calls in flight): GetCertifiedHeader(latest) — an authenticated,
/// role-checked call that reads no subject data (the trivial call) — and GetTrustScore of a subject with
/// <c>Records</c> credit records (authenticated, role-checked, access-logged durably before the answer).</item>
/// <item>Latency, open loop: GetTrustScore at <c>ScoreRate</c>/s and VerifyLicence (the combined receipt) at
/// <c>LicenceRate</c>/s for <c>Duration</c>. Request i is due at start + i/rate; it is sent when due (late if the
/// client fell behind) and its latency is measured from when it was due, so a stalled server is not hidden by a
/// client that waits for it (no coordinated omission).</item>
/// <item>VerifyChain over the whole chain (<c>ChainTransactions</c> records plus the set-up), against the batch
/// verifier's signature rate on all cores over the same chain's signatures, measured in the same process.</item>
/// </list>
/// Requests are signed before each phase (fresh nonces, timestamps well inside the replay window), so the figures are
/// the server's work, not the client's signing. The server verifies every signature as usual.
/// </summary>
public sealed class ApiBench(ApiBenchOptions options, TextWriter log)
{
    private const string Subject = "uscc:91350100M000100Y43";
    private const string Purpose = "BENCHMARK";
    private const int TianjinRegulator = 1;
    private const int Bureau = 5;
    private const int Bank = 6;
    private const int Regulator = 7;

    public async Task<ApiBenchReport> RunAsync(string sampleGenesisText, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var directory = Directory.CreateTempSubdirectory("smartcity-bench-api-").FullName;
        try
        {
            await log.WriteLineAsync($"setting up a single-validator chain in {directory}").ConfigureAwait(false);
            var setup = await LocalSetup.WriteAsync(directory, sampleGenesisText, ["TJ"], 0, null, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            // One member signs the whole chain: let the node hold more of its nonces ahead than a production node would.
            var configPath = setup.Nodes[0].ConfigPath;
            var config = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(configPath, cancellationToken).ConfigureAwait(false))!.AsObject();
            var limits = config["limits"] as System.Text.Json.Nodes.JsonObject ?? [];
            limits["maxNonceGap"] = 4096;
            config["limits"] = limits;
            await File.WriteAllTextAsync(configPath, config.ToJsonString(), cancellationToken).ConfigureAwait(false);
            using var startup = await NodeConfigLoader.LoadAsync(setup.Nodes[0].ConfigPath, cancellationToken).ConfigureAwait(false);
            var settings = new NodeSettings("TJ", "tj-bench", new IPEndPoint(IPAddress.Loopback, 0));
            await using var app = NodeHost.Build(settings, startup);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await MeasureAsync(app, setup, startup.Genesis, started, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task<ApiBenchReport> MeasureAsync(WebApplication app, LocalSetupResult setup, GenesisDocument genesis, DateTimeOffset started, CancellationToken cancellationToken)
    {
        var ledger = app.Services.GetRequiredService<LedgerRuntime>();
        var node = ledger.Node;
        var curve = app.Services.GetRequiredService<ISignatureScheme>();
        var keys = new Dictionary<int, KeySigner>();
        KeySigner Key(int member)
        {
            if (!keys.TryGetValue(member, out var signer))
            {
                signer = KeySource.OpenSigner(
                    new KeySourceOptions { Keystore = new KeystoreKeyOptions { Path = setup.Members[member].KeyPath, Password = new SecretSourceOptions { File = setup.PasswordFile } } },
                    setup.Members[member].Address);
                keys[member] = signer;
            }

            return signer;
        }

        try
        {
            var domain = genesis.Eip712Domain.ToDomain();
            var writer = Key(TianjinRegulator);
            ulong nonce = 0;
            var yesterday = LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(-1));

            // The scored subject's records, one licence, then the bulk of the chain: records about many enterprises.
            await log.WriteLineAsync($"writing {options.Records} records about {Subject} and a licence").ConfigureAwait(false);
            var setupBodies = new List<ITransactionBody>();
            for (var i = 0; i < options.Records; i++)
            {
                var id = CryptoSuite.Eth.Hash(Encoding.UTF8.GetBytes($"bench/subject/{i}"));
                setupBodies.Add(new CreditRecordSubmit(id, Subject, Ledger.Domain.Transactions.RecordCategory.AdministrativePenalty, Severity.Moderate, "120101", yesterday, 6, "Administrative Penalty Law, art. 28", "", id));
            }

            var licence = LicenceIdentifier.Compose("11100000000013338W032", genesis.Members[TianjinRegulator].Uscc.Value, "2430599", 1);
            setupBodies.Add(new LicenceIssue(licence, Subject, "Business licence", "120101", yesterday, LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddYears(5)), CryptoSuite.Eth.Hash("bench licence"u8)));
            await CommitAllAsync(node, setupBodies.Select(b => TransactionCodec.Encode(SignedTransaction.Sign(writer, domain, genesis.ChainId, nonce++, b))).ToList(), cancellationToken).ConfigureAwait(false);

            if (options.ChainTransactions > 0)
            {
                await log.WriteLineAsync($"signing {options.ChainTransactions:N0} credit records for the chain VerifyChain reads…").ConfigureAwait(false);
                var bulk = new List<byte[]>(options.ChainTransactions);
                for (var i = 0; i < options.ChainTransactions; i++)
                {
                    var first17 = string.Create(CultureInfo.InvariantCulture, $"91120100M{i % 100_000:D8}");
                    var id = CryptoSuite.Eth.Hash(Encoding.UTF8.GetBytes($"bench/chain/{i}"));
                    var body = new CreditRecordSubmit(id, "uscc:" + first17 + UnifiedSocialCreditCode.CheckCharacter(first17), Ledger.Domain.Transactions.RecordCategory.AdministrativePenalty, Severity.Moderate, "120101", yesterday, 6, "Administrative Penalty Law, art. 28", "", id);
                    bulk.Add(TransactionCodec.Encode(SignedTransaction.Sign(writer, domain, genesis.ChainId, nonce++, body)));
                }

                await log.WriteLineAsync($"committing them…").ConfigureAwait(false);
                var clock = Stopwatch.StartNew();
                await CommitAllAsync(node, bulk, cancellationToken).ConfigureAwait(false);
                await log.WriteLineAsync($"committed in {clock.Elapsed.TotalSeconds:F1} s; head {node.Head.Height}, {node.Head.HistorySize:N0} transactions").ConfigureAwait(false);
            }

            var address = NodeHost.ListeningAddress(app);
            using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan },
                MaxReceiveMessageSize = 64 * 1024 * 1024,
            });
            var credit = new CreditService.CreditServiceClient(channel);
            var attestation = new AttestationService.AttestationServiceClient(channel);
            var audit = new AuditService.AuditServiceClient(channel);

            var header = new Call<GetCertifiedHeaderRequest>(Path(AuditService.Descriptor, "GetCertifiedHeader"), new GetCertifiedHeaderRequest { Latest = true }, Key(Bureau), genesis.ChainId,
                (r, m) => audit.GetCertifiedHeaderAsync(r, m, cancellationToken: cancellationToken).ResponseAsync);
            var score = new Call<GetTrustScoreRequest>(Path(CreditService.Descriptor, "GetTrustScore"), new GetTrustScoreRequest { Subject = Subject }, Key(Bureau), genesis.ChainId,
                (r, m) => credit.GetTrustScoreAsync(r, m, cancellationToken: cancellationToken).ResponseAsync);
            var verify = new Call<VerifyLicenceRequest>(Path(AttestationService.Descriptor, "VerifyLicence"), new VerifyLicenceRequest { Identifier = licence, ExpectedHolder = Subject }, Key(Bank), genesis.ChainId,
                (r, m) => attestation.VerifyLicenceAsync(r, m, cancellationToken: cancellationToken).ResponseAsync);

            // A first answer of each, checked, so a phase measures working calls.
            var scored = await credit.GetTrustScoreAsync(score.Request, score.Sign(1)[0], cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);
            var verified = await attestation.VerifyLicenceAsync(verify.Request, verify.Sign(1)[0], cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);
            if (options.SaveReceiptDirectory is { } saveTo)
            {
                Directory.CreateDirectory(saveTo);
                await File.WriteAllTextAsync(System.IO.Path.Combine(saveTo, "licence-verification.json"), verified.ReceiptJson + "\n", cancellationToken).ConfigureAwait(false);
                File.Copy(setup.GenesisPath, System.IO.Path.Combine(saveTo, "genesis.json"), overwrite: true);
            }

            await log.WriteLineAsync($"GetTrustScore: score {scored.Score} band {scored.Band}; VerifyLicence: holder matches {verified.HolderMatches}, receipt {verified.ReceiptJson.Length:N0} bytes").ConfigureAwait(false);

            var phases = new List<ApiBenchPhase>();
            await log.WriteLineAsync("warming up…").ConfigureAwait(false);
            foreach (var call in new ICall[] { header, score, verify })
            {
                await ClosedLoopAsync("warm-up", call, Math.Min(2000, options.ThroughputRequests), cancellationToken).ConfigureAwait(false);
            }

            async Task<ApiBenchPhase> Probed(Func<Task<ApiBenchPhase>> run)
            {
                var height = node.Head.Height;
                using var probe = ApiPhaseProbe.Start(app.Services);
                var phase = await run().ConfigureAwait(false);
                phase = phase with { Diagnostics = probe.Stop(phase.Requests), Blocks = node.Head.Height - height };
                phases.Add(phase);
                await log.WriteLineAsync(DiagnosticsLine(phase)).ConfigureAwait(false);
                return phase;
            }

            var trivial = await Probed(() => ClosedLoopAsync("trivial authenticated call (GetCertifiedHeader latest)", header, options.ThroughputRequests, cancellationToken)).ConfigureAwait(false);
            var scoreThroughput = await Probed(() => ClosedLoopAsync("GetTrustScore, 50 records, access-logged", score, options.ThroughputRequests, cancellationToken)).ConfigureAwait(false);
            await WarmUpAsync(score, options.ScoreRate, cancellationToken).ConfigureAwait(false);
            var scoreLatency = await Probed(() => OpenLoopAsync("GetTrustScore, 50 records, access-logged", score, options.ScoreRate, options.Duration, cancellationToken)).ConfigureAwait(false);
            await WarmUpAsync(verify, options.LicenceRate, cancellationToken).ConfigureAwait(false);
            var licenceLatency = await Probed(() => OpenLoopAsync("VerifyLicence with its combined receipt", verify, options.LicenceRate, options.Duration, cancellationToken)).ConfigureAwait(false);

            // VerifyChain over the whole chain, then the batch verifier over the same signatures in the same process.
            await log.WriteLineAsync($"VerifyChain over {node.Head.HistorySize:N0} transactions in {node.Head.Height + 1:N0} blocks…").ConfigureAwait(false);
            var chainCall = new Call<VerifyChainRequest>(Path(AuditService.Descriptor, "VerifyChain"), new VerifyChainRequest { FromHeight = 0 }, Key(Regulator), genesis.ChainId, (_, _) => Task.CompletedTask);
            var chainClock = Stopwatch.StartNew();
            using var stream = audit.VerifyChain(chainCall.Request, chainCall.Sign(1)[0], deadline: DateTime.UtcNow.AddHours(1), cancellationToken: cancellationToken);
            VerifyChainResponse? last = null;
            var invalid = 0;
            await foreach (var verdict in stream.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                last = verdict;
                invalid += verdict.Verdict == BlockVerdict.Valid ? 0 : 1;
            }

            chainClock.Stop();
            if (last is null || invalid > 0)
            {
                throw new InvalidOperationException($"VerifyChain found {invalid} invalid blocks (last: {last})");
            }

            var chainRate = last.TransactionsChecked / chainClock.Elapsed.TotalSeconds;
            var ceiling = await SignatureCeilingAsync(node, genesis, curve, cancellationToken).ConfigureAwait(false);
            await log.WriteLineAsync($"VerifyChain {last.TransactionsChecked:N0} tx in {chainClock.Elapsed.TotalSeconds:F2} s = {chainRate:N0} tx/s; batch verify on {Environment.ProcessorCount} cores {ceiling:N0} signatures/s").ConfigureAwait(false);

            var ratio = scoreThroughput.RequestsPerSecond / trivial.RequestsPerSecond;
            var targets = new List<ApiBenchTarget>
            {
                new("GetTrustScore throughput ≥ 50 % of the trivial authenticated call", $"{ratio:P0} ({scoreThroughput.RequestsPerSecond:N0} vs {trivial.RequestsPerSecond:N0} req/s)", ratio >= 0.5),
                new($"GetTrustScore p99 < 10 ms at {options.ScoreRate:N0} req/s", $"{scoreLatency.P99Ms:F2} ms ({scoreLatency.Errors} errors)", scoreLatency.P99Ms < 10 && scoreLatency.Errors == 0),
                new($"VerifyLicence p99 < 10 ms at {options.LicenceRate:N0} req/s", $"{licenceLatency.P99Ms:F2} ms ({licenceLatency.Errors} errors)", licenceLatency.P99Ms < 10 && licenceLatency.Errors == 0),
                new("VerifyChain ≥ 70 % of the batch signature-verification rate", $"{chainRate / ceiling:P0} ({chainRate:N0} tx/s vs {ceiling:N0} signatures/s, {last.TransactionsChecked:N0} transactions)", chainRate / ceiling >= 0.7),
            };
            return new ApiBenchReport(started.ToString("O", CultureInfo.InvariantCulture), $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, {ApiPhaseProbe.GcMode}, load average {LoadAverage()}",
                options, phases, last.TransactionsChecked, node.Head.Height + 1, chainClock.Elapsed.TotalSeconds, chainRate, ceiling, targets);
        }
        finally
        {
            foreach (var key in keys.Values)
            {
                key.Dispose();
            }
        }
    }

    /// <summary>Submits every transaction (retrying while the mempool is full) and waits until the head holds them all.</summary>
    private async Task CommitAllAsync(LedgerNode node, List<byte[]> transactions, CancellationToken cancellationToken)
    {
        var target = node.Head.HistorySize + transactions.Count;
        var progress = Stopwatch.StartNew();
        // Four submitters take chunks of 256 in nonce order (the node holds nonces ahead up to its gap), so admission
        // verifies signatures on both cores and blocks fill up as a busy chain's would.
        const int Chunk = 256;
        var nextChunk = -1;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            int c;
            while ((c = Interlocked.Increment(ref nextChunk)) * Chunk < transactions.Count)
            {
                for (var i = c * Chunk; i < Math.Min(transactions.Count, (c + 1) * Chunk); i++)
                {
                    await SubmitAsync(node, transactions[i], cancellationToken).ConfigureAwait(false);
                }

                if (c % 40 == 0 && c > 0)
                {
                    await log.WriteLineAsync($"  submitted ~{c * Chunk:N0} of {transactions.Count:N0}; head {node.Head.Height}, {node.Head.HistorySize:N0} transactions, {progress.Elapsed.TotalSeconds:F0} s").ConfigureAwait(false);
                }
            }
        }, cancellationToken))).ConfigureAwait(false);

        var head = node.Head;
        while (head.HistorySize < target)
        {
            try
            {
                head = await head.NextAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new InvalidOperationException($"no block for 60 s: the head holds {head.HistorySize:N0} of {target:N0} transactions (node {node.Head.Health} {node.Head.Fault})");
            }
        }
    }

    private static async Task SubmitAsync(LedgerNode node, byte[] bytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await node.SubmitAsync(bytes, waitForCommit: false, cancellationToken).ConfigureAwait(false);
            if (result.IsAccepted)
            {
                return;
            }

            // One signer writes everything: past the nonces the node holds ahead, wait for blocks to commit.
            if (result.Code is AdmissionCode.MempoolFull or AdmissionCode.SignerQueueFull or AdmissionCode.NonceTooFarAhead)
            {
                await Task.Delay(2, cancellationToken).ConfigureAwait(false);
                continue;
            }

            throw new InvalidOperationException($"the node refused a benchmark transaction: {result}");
        }
    }

    private static async Task<double> SignatureCeilingAsync(LedgerNode node, GenesisDocument genesis, ISignatureScheme curve, CancellationToken cancellationToken)
    {
        var domain = genesis.Eip712Domain.ToDomain();
        var digests = new List<SignedDigest>();
        for (var height = 1L; height <= node.Head.Height; height++)
        {
            var block = await node.Blocks.GetBlockAsync(height, cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException($"block {height} is missing");
            foreach (var tx in block.Transactions)
            {
                digests.Add(TransactionIntake.Decode(tx.Bytes, genesis.ChainId, domain, genesis.Parameters.MaxTransactionBytes).Transaction!.SignedDigest);
            }
        }

        var items = digests.ToArray();
        var results = new SignatureCheck[items.Length];
        var verifier = new SignatureBatchVerifier(curve);
        verifier.Verify(items.AsSpan(0, Math.Min(1000, items.Length)), results); // warm-up
        var clock = Stopwatch.StartNew();
        verifier.Verify(items, results);
        clock.Stop();
        if (Array.Exists(results, r => r != SignatureCheck.Ok))
        {
            throw new InvalidOperationException("a committed transaction's signature does not verify");
        }

        return items.Length / clock.Elapsed.TotalSeconds;
    }

    private async Task<ApiBenchPhase> ClosedLoopAsync(string name, ICall call, int count, CancellationToken cancellationToken)
    {
        var signed = call.Sign(count);
        var latencies = new double[count];
        var next = -1;
        var errors = 0L;
        var start = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    await call.InvokeAsync(signed[i]).ConfigureAwait(false);
                }
                catch (RpcException)
                {
                    Interlocked.Increment(ref errors);
                }

                latencies[i] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
            }
        }, cancellationToken)).ToList();
        await Task.WhenAll(workers).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var phase = Summarise(name, call.Method, $"closed loop, {options.Concurrency} in flight", 0, latencies, errors, elapsed);
        if (name != "warm-up")
        {
            await log.WriteLineAsync($"{name}: {phase.RequestsPerSecond:N0} req/s, p50 {phase.P50Ms:F2} ms, p99 {phase.P99Ms:F2} ms, {errors} errors").ConfigureAwait(false);
        }

        return phase;
    }

    /// <summary>The open-loop phase's load, unmeasured, for <see cref="ApiBenchOptions.WarmUp"/>: what the measured phase then sees is the steady state.</summary>
    private async Task WarmUpAsync(ICall call, int rate, CancellationToken cancellationToken)
    {
        if (options.WarmUp > TimeSpan.Zero)
        {
            var warm = await OpenLoopAsync("warm-up", call, rate, options.WarmUp, cancellationToken).ConfigureAwait(false);
            await log.WriteLineAsync($"  (warm-up {call.Method} at {rate:N0}/s for {options.WarmUp.TotalSeconds:N0} s: p99 {warm.P99Ms:F2} ms, max {warm.MaxMs:F1} ms)").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Request i is due at start + i/rate. A thread of its own (not the pool's, so a busy pool does not delay the
    /// sending) wakes about every millisecond and starts every request due by then; each latency counts from when the
    /// request was due, so a late send or a stalled server shows in the figures (no coordinated omission). Sleeping
    /// between sends, the generator costs little CPU; the ~1 ms of send granularity is inside the figures, not hidden.
    /// </summary>
    private async Task<ApiBenchPhase> OpenLoopAsync(string name, ICall call, int rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        var count = (int)Math.Max(1, rate * duration.TotalSeconds);
        var signed = call.Sign(count);
        var latencies = new double[count];
        var errors = 0L;
        var pending = new Task[count];
        var ticksPerRequest = (double)Stopwatch.Frequency / rate;
        var start = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 100);
        var sentAll = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sender = new Thread(() =>
        {
            try
            {
                var sent = 0;
                while (sent < count)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var now = Stopwatch.GetTimestamp();
                    while (sent < count && start + (long)(sent * ticksPerRequest) <= now)
                    {
                        var i = sent++;
                        pending[i] = Send(i, start + (long)(i * ticksPerRequest));
                    }

                    if (sent < count)
                    {
                        Thread.Sleep(1);
                    }
                }

                sentAll.SetResult();
            }
            catch (OperationCanceledException e)
            {
                sentAll.SetCanceled(e.CancellationToken);
            }
        })
        { IsBackground = true, Name = "bench api sender" };
        sender.Start();
        await sentAll.Task.ConfigureAwait(false);
        await Task.WhenAll(pending).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var phase = Summarise(name, call.Method, $"open loop, {rate:N0}/s for {duration.TotalSeconds:N0} s after {options.WarmUp.TotalSeconds:N0} s at the rate", rate, latencies, errors, elapsed);
        if (name != "warm-up")
        {
            await log.WriteLineAsync($"{name} at {rate:N0}/s: p50 {phase.P50Ms:F2} ms, p90 {phase.P90Ms:F2} ms, p99 {phase.P99Ms:F2} ms, max {phase.MaxMs:F1} ms, {errors} errors").ConfigureAwait(false);
        }

        return phase;

        async Task Send(int i, long due)
        {
            try
            {
                await call.InvokeAsync(signed[i]).ConfigureAwait(false);
            }
            catch (RpcException)
            {
                Interlocked.Increment(ref errors);
            }

            latencies[i] = (Stopwatch.GetTimestamp() - due) * 1000.0 / Stopwatch.Frequency;
        }
    }

    private static string DiagnosticsLine(ApiBenchPhase phase)
    {
        if (phase.Diagnostics is not { } d)
        {
            return "";
        }

        var stages = string.Join(", ", d.Stages.Where(st => st.Runs > 0).Select(st => string.Create(CultureInfo.InvariantCulture, $"{st.Stage} {st.MeanMs:F3}/{st.MaxMs:F2} ms")));
        return string.Create(CultureInfo.InvariantCulture,
            $"  {d.CpuMsPerRequest:F3} CPU ms/req, {d.AllocatedKbPerRequest:F1} KB/req, GC {d.Gen0}/{d.Gen1}/{d.Gen2} pause {d.GcPauseMs:F1} ms (max {d.GcPauseMaxMs:F2}), JIT {d.JitMethods} methods {d.JitMs:F0} ms, {d.LockContentions} contentions, pool {d.PoolThreads} threads delay p99 {d.PoolDelayP99Ms:F2} max {d.PoolDelayMaxMs:F2} ms, {d.FsyncsPerSecond:F0} fsync/s x {d.EntriesPerFsync:F1} entries ({d.FsyncMeanMs:F2} mean, {d.FsyncMaxMs:F2} max ms), {phase.Blocks} blocks; {stages}");
    }

    private static ApiBenchPhase Summarise(string name, string method, string mode, double rate, double[] latencies, long errors, double elapsedSeconds)
    {
        var sorted = latencies.ToArray();
        Array.Sort(sorted);
        double At(double q) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new ApiBenchPhase(name, method, mode, rate, latencies.Length, errors, Math.Round(elapsedSeconds, 3), Math.Round((latencies.Length - errors) / elapsedSeconds, 1),
            Math.Round(At(0.50), 3), Math.Round(At(0.90), 3), Math.Round(At(0.99), 3), Math.Round(sorted.Length == 0 ? 0 : sorted[^1], 3));
    }

    private static string Path(Google.Protobuf.Reflection.ServiceDescriptor service, string method) => $"/{service.FullName}/{method}";

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>The Markdown table of a report (also what the command prints).</summary>
    public static string Markdown(ApiBenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"`smartcity bench api` — {report.Started}, {report.Machine}").AppendLine();
        md.AppendLine("| phase | mode | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms |");
        md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var p in report.Phases)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {p.Name} | {p.Mode} | {p.Requests:N0} | {p.Errors:N0} | {p.RequestsPerSecond:N0} | {p.P50Ms:F2} | {p.P90Ms:F2} | {p.P99Ms:F2} | {p.MaxMs:F1} |");
        }

        md.AppendLine().AppendLine("Where the time went, per phase (CPU and allocation are the whole process: server and load generator; stages are the server's, mean / longest):").AppendLine();
        md.AppendLine("| phase | CPU ms/req | KB/req | GC gen0/1/2 | GC pause ms (longest) | JIT methods (ms) | lock contentions | pool threads | pool delay p99 / max ms | fsync/s | entries/fsync | fsync mean / max ms | blocks | stages mean / max ms |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var p in report.Phases)
        {
            if (p.Diagnostics is { } d)
            {
                var stages = string.Join("; ", d.Stages.Where(st => st.Runs > 0).Select(st => string.Create(CultureInfo.InvariantCulture, $"{st.Stage} {st.MeanMs:F3} / {st.MaxMs:F2}")));
                md.AppendLine(CultureInfo.InvariantCulture, $"| {p.Name} ({p.Mode.Split(',')[0]}) | {d.CpuMsPerRequest:F3} | {d.AllocatedKbPerRequest:F1} | {d.Gen0}/{d.Gen1}/{d.Gen2} | {d.GcPauseMs:F1} ({d.GcPauseMaxMs:F2}) | {d.JitMethods} ({d.JitMs:F0}) | {d.LockContentions:N0} | {d.PoolThreads} | {d.PoolDelayP99Ms:F2} / {d.PoolDelayMaxMs:F2} | {d.FsyncsPerSecond:F0} | {d.EntriesPerFsync:F1} | {d.FsyncMeanMs:F2} / {d.FsyncMaxMs:F2} | {p.Blocks} | {stages} |");
            }
        }

        md.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"VerifyChain over {report.ChainTransactions:N0} transactions in {report.ChainBlocks:N0} blocks: {report.VerifyChainSeconds:F2} s, {report.VerifyChainTransactionsPerSecond:N0} tx/s; the batch verifier over the same signatures on all cores: {report.SignatureCeilingPerSecond:N0} signatures/s.").AppendLine();
        md.AppendLine("| target (issue 13) | measured | |").AppendLine("| --- | --- | --- |");
        foreach (var t in report.Targets)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {t.Target} | {t.Measured} | {(t.Met ? "met" : "**not met**")} |");
        }

        return md.ToString();
    }

    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Converters = { new TimeSpanSeconds() } };

    private sealed class TimeSpanSeconds : JsonConverter<TimeSpan>
    {
        public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => TimeSpan.FromSeconds(reader.GetDouble());

        public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) => writer.WriteNumberValue(value.TotalSeconds);
    }

    private interface ICall
    {
        string Method { get; }

        Metadata[] Sign(int count);

        Task InvokeAsync(Metadata headers);
    }

    /// <summary>One method with one request, signed ahead of its phase with a fresh nonce per call.</summary>
    private sealed class Call<TRequest>(string method, TRequest request, ISigner signer, ulong chainId, Func<TRequest, Metadata, Task> invoke) : ICall
        where TRequest : IMessage
    {
        public string Method => method;

        public TRequest Request => request;

        public Metadata[] Sign(int count)
        {
            var result = new Metadata[count];
            Span<byte> nonce = stackalloc byte[ApiRequestSigning.NonceSize];
            for (var i = 0; i < count; i++)
            {
                RandomNumberGenerator.Fill(nonce);
                var headers = new Metadata();
                foreach (var (key, value) in ApiRequestSigning.Sign(signer, chainId, method, request, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), nonce, Purpose))
                {
                    headers.Add(key, value);
                }

                result[i] = headers;
            }

            return result;
        }

        public Task InvokeAsync(Metadata headers) => invoke(request, headers);
    }
}
