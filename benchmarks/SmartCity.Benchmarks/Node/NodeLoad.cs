using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;

namespace SmartCity.Benchmarks.Node;

/// <summary>
/// The node load tool: one single-validator node (the development mode: it seals its own blocks), on the embedded
/// store with fsync per block or on PostgreSQL, fed by concurrent clients with pre-signed credit records from many
/// members. Every transaction's signature is verified on admission (no cache is warm: each is new) and each block is
/// durable before its transactions count as committed. Reported beside the ceiling measured in the same run: the
/// machine's batch verify rate on all cores, which no node verifying every signature once can exceed.
/// <code>
/// node [--tx 100000] [--signers 200] [--subjects 100000] [--window 4000] [--warmup tx/5] [--crypto eth|gm|both] [--store embedded|postgres] [--retention N] [--cache-mib N] [--head-mib N] [--memory-mib N] [--intake N] [--dir DIR] [--pg CONNECTION] [--json FILE] [--alloc-types N]
/// </code>
/// <c>--window</c> bounds the transactions submitted but not yet committed (a closed loop of clients): too small
/// starves the writer, too large only adds queueing latency. <c>--crypto</c> is the chain's suite (genesis
/// <c>"crypto"</c>): eth (Keccak-256, secp256k1 recovery) or gm (SM3, SM2 verify against the carried key); <c>both</c>
/// runs eth then gm in the same process, each with its own ceiling, and prints them side by side. <c>--alloc-types N</c>
/// adds the N types the measured part allocated most (sampled from the runtime's GC allocation ticks).
/// <c>--retention N</c> keeps the state versions of the newest N blocks (the node's <c>retention.stateVersions</c>;
/// 0, the default, keeps every version, as the node's default does). <c>--cache-mib N</c> sizes the node's state-node
/// cache and <c>--head-mib N</c> its head state cache (the node's <c>memory.stateNodeCacheMiB</c> and
/// <c>memory.headStateCacheMiB</c>; defaults as the node's). <c>--memory-mib N</c> is the node's memory budget (its
/// <c>memory.limitMiB</c>, default 1024 as the node's; 0 runs without one), kept on top of what the tool's own clients
/// hold when the node opens (the signed transactions, measured as the growth of the resident memory while they were
/// made): a node process does not hold them. <c>--intake N</c> sets the node's
/// <c>IntakeConcurrency</c> (single submissions decoded and verified at once; default: cores − 1).
/// </summary>
public static class NodeLoad
{
    private const string Usage = "node [--tx 100000] [--signers 200] [--subjects 100000] [--window 4000] [--warmup tx/5] [--crypto eth|gm|both] [--store embedded|postgres] [--retention N] [--cache-mib N] [--head-mib N] [--memory-mib N] [--intake N] [--dir DIR] [--pg CONNECTION] [--json FILE] [--alloc-types N]";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Any(a => a is "--help" or "-h"))
        {
            Console.WriteLine(Usage);
            return 0;
        }

        var options = Parse(args);
        CryptoSuiteId[] suites = options.GetValueOrDefault("crypto", "eth") switch
        {
            "eth" => [CryptoSuiteId.Eth],
            "gm" => [CryptoSuiteId.Gm],
            "both" => [CryptoSuiteId.Eth, CryptoSuiteId.Gm],
            var other => throw new ArgumentException($"--crypto {other}: expected eth, gm or both"),
        };

        var runs = new List<SuiteRun>();
        foreach (var suite in suites)
        {
            runs.Add(await RunSuiteAsync(options, suite, suites.Length > 1).ConfigureAwait(false));
        }

        if (runs.Count > 1)
        {
            Console.WriteLine(Comparison(runs));
        }

        if (options.GetValueOrDefault("json") is { } json)
        {
            await File.WriteAllTextAsync(json, runs.Count == 1 ? runs[0].Json : "[" + string.Join(",", runs.Select(r => r.Json)) + "]").ConfigureAwait(false);
        }

        return runs.All(r => r.Rejected == 0) ? 0 : 1;
    }

    // The process's resident memory once the garbage is gone (a compacting collection first).
    private static long SettledResidentBytes()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return Environment.WorkingSet;
    }

    private sealed record SuiteRun(CryptoSuiteId Suite, double Throughput, double Ceiling, double CpuPerTxUs, double VerifyPerTxUs, double P50Ms, double P99Ms, long Rejected, string Json);

    private static async Task<SuiteRun> RunSuiteAsync(Dictionary<string, string> options, CryptoSuiteId suiteId, bool several)
    {
        var total = Int(options, "tx", 100_000);
        var signerCount = Int(options, "signers", 200);
        var window = Int(options, "window", 4_000);
        var suite = CryptoSuite.Create(suiteId, logger: null);
        var curve = suite.Signatures;
        Console.WriteLine($"== crypto suite {suite.Name}: {curve.Name}; {Environment.ProcessorCount} cores; load average {LoadAverage()}");
        if (curve is ManagedSecp256k1 or SmartCity.Ledger.Crypto.Gm.ManagedSm2)
        {
            // The targets are measured with the native library; a fresh machine without it would otherwise report a
            // rate 5-34x lower in signature checks and no word on why.
            Console.Error.WriteLine($"WARNING: the native library for the {suite.Name} suite did not load, so this run verifies with the fallback, {curve.Name}, several times slower. "
                + "Install it (Debian: apt-get install libsecp256k1-1 for eth, libssl3 for gm; scripts/bench.sh does) to measure what the README reports.");
        }

        var residentBefore = SettledResidentBytes();
        var (genesis, signers, validatorKey) = Consortium(signerCount, suite);
        using var validator = validatorKey;
        Console.WriteLine($"signing {total} credit records from {signerCount} members…");
        var subjects = Int(options, "subjects", 100_000);
        var transactions = Sign(genesis, suite, signers, total, subjects);

        var ceiling = MeasureVerifyCeiling(curve, genesis, suite, transactions);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ceiling: batch verify on {Environment.ProcessorCount} cores = {ceiling:F0} signatures/s"));
        var clientBytes = Math.Max(0, SettledResidentBytes() - residentBefore);

        var (opened, scratch) = await OpenStoreAsync(options, several ? suite.Name : null).ConfigureAwait(false);
        try
        {
            return await RunOnStoreAsync(options, suiteId, suite, genesis, validator, new TimedStore(opened), transactions, ceiling, total, window, signerCount, clientBytes).ConfigureAwait(false);
        }
        finally
        {
            if (scratch is not null)
            {
                Directory.Delete(scratch, recursive: true); // a data directory of our own (no --dir): hundreds of MB
            }
        }
    }

    private static async Task<SuiteRun> RunOnStoreAsync(Dictionary<string, string> options, CryptoSuiteId suiteId, CryptoSuite suite, GenesisDocument genesis, InMemorySigner validator,
        TimedStore store, List<(int Signer, byte[] Bytes)> transactions, double ceiling, int total, int window, int signerCount, long clientBytes)
    {
        var curve = suite.Signatures;
        var anchor = TrustAnchor.FromGenesis(genesis);
        await using (var node = await LedgerNode.OpenAsync(
            new LedgerNodeSetup
            {
                Genesis = genesis,
                Store = store,
                Curve = curve,
                Consensus = new SoloSealingEngine(new SignerBlockSealer(validator, anchor.DomainSeparator)),
                Options = new LedgerNodeOptions { MempoolCapacity = Math.Max(window * 2, 10_000), IntakeConcurrency = Int(options, "intake", 0) is > 0 and var intake ? intake : null },
                ChainOptions = new LedgerChainOptions
                {
                    StateRetentionBlocks = Int(options, "retention", 0) is > 0 and var keep ? keep : LedgerChainOptions.Default.StateRetentionBlocks,
                    StateNodeCacheBytes = Int(options, "cache-mib", 0) is > 0 and var cacheMiB ? cacheMiB * (1L << 20) : LedgerChainOptions.Default.StateNodeCacheBytes,
                    HeadStateCacheBytes = Int(options, "head-mib", 0) is > 0 and var headMiB ? headMiB * (1L << 20) : LedgerChainOptions.Default.HeadStateCacheBytes,
                    StateLayout = options.TryGetValue("state-layout", out var layout) ? Enum.Parse<Ledger.State.StateTreeLayout>(layout, ignoreCase: true) : LedgerChainOptions.Default.StateLayout,
                },
            },
            CancellationToken.None).ConfigureAwait(false))
        {
            var warmup = Int(options, "warmup", total / 5);
            var allocationTypes = Int(options, "alloc-types", 0);
            using var allocations = allocationTypes > 0 ? new AllocationSampler() : null;

            // The node's memory budget (memory.limitMiB), as `smartcity node` keeps it, over what the clients hold;
            // --memory-mib 0 runs without.
            var limitMiB = Int(options, "memory-mib", 1024);
            var governor = limitMiB > 0 ? new MemoryGovernor(new MemoryBudget((limitMiB * (1L << 20)) + clientBytes), node.ResizeCaches, NullLogger.Instance).Start() : null;
            if (governor is not null)
            {
                Console.WriteLine($"memory budget: {limitMiB:N0} MiB for the node over the {clientBytes >> 20:N0} MiB its clients hold");
            }

            DriveResult result;
            try
            {
                result = await DriveAsync(node, store, transactions, window, warmup, allocations).ConfigureAwait(false);
            }
            finally
            {
                if (governor is not null)
                {
                    await governor.DisposeAsync().ConfigureAwait(false);
                }
            }

            var report = Report(options, suite, node, store, result, ceiling, total, window, signerCount);
            Console.WriteLine(report.Markdown);
            Console.WriteLine(governor?.Describe() ?? "memory budget: off (--memory-mib 0)");
            Console.WriteLine();
            if (allocations is not null)
            {
                Console.WriteLine("| allocated type (sampled GC allocation ticks, measured part) | share of the bytes |");
                Console.WriteLine("| --- | ---: |");
                foreach (var (type, share) in allocations.Top(allocationTypes))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {type} | {share:P1} |"));
                }

                Console.WriteLine();
            }
            var committed = Math.Max(1, result.Committed);
            var latencies = result.LatenciesMs.Order().ToList();
            double Percentile(double p) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(latencies.Count * p))];
            var run = new SuiteRun(suiteId, result.Committed / result.Elapsed.TotalSeconds, ceiling, result.Cpu.TotalMicroseconds / committed, node.Timers.Cpu(NodeStage.Verify).TotalMicroseconds / committed, Percentile(0.5), Percentile(0.99), result.Rejected, report.Json);
            transactions.Clear();
            return run;
        }
    }

    /// <summary>The two suites' runs side by side, gm relative to eth.</summary>
    private static string Comparison(List<SuiteRun> runs)
    {
        var c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("== eth and gm, same process, one after the other");
        md.AppendLine();
        md.AppendLine("| suite | committed tx/s | verify ceiling (signatures/s, all cores) | fraction of the ceiling | CPU per committed tx | of which signature verify | p50 / p99 submit-to-commit |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in runs)
        {
            md.AppendLine(c, $"| {r.Suite.ToName()} | {r.Throughput:F0} | {r.Ceiling:F0} | {r.Throughput / r.Ceiling:P0} | {r.CpuPerTxUs:F0} µs | {r.VerifyPerTxUs:F0} µs | {r.P50Ms:F0} / {r.P99Ms:F0} ms |");
        }

        if (runs.Find(r => r.Suite == CryptoSuiteId.Eth) is { } eth && runs.Find(r => r.Suite == CryptoSuiteId.Gm) is { } gm)
        {
            md.AppendLine();
            md.AppendLine(c, $"gm / eth: committed tx/s {gm.Throughput / eth.Throughput:P0} ({1 - (gm.Throughput / eth.Throughput):P0} lower), verify ceiling {gm.Ceiling / eth.Ceiling:P0}, CPU per tx {gm.CpuPerTxUs / eth.CpuPerTxUs:F2}x, signature verify per tx {gm.VerifyPerTxUs / eth.VerifyPerTxUs:F2}x");
        }

        return md.ToString();
    }

    /// <summary>
    /// The sample genesis in <paramref name="suite"/> with one validator (seed 101, its address in the suite) and
    /// <paramref name="count"/> extra Beijing credit designators; the sample's own members are kept (they do not sign here).
    /// </summary>
    private static (GenesisDocument Genesis, List<InMemorySigner> Keys, InMemorySigner Validator) Consortium(int count, CryptoSuite suite)
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "genesis", "sample-genesis.json"));
        var sample = GenesisLoader.Load(text).Document ?? throw new InvalidOperationException("sample genesis does not load");
        var keys = new List<InMemorySigner>();
        var members = new List<GenesisMember>(sample.Members);
        for (var i = 0; i < count; i++)
        {
            var key = Key(10_000 + i, suite);
            keys.Add(key);
            var first17 = string.Create(CultureInfo.InvariantCulture, $"11110000MB{i:D7}");
            var uscc = UnifiedSocialCreditCode.Parse(first17 + UnifiedSocialCreditCode.CheckCharacter(first17)).Value;
            members.Add(new GenesisMember(key.Address, uscc, $"load member {i}", "BJ", MemberRole.CreditDesignator));
        }

        var validator = Key(101, suite);
        var crypto = suite.Id == CryptoSuiteId.Gm ? GenesisCrypto.Gm : GenesisCrypto.Eth;
        return (sample with { Members = members, Validators = [sample.Validators[0] with { Address = validator.Address }], Crypto = crypto }, keys, validator);
    }

    private static InMemorySigner Key(int seed, CryptoSuite suite)
    {
        Span<byte> key = stackalloc byte[32];
        key.Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(key[28..], seed);
        return new InMemorySigner(key, suite.Signatures);
    }

    /// <summary>Signer i's transactions in nonce order; signers interleave, so clients advance them together.</summary>
    private static List<(int Signer, byte[] Bytes)> Sign(GenesisDocument genesis, CryptoSuite suite, List<InMemorySigner> keys, int total, int subjects)
    {
        // Record i is about enterprise i mod subjects: a credit bureau's records are spread over many subjects, and a
        // subject's index (subject/{uscc}, rewritten with each of its records) stays the size of its own history.
        var codes = new string[Math.Max(1, Math.Min(subjects, total))];
        for (var s = 0; s < codes.Length; s++)
        {
            var first17 = string.Create(CultureInfo.InvariantCulture, $"91350100M{s:D8}");
            codes[s] = "uscc:" + first17 + UnifiedSocialCreditCode.CheckCharacter(first17);
        }

        var domain = genesis.Domain(suite);
        var decided = LedgerTime.ToUnixSeconds(genesis.GenesisTime);
        var result = new (int, byte[])[total];
        Parallel.For(0, total, i =>
        {
            var signer = i % keys.Count;
            var nonce = (ulong)(i / keys.Count);
            var id = suite.Hash(Encoding.UTF8.GetBytes($"load/{i}"));
            var body = new CreditRecordSubmit(id, codes[i % codes.Length], RecordCategory.AdministrativePenalty, Severity.Moderate, "110105", decided, 6, "Administrative Penalty Law, art. 28", "", id);
            result[i] = (signer, TransactionCodec.Encode(SignedTransaction.Sign(keys[signer], domain, genesis.ChainId, nonce, body)));
        });
        return [.. result];
    }

    /// <summary>Signatures per second the batch verifier checks on all cores, with no cache: the node's ceiling.</summary>
    private static double MeasureVerifyCeiling(ISignatureScheme curve, GenesisDocument genesis, CryptoSuite suite, List<(int Signer, byte[] Bytes)> transactions)
    {
        var domain = genesis.Domain(suite);
        var sample = transactions.Take(Math.Min(20_000, transactions.Count))
            .Select(t => TransactionIntake.Decode(t.Bytes, genesis.ChainId, domain, genesis.Parameters.MaxTransactionBytes).Transaction!.SignedDigest)
            .ToArray();
        var verifier = new SignatureBatchVerifier(curve);
        var results = new SignatureCheck[sample.Length];
        verifier.Verify(sample.AsSpan(0, Math.Min(1000, sample.Length)), results); // warm-up
        var clock = Stopwatch.StartNew();
        verifier.Verify(sample, results);
        clock.Stop();
        if (Array.Exists(results, r => r != SignatureCheck.Ok))
        {
            throw new InvalidOperationException("a signed transaction does not verify");
        }

        return sample.Length / clock.Elapsed.TotalSeconds;
    }

    private sealed record DriveResult(long Committed, long Rejected, TimeSpan Elapsed, TimeSpan Cpu, List<double> LatenciesMs, long MempoolFullRetries, long Blocks, TimeSpan GcPause, long AllocatedBytes, int[] Collections, Dictionary<string, TimeSpan> CpuByThreadKind, TimeSpan JitTime, long JitMethods, IReadOnlyList<CollectionSample> SampledCollections);

    /// <summary>One garbage collection as <see cref="GC.GetGCMemoryInfo(GCKind)"/> describes it.</summary>
    private readonly record struct CollectionSample(long Index, int Generation, bool Background, double PromotedMiB, double PauseMs);

    /// <summary>
    /// The GC's own account of its recent collections, read every 250 ms with the thread times: the last ephemeral,
    /// full blocking and background collection each time (so two collections of a kind within 250 ms show as one). The
    /// bytes a collection promotes are what its pause copies and marks: unlike throughput, they do not depend on the
    /// host's speed state, so they compare builds run minutes apart.
    /// </summary>
    private sealed class CollectionSampler
    {
        private readonly ConcurrentDictionary<long, CollectionSample> _seen = new();
        private long _measuredFrom = long.MaxValue;

        public void Sample()
        {
            foreach (var kind in (ReadOnlySpan<GCKind>)[GCKind.Ephemeral, GCKind.FullBlocking, GCKind.Background])
            {
                var info = GC.GetGCMemoryInfo(kind);
                if (info.Index > 0)
                {
                    var pause = info.PauseDurations.Length > 0 ? info.PauseDurations[0] + info.PauseDurations[1] : TimeSpan.Zero;
                    _seen.TryAdd(info.Index, new CollectionSample(info.Index, info.Generation, info.Concurrent, info.PromotedBytes / 1048576.0, pause.TotalMilliseconds));
                }
            }
        }

        public void StartMeasuring() => Interlocked.Exchange(ref _measuredFrom, GC.GetGCMemoryInfo(GCKind.Any).Index + 1);

        public IReadOnlyList<CollectionSample> Measured() => [.. _seen.Values.Where(s => s.Index >= Interlocked.Read(ref _measuredFrom)).OrderBy(s => s.Index)];
    }

    /// <summary>What the process had used when the measured part of the run began.</summary>
    private sealed record Baseline(long Timestamp, TimeSpan Cpu, TimeSpan GcPause, long Allocated, int[] Collections, long Committed, long Blocks, Dictionary<int, (string Name, long Ticks)> Threads, TimeSpan JitTime, long JitMethods)
    {
        public static Baseline Take(long committed, long blocks) => new(
            Stopwatch.GetTimestamp(), Process.GetCurrentProcess().TotalProcessorTime, GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes(),
            [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)], committed, blocks, ThreadTimes(),
            System.Runtime.JitInfo.GetCompilationTime(currentThread: false), System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false));
    }

    /// <summary>
    /// CPU time (user + system, in clock ticks of 10 ms) of every thread of this process by thread id, with the thread's
    /// name (Linux: /proc/self/task; empty elsewhere). Grouped by name it says where the time the stage timers do not
    /// see goes: the thread pool (load clients, decode and verify), the writer, the store's append thread, the GC's threads.
    /// </summary>
    private static Dictionary<int, (string Name, long Ticks)> ThreadTimes()
    {
        var threads = new Dictionary<int, (string, long)>();
        if (!Directory.Exists("/proc/self/task"))
        {
            return threads;
        }

        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var close = stat.LastIndexOf(')');
                var open = stat.IndexOf('(', StringComparison.Ordinal);
                var fields = stat[(close + 2)..].Split(' ');
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                threads[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = (stat[(open + 1)..close], ticks);
            }
            catch (IOException)
            {
                // the thread ended meanwhile
            }
        }

        return threads;
    }

    /// <summary>
    /// CPU time per kind of thread between the start of the measurement and its end: each thread's last sample (the
    /// end snapshot, or the sampler's last look before the thread ended) minus its ticks at the start. Threads come and
    /// go (the thread pool retires idle workers, the append threads end after 30 s idle), so a thread that
    /// ended loses at most one sampling period.
    /// </summary>
    private static Dictionary<string, TimeSpan> CpuByThreadKind(Baseline start, IReadOnlyDictionary<int, (string Name, long Ticks, long At)> lastSeen)
    {
        var byKind = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var (id, (name, ticks, at)) in lastSeen)
        {
            if (at < start.Timestamp)
            {
                continue; // ended before the measurement began
            }

            var before = start.Threads.TryGetValue(id, out var s) && s.Name == name ? s.Ticks : 0;
            var kind = name.StartsWith(".NET TP Worker", StringComparison.Ordinal) ? "thread pool (load clients, decode, verify, the writer's async loop)"
                : name.StartsWith("ledger-append", StringComparison.Ordinal) ? "append threads (the store's appends; the writer goes on where an append finished)"
                : name.Contains("GC", StringComparison.Ordinal) ? "GC threads (" + name + ")"
                : name;
            byKind[kind] = byKind.GetValueOrDefault(kind) + TimeSpan.FromMilliseconds((ticks - before) * 10.0);
        }

        return byKind;
    }

    /// <summary>
    /// One client task per signer submits that signer's transactions in nonce order; a shared window bounds the
    /// transactions in flight. Commit times come from the node's block subscription (submit-to-commit latency). The
    /// first <paramref name="warmup"/> committed transactions only warm the process up (JIT tiers, caches, heap); the
    /// measurement covers the rest.
    /// </summary>
    private static async Task<DriveResult> DriveAsync(LedgerNode node, TimedStore store, List<(int Signer, byte[] Bytes)> transactions, int window, int warmup, AllocationSampler? allocations)
    {
        var submittedAt = new ConcurrentDictionary<Hash256, long>();
        var latencies = new List<double>(transactions.Count);
        var inFlight = new SemaphoreSlim(window, window);
        var committed = 0L;
        var rejected = 0L;
        var retries = 0L;
        var blocks = 0L;
        Baseline? measured = null;
        var startHeight = node.Head.Height;
        using var watchStop = new CancellationTokenSource();
        var allCommitted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Samples every thread's CPU time, so threads that end during the run still count (CpuByThreadKind).
        var lastSeen = new ConcurrentDictionary<int, (string Name, long Ticks, long At)>();
        var collections = new CollectionSampler();
        var sampler = Task.Run(async () =>
        {
            while (!watchStop.IsCancellationRequested)
            {
                var at = Stopwatch.GetTimestamp();
                foreach (var (id, (name, ticks)) in ThreadTimes())
                {
                    lastSeen[id] = (name, ticks, at);
                }

                collections.Sample();

                await Task.Delay(250).ConfigureAwait(false);
            }
        });

        var watcher = Task.Run(async () =>
        {
            try
            {
                await foreach (var block in node.WatchAsync(startHeight + 1, watchStop.Token).ConfigureAwait(false))
                {
                    var now = Stopwatch.GetTimestamp();
                    blocks++;
                    foreach (var id in block.TransactionIds)
                    {
                        var spinner = default(SpinWait);
                        long at;
                        while (!submittedAt.TryRemove(id, out at))
                        {
                            spinner.SpinOnce(); // the submitter records the time right after admission returns
                        }

                        if (measured is not null)
                        {
                            latencies.Add(Stopwatch.GetElapsedTime(at, now).TotalMilliseconds);
                        }
                    }

                    if (block.TransactionIds.Count > 0)
                    {
                        inFlight.Release(block.TransactionIds.Count); // one release per block: the window reopens as the block commits
                    }

                    var total = Interlocked.Add(ref committed, block.TransactionIds.Count);
                    if (measured is null && total >= warmup)
                    {
                        node.Timers.Reset();
                        store.Reset();
                        allocations?.Record();
                        measured = Baseline.Take(total, blocks);
                        collections.StartMeasuring();
                    }

                    if (total + Interlocked.Read(ref rejected) >= transactions.Count)
                    {
                        allCommitted.TrySetResult();
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        var bySigner = transactions.GroupBy(t => t.Signer).Select(g => g.Select(t => t.Bytes).ToList()).ToList();
        GC.Collect();
        var clients = bySigner.Select(queue => Task.Run(async () =>
        {
            foreach (var bytes in queue)
            {
                await inFlight.WaitAsync().ConfigureAwait(false);
                var started = Stopwatch.GetTimestamp();
                while (true)
                {
                    var result = await node.SubmitAsync(bytes, waitForCommit: false, CancellationToken.None).ConfigureAwait(false);
                    if (result.IsAccepted)
                    {
                        submittedAt[result.Id] = started;
                        break;
                    }

                    if (result.Code is AdmissionCode.MempoolFull or AdmissionCode.SignerQueueFull)
                    {
                        Interlocked.Increment(ref retries);
                        await Task.Delay(2).ConfigureAwait(false);
                        continue;
                    }

                    Interlocked.Increment(ref rejected);
                    inFlight.Release();
                    Console.Error.WriteLine($"rejected: {result}");
                    break;
                }
            }
        })).ToList();

        await Task.WhenAll(clients).ConfigureAwait(false);
        await allCommitted.Task.WaitAsync(TimeSpan.FromMinutes(10)).ConfigureAwait(false);
        var end = Baseline.Take(committed, blocks);
        allocations?.Pause();
        await watchStop.CancelAsync().ConfigureAwait(false);
        await watcher.ConfigureAwait(false);
        await sampler.ConfigureAwait(false);
        foreach (var (id, (name, ticks)) in end.Threads)
        {
            lastSeen[id] = (name, ticks, end.Timestamp);
        }

        var start = measured ?? throw new InvalidOperationException("the warm-up never ended");
        return new DriveResult(
            end.Committed - start.Committed,
            rejected,
            Stopwatch.GetElapsedTime(start.Timestamp, end.Timestamp),
            end.Cpu - start.Cpu,
            latencies,
            retries,
            end.Blocks - start.Blocks,
            end.GcPause - start.GcPause,
            end.Allocated - start.Allocated,
            [.. end.Collections.Zip(start.Collections, (a, b) => a - b)],
            CpuByThreadKind(start, lastSeen),
            end.JitTime - start.JitTime,
            end.JitMethods - start.JitMethods,
            collections.Measured());
    }

    private static (string Markdown, string Json) Report(Dictionary<string, string> options, CryptoSuite suite, LedgerNode node, TimedStore store, DriveResult run, double ceiling, int total, int window, int signers)
    {
        var seconds = run.Elapsed.TotalSeconds;
        var throughput = run.Committed / seconds;
        var latencies = run.LatenciesMs.Order().ToList();
        double Percentile(double p) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(latencies.Count * p))];
        var cores = Environment.ProcessorCount;
        var capacity = seconds * cores;
        var md = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        md.AppendLine(c, $"crypto={suite.Name} store={options.GetValueOrDefault("store", "embedded")} retention={(Int(options, "retention", 0) is > 0 and var keep ? $"{keep} blocks" : "all versions")} tx={total} (measured: the last {run.Committed}, after a warm-up) signers={signers} window={window} blocks={run.Blocks} avg tx/block={(double)run.Committed / Math.Max(1, run.Blocks):F0} built ahead={node.BlocksBuiltAhead} state nodes read back from the store={node.StateNodesReadFromStore} head={node.Head.Height} load average={LoadAverage()}");
        md.AppendLine();
        md.AppendLine("| measurement | result |");
        md.AppendLine("| --- | ---: |");
        md.AppendLine(c, $"| committed throughput (full verification, durable commit per block) | {throughput:F0} tx/s |");
        md.AppendLine(c, $"| submit-to-commit latency p50 / p99 / max | {Percentile(0.50):F0} / {Percentile(0.99):F0} / {Percentile(1.0):F0} ms |");
        md.AppendLine(c, $"| ceiling: batch verify rate on {cores} cores, same run | {ceiling:F0} signatures/s |");
        md.AppendLine(c, $"| fraction of the ceiling reached | {throughput / ceiling:P0} |");
        md.AppendLine(c, $"| process CPU time / wall time | {run.Cpu.TotalSeconds / seconds:F2} of {cores} cores |");
        md.AppendLine(c, $"| rejected / mempool-full retries | {run.Rejected} / {run.MempoolFullRetries} |");
        md.AppendLine(c, $"| JIT in the measured part (methods compiled, compile time; tiers {TieringMode()}) | {run.JitMethods} / {run.JitTime.TotalMilliseconds:F0} ms ({run.JitTime.TotalMicroseconds / Math.Max(1, run.Committed):F1} µs per tx) |");
        md.AppendLine();
        md.AppendLine("| stage (where the time goes) | thread | wall total | CPU per tx | share of the machine's CPU | allocated per tx |");
        md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: |");
        var timers = node.Timers;
        var accounted = TimeSpan.Zero;
        void Stage(string name, string thread, NodeStage stage)
        {
            var cpu = timers.Cpu(stage);
            accounted += cpu;
            md.AppendLine(c, $"| {name} | {thread} | {timers.Elapsed(stage).TotalSeconds:F2} s | {cpu.TotalMicroseconds / Math.Max(1, run.Committed):F1} µs | {cpu.TotalSeconds / capacity:P1} | {timers.Allocated(stage) / (double)Math.Max(1, run.Committed):F0} B |");
        }

        Stage("decode + EIP-712 id", "submitters", NodeStage.Decode);
        Stage(suite.Id == CryptoSuiteId.Gm ? "signature verify (SM2 against the carried key)" : "signature verify (recover)", "submitters", NodeStage.Verify);
        Stage("admit (nonce order, mempool)", "writer", NodeStage.Admit);
        Stage("build (apply rules, state root, history root)", "writer", NodeStage.Build);
        Stage("seal", "engine", NodeStage.Certify);
        Stage("commit: certificate, projections, the block's node encodings; after the append: the head moves", "writer", NodeStage.Commit);
        Stage("publish (mempool settle, snapshot)", "writer", NodeStage.Publish);
        accounted += store.AppendCpu;
        md.AppendLine(c, $"| store append: index the block, encode and write its record, fsync (the append's own thread, beside the writer's next build) | append thread | {store.AppendTime.TotalSeconds:F2} s | {store.AppendCpu.TotalMicroseconds / Math.Max(1, run.Committed):F1} µs | {store.AppendCpu.TotalSeconds / capacity:P1} | {store.AppendAllocated / (double)Math.Max(1, run.Committed):F0} B |");
        var rest = run.Cpu - accounted;
        md.AppendLine(c, $"| the rest: GC ({run.GcPause.TotalSeconds:F2} s paused; collections gen0/1/2 {run.Collections[0]}/{run.Collections[1]}/{run.Collections[2]}; {run.AllocatedBytes / Math.Max(1, run.Committed) / 1024.0:F1} KiB allocated per tx), the load clients, thread pool, kernel | all | | {rest.TotalMicroseconds / Math.Max(1, run.Committed):F1} µs | {rest.TotalSeconds / capacity:P1} |");
        md.AppendLine(c, $"| **total process CPU** | | | **{run.Cpu.TotalMicroseconds / Math.Max(1, run.Committed):F1} µs** | {run.Cpu.TotalSeconds / capacity:P1} |");
        if (run.SampledCollections.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("| collections in the measured part, as the GC reports them (sampled every 250 ms) | sampled | mean promoted | mean pause |");
            md.AppendLine("| --- | ---: | ---: | ---: |");
            foreach (var group in run.SampledCollections.GroupBy(s => (s.Generation, s.Background)).OrderBy(g => g.Key.Generation).ThenBy(g => g.Key.Background))
            {
                md.AppendLine(c, $"| gen{group.Key.Generation}{(group.Key.Background ? " (background)" : string.Empty)} | {group.Count()} | {group.Average(s => s.PromotedMiB):F1} MiB | {group.Average(s => s.PauseMs):F1} ms |");
            }
        }

        if (run.CpuByThreadKind.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("| CPU by thread (Linux /proc, 10 ms ticks; the GC runs on the thread that triggers it unless named) | CPU per tx | share of the process |");
            md.AppendLine("| --- | ---: | ---: |");
            var counted = TimeSpan.Zero;
            foreach (var (kind, cpu) in run.CpuByThreadKind.Where(k => k.Value > TimeSpan.Zero).OrderByDescending(k => k.Value))
            {
                counted += cpu;
                md.AppendLine(c, $"| {kind} | {cpu.TotalMicroseconds / Math.Max(1, run.Committed):F1} µs | {cpu / run.Cpu:P1} |");
            }

            md.AppendLine(c, $"| not attributed (threads' last 250 ms before they ended; tick rounding) | {(run.Cpu - counted).TotalMicroseconds / Math.Max(1, run.Committed):F1} µs | {(run.Cpu - counted) / run.Cpu:P1} |");
        }
        var json = JsonSerializer.Serialize(new
        {
            crypto = suite.Name,
            store = options.GetValueOrDefault("store", "embedded"),
            transactions = total,
            committed = run.Committed,
            seconds,
            throughput,
            p50Ms = Percentile(0.5),
            p99Ms = Percentile(0.99),
            ceilingSignaturesPerSecond = ceiling,
            fractionOfCeiling = throughput / ceiling,
            cpuCores = run.Cpu.TotalSeconds / seconds,
            blocks = run.Blocks,
        });
        return (md.ToString(), json);
    }

    /// <summary>The store to load, and the data directory to delete afterwards when the tool made one of its own.</summary>
    private static async Task<(ILedgerStore Store, string? Scratch)> OpenStoreAsync(Dictionary<string, string> options, string? subdirectory)
    {
        if (options.GetValueOrDefault("store") == "postgres")
        {
            var connection = options.GetValueOrDefault("pg") ?? Environment.GetEnvironmentVariable("SMARTCITY_TEST_PG")
                ?? throw new ArgumentException("--pg CONNECTION or SMARTCITY_TEST_PG is needed for the PostgreSQL store");
            var schema = "bench_" + Guid.NewGuid().ToString("N")[..12];
            Console.WriteLine($"PostgreSQL schema {schema}");
            return (await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = connection, Schema = schema }, CancellationToken.None).ConfigureAwait(false), null);
        }

        var given = options.GetValueOrDefault("dir");
        var directory = given is not null ? (subdirectory is null ? given : Path.Combine(given, subdirectory)) : Path.Combine(Path.GetTempPath(), "smartcity-node-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Console.WriteLine($"data directory {directory}{(given is null ? " (deleted at the end; --dir keeps one)" : string.Empty)}");
        return (await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = directory }, CancellationToken.None).ConfigureAwait(false), given is null ? directory : null);
    }

    /// <summary>How the runtime tiers code here: the runtimeconfig's settings as the process sees them (environment variables override them).</summary>
    private static string TieringMode()
    {
        static string Setting(string name, string variable, bool fallback)
        {
            var text = Environment.GetEnvironmentVariable("DOTNET_" + variable);
            return text is not null ? (text != "0" ? "on" : "off") : (AppContext.TryGetSwitch(name, out var on) ? on : fallback) ? "on" : "off";
        }

        var delay = Environment.GetEnvironmentVariable("DOTNET_TC_CallCountingDelayMs") ?? AppContext.GetData("System.Runtime.TieredCompilation.CallCountingDelayMs")?.ToString() ?? "100";
        return $"tiered {Setting("System.Runtime.TieredCompilation", "TieredCompilation", true)}, PGO {Setting("System.Runtime.TieredPGO", "TieredPGO", true)}, call-counting delay {delay} ms";
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    private static Dictionary<string, string> Parse(IEnumerable<string> args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var name = e.Current.TrimStart('-');
            options[name] = e.MoveNext() ? e.Current : throw new ArgumentException($"--{name} needs a value");
        }

        return options;
    }

    private static int Int(Dictionary<string, string> options, string name, int fallback) =>
        options.TryGetValue(name, out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    /// <summary>Times the store's appends (the fsync is in there) and forwards everything else.</summary>
    private sealed class TimedStore(ILedgerStore inner) : ILedgerStore
    {
        private long _appendTicks;
        private long _appendCpuNanoseconds;
        private long _appendAllocated;

        public TimeSpan AppendTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _appendTicks));

        /// <summary>
        /// CPU time of the appends (indexing the block, encoding and writing its record, the fsync's system time) on the
        /// thread that ran them: the node appends on a thread of its own per block, which ends before the per-thread
        /// sampler sees it, so without this the store's work showed only as "not attributed".
        /// </summary>
        public TimeSpan AppendCpu => TimeSpan.FromMicroseconds(Interlocked.Read(ref _appendCpuNanoseconds) / 1000.0);

        public long AppendAllocated => Interlocked.Read(ref _appendAllocated);

        /// <summary>Starts the counts again (the measured part of a run begins).</summary>
        public void Reset()
        {
            Interlocked.Exchange(ref _appendTicks, 0);
            Interlocked.Exchange(ref _appendCpuNanoseconds, 0);
            Interlocked.Exchange(ref _appendAllocated, 0);
        }

        public async ValueTask AppendAsync(BlockCommit block, CancellationToken cancellationToken)
        {
            var started = NodeTimers.Start();
            await inner.AppendAsync(block, cancellationToken).ConfigureAwait(false);
            var ended = NodeTimers.Start();
            Interlocked.Add(ref _appendTicks, ended.Timestamp - started.Timestamp);
            if (ended.ThreadId == started.ThreadId && started.CpuNanoseconds >= 0)
            {
                Interlocked.Add(ref _appendCpuNanoseconds, ended.CpuNanoseconds - started.CpuNanoseconds); // the append ran where it was called (the embedded store's does)
                Interlocked.Add(ref _appendAllocated, ended.AllocatedBytes - started.AllocatedBytes);
            }
        }

        public ValueTask<StoreHead?> GetHeadAsync(CancellationToken cancellationToken) => inner.GetHeadAsync(cancellationToken);

        public ValueTask<StoredBlockHeader?> GetHeaderAsync(long height, CancellationToken cancellationToken) => inner.GetHeaderAsync(height, cancellationToken);

        public ValueTask<StoredBlockHeader?> GetHeaderByHashAsync(Hash256 blockHash, CancellationToken cancellationToken) => inner.GetHeaderByHashAsync(blockHash, cancellationToken);

        public ValueTask<StoredBlock?> GetBlockAsync(long height, CancellationToken cancellationToken) => inner.GetBlockAsync(height, cancellationToken);

        public ValueTask<StoredBlock?> GetBlockByHashAsync(Hash256 blockHash, CancellationToken cancellationToken) => inner.GetBlockByHashAsync(blockHash, cancellationToken);

        public ValueTask<TransactionLocation?> GetTransactionAsync(Hash256 txHash, CancellationToken cancellationToken) => inner.GetTransactionAsync(txHash, cancellationToken);

        public ValueTask<Hash256?> GetHistoryNodeAsync(int level, long index, CancellationToken cancellationToken) => inner.GetHistoryNodeAsync(level, index, cancellationToken);

        public ValueTask<byte[]?> GetStateAsync(Hash256 key, CancellationToken cancellationToken) => inner.GetStateAsync(key, cancellationToken);

        public IAsyncEnumerable<StateEntry> EnumerateStateAsync(CancellationToken cancellationToken) => inner.EnumerateStateAsync(cancellationToken);

        public ValueTask<IReadOnlyList<CreditRecordRow>> GetCreditRecordsBySubjectAsync(string subject, CancellationToken cancellationToken) => inner.GetCreditRecordsBySubjectAsync(subject, cancellationToken);

        public ValueTask<LicenceRow?> GetLicenceAsync(string identifier, CancellationToken cancellationToken) => inner.GetLicenceAsync(identifier, cancellationToken);

        public ValueTask<IReadOnlyList<LicenceRow>> GetLicenceVersionsAsync(string identifier, CancellationToken cancellationToken) => inner.GetLicenceVersionsAsync(identifier, cancellationToken);

        public ValueTask<IReadOnlyList<LicenceRow>> GetLicencesByHolderAsync(string holderCode, CancellationToken cancellationToken) => inner.GetLicencesByHolderAsync(holderCode, cancellationToken);

        public ValueTask<IReadOnlyList<ListEntryRow>> GetListEntriesBySubjectAsync(string subject, CancellationToken cancellationToken) => inner.GetListEntriesBySubjectAsync(subject, cancellationToken);

        public ValueTask<MemorandumRow?> GetMemorandumAsync(string memorandumId, CancellationToken cancellationToken) => inner.GetMemorandumAsync(memorandumId, cancellationToken);

        public ValueTask<IReadOnlyList<MemorandumRow>> GetMemorandaAsync(CancellationToken cancellationToken) => inner.GetMemorandaAsync(cancellationToken);

        public ValueTask<IReadOnlyList<MeasureApplicationRow>> GetMeasureApplicationsBySubjectAsync(string subject, CancellationToken cancellationToken) => inner.GetMeasureApplicationsBySubjectAsync(subject, cancellationToken);

        public ValueTask<IReadOnlyList<MeasureApplicationRow>> GetMeasureApplicationsByMemorandumAsync(string memorandumId, CancellationToken cancellationToken) => inner.GetMeasureApplicationsByMemorandumAsync(memorandumId, cancellationToken);

        public ValueTask<AccessLogEntry> AppendAccessAsync(AccessRequest request, CancellationToken cancellationToken) => inner.AppendAccessAsync(request, cancellationToken);

        public ValueTask<IReadOnlyList<AccessLogEntry>> AppendAccessBatchAsync(IReadOnlyList<AccessRequest> requests, CancellationToken cancellationToken) => inner.AppendAccessBatchAsync(requests, cancellationToken);

        public ValueTask<IReadOnlyList<AccessLogEntry>> ReadAccessLogAsync(long fromSequence, int limit, CancellationToken cancellationToken) => inner.ReadAccessLogAsync(fromSequence, limit, cancellationToken);

        public ValueTask<AccessLogVerification> VerifyAccessLogAsync(CancellationToken cancellationToken) => inner.VerifyAccessLogAsync(cancellationToken);

        public StoreRecoveryReport Recovery => inner.Recovery;

        public ValueTask<byte[]?> GetStateNodeAsync(Hash256 hash, CancellationToken cancellationToken) => inner.GetStateNodeAsync(hash, cancellationToken);

        public byte[]? GetStateNode(Hash256 hash) => inner.GetStateNode(hash);

        public Hash256? GetHistoryNode(int level, long index) => inner.GetHistoryNode(level, index);

        public ValueTask<StateRetention> GetStateRetentionAsync(CancellationToken cancellationToken) => inner.GetStateRetentionAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
