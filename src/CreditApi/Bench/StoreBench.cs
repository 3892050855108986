using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SmartCity.CreditApi.Node;
using SmartCity.CreditApi.Services.Api;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Jobs.Audit;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;

namespace SmartCity.CreditApi.Bench;

/// <summary>What <c>smartcity bench store</c> measures over a filled setup.</summary>
/// <param name="Directory">A setup <c>bench fill</c> wrote (its node config names the store).</param>
/// <param name="Proofs">Random state keys of the fill proved after reopening (each receipt checked offline against the genesis).</param>
/// <param name="AuditChunkBlocks">Blocks per audit run: the job's runs, and where RSS is sampled.</param>
/// <param name="Phases">Which measurements to run after the restart: audit, verify-chain.</param>
/// <param name="CeilingSignatures">Signatures the 2-core batch verifier checks for the ceiling, each time.</param>
public sealed record StoreBenchOptions(string Directory, int Proofs, int AuditChunkBlocks, IReadOnlySet<string> Phases, int CeilingSignatures);

/// <summary>One RSS sample during a phase.</summary>
public sealed record MemorySample(string Phase, long Transactions, long RssMiB, long ManagedMiB);

/// <summary>
/// One measured rate beside the ceilings measured just before and after it; <c>CpuSeconds</c> is the process's CPU time
/// (all threads) during the phase, <c>CeilingCpuPerSignature</c> its CPU seconds per signature while the ceilings were
/// measured (the mean of before and after).
/// </summary>
public sealed record RatePhase(string Name, long Transactions, double Seconds, double PerSecond, double CeilingBefore, double CeilingAfter, string LoadAverage, IReadOnlyDictionary<string, double> StageSeconds,
    double CpuSeconds = 0, double CeilingCpuPerSignature = 0)
{
    public double Ceiling => (CeilingBefore + CeilingAfter) / 2;

    public double Fraction => PerSecond / Ceiling;

    /// <summary>CPU microseconds the phase spent per transaction (everything: read, decode, hashes, signature, checks, GC).</summary>
    public double CpuMicrosecondsPerTransaction => Transactions == 0 ? 0 : CpuSeconds * 1e6 / Transactions;

    /// <summary>
    /// The fraction by CPU cost: CPU per signature of the ceiling ÷ CPU per transaction of the phase. What
    /// <see cref="Fraction"/> tends to when both run with every core busy; unlike the wall-clock ratio it does not move
    /// with other processes' load, so it compares two builds measured at different loads.
    /// </summary>
    public double CpuFraction => CpuSeconds == 0 ? 0 : CeilingCpuPerSignature * 1e6 / CpuMicrosecondsPerTransaction;
}

/// <summary>Everything one run measured.</summary>
public sealed record StoreBenchReport(string Started, string Machine, string Store, long Head, long Transactions, double RestartSeconds, string RestartStages, double ProcessStartToOpenSeconds, string StateRootCheck,
    int ProofsVerified, long RssAfterOpenMiB, long RssAfterProofsMiB, long PeakRssMiB, string LoadAtRestart, IReadOnlyList<RatePhase> Rates, IReadOnlyList<MemorySample> Memory);

/// <summary>
/// The benchmarks over a large store (issues 9, 13 and 14, "Targets"): in a fresh process, the restart of a node on a
/// setup <see cref="StoreFill"/> wrote (store open + <see cref="LedgerNode.OpenAsync"/>, as <c>smartcity node</c> does), its
/// state root checked against the one the fill recorded and by proving random keys; the resident memory of that node;
/// then the chain audit (<see cref="ChainAuditor"/>, in runs as the job makes them) and VerifyChain
/// (<see cref="ChainVerifier"/>, what AuditService streams) over the whole chain, each beside the 2-core batch
/// signature-verification rate measured just before and just after it, with RSS sampled as they go.
/// </summary>
public sealed class StoreBench(StoreBenchOptions options, TextWriter log)
{
    public async Task<StoreBenchReport> RunAsync(CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var processStart = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        var summaryPath = Path.Combine(options.Directory, StoreFillSummary.FileName);
        if (!File.Exists(summaryPath))
        {
            throw new BenchSetupException($"{options.Directory} holds no finished fill ({StoreFillSummary.FileName} is missing): run `smartcity bench fill --store {options.Directory}` first");
        }

        var fill = JsonSerializer.Deserialize<StoreFillSummary>(await File.ReadAllTextAsync(summaryPath, cancellationToken).ConfigureAwait(false))!;

        // The restart: what LedgerRuntime does, timed from before the store opens to the node being open.
        var load = ClusterBench.LoadAverage();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using var startup = await NodeConfigLoader.LoadAsync(Path.Combine(options.Directory, "node-bj.json"), cancellationToken).ConfigureAwait(false);
        var curve = startup.Genesis.Crypto.CreateSuite().Signatures;
        var configSeconds = clock.Elapsed.TotalSeconds;
        ILedgerStore store = startup.Postgres is { } postgres
            ? await PostgresLedgerStore.OpenAsync(postgres, cancellationToken).ConfigureAwait(false)
            : await EmbeddedLedgerStore.OpenAsync(startup.Embedded!, cancellationToken).ConfigureAwait(false);
        var storeSeconds = clock.Elapsed.TotalSeconds - configSeconds;
        await using (store.ConfigureAwait(false))
        {
            var node = await LedgerNode.OpenAsync(
                new LedgerNodeSetup
                {
                    Genesis = startup.Genesis,
                    Store = store,
                    Curve = curve,
                    Consensus = startup.Sealer is { } sealer && SoloSealingEngine.Misfit(new Ledger.Blocks.ValidatorSet(startup.Genesis.Validators.Select(v => v.Address)), sealer) is null ? new SoloSealingEngine(sealer) : null,
                    Options = startup.Config.Limits,
                    ChainOptions = startup.Config.ToChainOptions(),
                },
                cancellationToken).ConfigureAwait(false);
            await using (node.ConfigureAwait(false))
            {
                var restart = clock.Elapsed.TotalSeconds;
                var restartCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                var sinceStart = (DateTimeOffset.UtcNow - processStart).TotalSeconds;
                var head = node.Head.Header;
                var rootCheck = head.Height == fill.Head && head.StateRoot.ToString() == fill.StateRoot
                    ? $"the reopened head {head.Height} has the state root the fill recorded ({fill.StateRoot}); its root node re-hashed on open"
                    : throw new BenchSetupException($"the reopened head {head.Height} with state root {head.StateRoot} is not the fill's head {fill.Head} with {fill.StateRoot}");
                var rssOpen = RssMiB();
                await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"restart: {startup.StoreKind} store, head {head.Height}, {head.HistorySize:N0} transactions, opened in {restart:F2} s (config and key {configSeconds:F2} s, store {storeSeconds:F2} s, chain and node {restart - configSeconds - storeSeconds:F2} s; CPU {restartCpu:F2} s; {sinceStart:F2} s since the process started); RSS {rssOpen:N0} MiB ({RssSplit()}); load {load}")).ConfigureAwait(false);

                var proved = await ProveAsync(node, curve, head.HistorySize, cancellationToken).ConfigureAwait(false);
                var rssProofs = RssMiB();
                await log.WriteLineAsync($"state proofs: {proved:N0} random keys of the fill proved and each receipt verified offline; RSS {rssProofs:N0} MiB ({RssSplit()})").ConfigureAwait(false);
                rootCheck += $"; {proved:N0} random keys proved against it";

                var memory = new List<MemorySample> { new("after restart", head.HistorySize, rssOpen, GC.GetTotalMemory(false) >> 20), new("after proofs", head.HistorySize, rssProofs, GC.GetTotalMemory(false) >> 20) };
                var rates = new List<RatePhase>();
                var sample = await SampleAsync(store, startup.Genesis, node, cancellationToken).ConfigureAwait(false);
                var ceiling = Ceiling(sample, curve);
                if (options.Phases.Contains("audit"))
                {
                    var phaseCpu = ProcessCpuSeconds();
                    var (seconds, stages) = await AuditAsync(store, startup.Genesis, curve, head.HistorySize, memory, cancellationToken).ConfigureAwait(false);
                    phaseCpu = ProcessCpuSeconds() - phaseCpu;
                    var after = Ceiling(sample, curve);
                    rates.Add(new RatePhase("ChainAuditJob (ChainAuditor, job-sized runs)", head.HistorySize, seconds, head.HistorySize / seconds, ceiling.Rate, after.Rate, ClusterBench.LoadAverage(), stages,
                        phaseCpu, (ceiling.CpuPerSignature + after.CpuPerSignature) / 2));
                    ceiling = after;
                }

                if (options.Phases.Contains("verify-chain"))
                {
                    var phaseCpu = ProcessCpuSeconds();
                    var (seconds, stages) = await VerifyChainAsync(node, curve, head.HistorySize, memory, cancellationToken).ConfigureAwait(false);
                    phaseCpu = ProcessCpuSeconds() - phaseCpu;
                    var after = Ceiling(sample, curve);
                    rates.Add(new RatePhase("VerifyChain (ChainVerifier, AuditService's stream)", head.HistorySize, seconds, head.HistorySize / seconds, ceiling.Rate, after.Rate, ClusterBench.LoadAverage(), stages,
                        phaseCpu, (ceiling.CpuPerSignature + after.CpuPerSignature) / 2));
                }

                foreach (var rate in rates)
                {
                    await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{rate.Name}: {rate.Transactions:N0} tx in {rate.Seconds:F1} s = {rate.PerSecond:N0} tx/s; ceiling {rate.CeilingBefore:N0} / {rate.CeilingAfter:N0} signatures/s before / after; {rate.Fraction:P0} of it (load {rate.LoadAverage}); by CPU: {rate.CpuMicrosecondsPerTransaction:F1} µs per transaction, {rate.CeilingCpuPerSignature * 1e6:F1} µs per signature, {rate.CpuFraction:P0}")).ConfigureAwait(false);
                }

                return new StoreBenchReport(started.ToString("u", CultureInfo.InvariantCulture), Machine(), startup.StoreKind, head.Height, head.HistorySize, Math.Round(restart, 3),
                    $"config and key {configSeconds:F2} s, store {storeSeconds:F2} s, chain and node {restart - configSeconds - storeSeconds:F2} s; CPU {restartCpu:F2} s", Math.Round(sinceStart, 3), rootCheck,
                    proved, rssOpen, rssProofs, PeakRssMiB(), load, rates, memory);
            }
        }
    }

    /// <summary>Proves <see cref="StoreBenchOptions.Proofs"/> random credit records of the fill at the head; each receipt is checked as a bank would.</summary>
    private async Task<int> ProveAsync(LedgerNode node, ISignatureScheme curve, long size, CancellationToken cancellationToken)
    {
        var random = new Random(9);
        var proved = 0;
        for (var k = 0; k < options.Proofs; k++)
        {
            var i = random.NextInt64(size);
            i -= i % 10 is 8 or 9 ? 2 : 0; // positions 8 and 9 of ten are a licence and a list entry
            var key = StateKeys.Record(node.Suite.Hash(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"bench/fill/{i}"))));
            var receipt = await node.ProveStateAsync(key, cancellationToken).ConfigureAwait(false);
            var verdict = ReceiptVerifier.Verify(receipt, node.Anchor, curve);
            if (receipt.Value is null || !verdict.IsValid)
            {
                throw new BenchSetupException($"record {key} of the fill: {(receipt.Value is null ? "absent at the head" : $"its receipt does not verify: {verdict}")}");
            }

            proved++;
        }

        return proved;
    }

    /// <summary>Signatures of stored transactions spread over the chain (a block every so often), for the ceiling.</summary>
    private async Task<SignedDigest[]> SampleAsync(ILedgerStore store, GenesisDocument genesis, LedgerNode node, CancellationToken cancellationToken)
    {
        var digests = new List<SignedDigest>(options.CeilingSignatures);
        var headHeight = node.Head.Header.Height;
        var step = Math.Max(1, headHeight / 16);
        for (var height = 1L; height <= headHeight && digests.Count < options.CeilingSignatures; height += step)
        {
            var block = await store.GetBlockAsync(height, cancellationToken).ConfigureAwait(false) ?? throw new BenchSetupException($"block {height} is missing");
            foreach (var tx in block.Transactions)
            {
                digests.Add(TransactionIntake.Decode(tx.Bytes, genesis.ChainId, node.Domain, genesis.Parameters.MaxTransactionBytes).Transaction!.SignedDigest);
            }
        }

        while (digests.Count < options.CeilingSignatures && digests.Count > 0)
        {
            digests.AddRange(digests.Take(options.CeilingSignatures - digests.Count).ToList()); // a short chain: the same signatures again
        }

        return [.. digests.Take(options.CeilingSignatures)];
    }

    /// <summary>The 2-core ceiling: signatures per second of the batch verifier on all cores, no cache; and the process's CPU seconds per signature meanwhile.</summary>
    private static (double Rate, double CpuPerSignature) Ceiling(SignedDigest[] sample, ISignatureScheme curve)
    {
        var verifier = new SignatureBatchVerifier(curve, cache: null);
        var results = new SignatureCheck[sample.Length];
        verifier.Verify(sample.AsSpan(0, Math.Min(500, sample.Length)), results); // warm
        var cpu = ProcessCpuSeconds();
        var clock = Stopwatch.StartNew();
        verifier.Verify(sample, results);
        var seconds = clock.Elapsed.TotalSeconds;
        cpu = ProcessCpuSeconds() - cpu;
        return Array.Exists(results, r => r != SignatureCheck.Ok)
            ? throw new BenchSetupException("a stored transaction's signature does not verify")
            : (sample.Length / seconds, cpu / sample.Length);
    }

    private static double ProcessCpuSeconds()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }

    private async Task<(double Seconds, IReadOnlyDictionary<string, double> Stages)> AuditAsync(ILedgerStore store, GenesisDocument genesis, ISignatureScheme curve, long size, List<MemorySample> memory, CancellationToken cancellationToken)
    {
        var auditor = new ChainAuditor(genesis, curve);
        var checkpoint = AuditCheckpoint.Start;
        var clock = Stopwatch.StartNew();
        var nextReport = 100_000L;
        while (true)
        {
            var run = await auditor.RunAsync(store, checkpoint, options.AuditChunkBlocks, cancellationToken).ConfigureAwait(false);
            if (!run.IsIntact)
            {
                throw new BenchSetupException($"the chain audit found block {run.DamagedHeight} damaged: {run.Damage}");
            }

            checkpoint = run.Checkpoint;
            if (checkpoint.Transactions >= nextReport || checkpoint.Height >= run.Head)
            {
                var rss = RssMiB();
                memory.Add(new MemorySample("chain audit", checkpoint.Transactions, rss, GC.GetTotalMemory(false) >> 20));
                await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  audit: {checkpoint.Transactions:N0} tx (block {checkpoint.Height}) in {clock.Elapsed.TotalSeconds:F1} s, {checkpoint.Transactions / clock.Elapsed.TotalSeconds:N0} tx/s; RSS {rss:N0} MiB; load {ClusterBench.LoadAverage()}")).ConfigureAwait(false);
                nextReport = (checkpoint.Transactions / 100_000 + 1) * 100_000;
            }

            if (checkpoint.Height >= run.Head)
            {
                break;
            }
        }

        var seconds = clock.Elapsed.TotalSeconds;
        return checkpoint.Transactions != size
            ? throw new BenchSetupException($"the audit covered {checkpoint.Transactions:N0} transactions, the chain holds {size:N0}")
            : (seconds, auditor.Stages.Seconds());
    }

    private async Task<(double Seconds, IReadOnlyDictionary<string, double> Stages)> VerifyChainAsync(LedgerNode node, ISignatureScheme curve, long size, List<MemorySample> memory, CancellationToken cancellationToken)
    {
        var verifier = new ChainVerifier(node, curve);
        var clock = Stopwatch.StartNew();
        long transactions = 0, nextReport = 100_000;
        await foreach (var verdict in verifier.VerifyAsync(0, node.Head.Header.Height, cancellationToken).ConfigureAwait(false))
        {
            if (verdict.Verdict != Contracts.Audit.V1.BlockVerdict.Valid)
            {
                throw new BenchSetupException($"VerifyChain found block {verdict.Height} invalid: {verdict.Reason}");
            }

            transactions = verdict.TransactionsChecked;
            if (transactions >= nextReport)
            {
                var rss = RssMiB();
                memory.Add(new MemorySample("VerifyChain", transactions, rss, GC.GetTotalMemory(false) >> 20));
                await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  VerifyChain: {transactions:N0} tx (block {verdict.Height}) in {clock.Elapsed.TotalSeconds:F1} s, {transactions / clock.Elapsed.TotalSeconds:N0} tx/s; RSS {rss:N0} MiB; load {ClusterBench.LoadAverage()}")).ConfigureAwait(false);
                nextReport = (transactions / 100_000 + 1) * 100_000;
            }
        }

        var seconds = clock.Elapsed.TotalSeconds;
        return transactions != size
            ? throw new BenchSetupException($"VerifyChain covered {transactions:N0} transactions, the chain holds {size:N0}")
            : (seconds, verifier.Stages.Seconds());
    }

    internal static long RssMiB() => ProcStatusKiB("VmRSS:") >> 10;

    private static long PeakRssMiB() => ProcStatusKiB("VmHWM:") >> 10;

    // What the resident memory is: the process's own (anonymous: heaps, tables) and pages of files it maps (the
    // embedded store's sorted locator base, read in place: page cache the kernel can drop and read again).
    private static string RssSplit() => string.Create(CultureInfo.InvariantCulture, $"anonymous {ProcStatusKiB("RssAnon:") >> 10:N0} MiB, mapped files {ProcStatusKiB("RssFile:") >> 10:N0} MiB");

    private static long ProcStatusKiB(string field)
    {
        if (!File.Exists("/proc/self/status"))
        {
            return Environment.WorkingSet >> 10;
        }

        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private static string Machine() => string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");

    /// <summary>The report as Markdown tables (docs/benchmarks).</summary>
    public static string Markdown(StoreBenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"`smartcity bench store` — {report.Started}, {report.Machine}; {report.Store} store, head {report.Head}, {report.Transactions:N0} transactions").AppendLine();
        md.AppendLine("| measurement | result | load average |").AppendLine("| --- | ---: | ---: |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| restart: config + store open + node open | {report.RestartSeconds:F2} s ({report.RestartStages}; {report.ProcessStartToOpenSeconds:F2} s since the process started) | {report.LoadAtRestart} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| state root after reopening | {report.StateRootCheck} | |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| RSS after reopening / after {report.ProofsVerified:N0} proofs / peak of the run | {report.RssAfterOpenMiB:N0} / {report.RssAfterProofsMiB:N0} / {report.PeakRssMiB:N0} MiB | |");
        foreach (var rate in report.Rates)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {rate.Name} | {rate.PerSecond:N0} tx/s ({rate.Seconds:F1} s) = **{rate.Fraction:P0}** of the 2-core batch verify rate ({rate.CeilingBefore:N0} before, {rate.CeilingAfter:N0} after, signatures/s) | {rate.LoadAverage} |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| … by CPU time | {rate.CpuMicrosecondsPerTransaction:F1} µs of CPU per transaction, the ceiling {rate.CeilingCpuPerSignature * 1e6:F1} µs per signature = **{rate.CpuFraction:P0}** | |");
        }

        md.AppendLine().AppendLine("| phase | transactions | RSS MiB | managed heap MiB |").AppendLine("| --- | ---: | ---: | ---: |");
        foreach (var sample in report.Memory)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {sample.Phase} | {sample.Transactions:N0} | {sample.RssMiB:N0} | {sample.ManagedMiB:N0} |");
        }

        foreach (var rate in report.Rates.Where(r => r.StageSeconds.Count > 0))
        {
            md.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"{rate.Name}, where the time goes (seconds; reader and in-order checks: their thread's wall time; workers: their threads' times summed):").AppendLine();
            md.AppendLine("| stage | s | µs per tx |").AppendLine("| --- | ---: | ---: |");
            foreach (var (stage, seconds) in rate.StageSeconds)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {stage} | {seconds:F2} | {seconds * 1e6 / rate.Transactions:F1} |");
            }
        }

        return md.ToString();
    }
}
