using System.Diagnostics;
using System.Globalization;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing.Storage;
using SmartCity.Testing.TestKit;

namespace SmartCity.Benchmarks.Storage;

/// <summary>
/// The storage load tool (docs/storage.md, "Benchmarks"). Appending is measured end to end with durability on
/// (fsync per block, or synchronous_commit), which BenchmarkDotNet's many short iterations would not model well.
/// <code>
/// storage append  --store embedded|postgres [--blocks 40] [--tx 2000] [--base-keys 1000000] [--nodes true] [--dir DIR] [--pg CONNECTION]
/// storage fill    --store embedded|postgres [--tx-total 1000000] [--dir DIR | --pg CONNECTION --schema S] [--crash true]
/// storage reopen  --store embedded|postgres [--dir DIR | --pg CONNECTION --schema S] [--proofs 10000] [--retention N]
/// </code>
/// </summary>
public static class StorageLoad
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = Parse(args.Skip(1));
        return args.FirstOrDefault() switch
        {
            "append" => await AppendAsync(options).ConfigureAwait(false),
            "fill" => await FillAsync(options).ConfigureAwait(false),
            "reopen" => await ReopenAsync(options).ConfigureAwait(false),
            _ => Usage(),
        };
    }

    private static async Task<int> AppendAsync(Dictionary<string, string> options)
    {
        var blockCount = Int(options, "blocks", 40);
        var builder = new TestBlocks { TransactionsPerBlock = Int(options, "tx", 2000), TransactionSize = 300, StateWritesPerTransaction = 4 };
        List<BlockCommit> blocks;
        if (options.GetValueOrDefault("nodes", "true") == "true")
        {
            // Real certified blocks with the state-tree nodes and stale lists a node writes, built on a state of
            // --base-keys keys so each block creates as many nodes as it would on a large ledger.
            var chain = new SyntheticChain(builder, null, 0);
            var baseKeys = Int(options, "base-keys", 1_000_000);
            Console.WriteLine($"preloading a state of {baseKeys} keys, then building {blockCount} blocks of {builder.TransactionsPerBlock} transactions with their state nodes…");
            chain.Preload(baseKeys);
            blocks = [chain.Genesis with { StateNodes = [] }];
            for (var i = 1; i < blockCount; i++)
            {
                blocks.Add(chain.Next());
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"state nodes/block={blocks.Skip(1).Average(b => b.StateNodes.Count):F0} stale nodes/block={blocks.Skip(1).Average(b => b.StaleStateNodes.Count):F0} record bytes/block≈{blocks.Skip(1).Average(b => b.StateNodes.Sum(n => n.Encoded.Length + 36L) + b.Transactions.Sum(t => t.Bytes.Length + 48L)) / 1e6:F2} MB"));
        }
        else
        {
            Console.WriteLine($"building {blockCount} blocks of {builder.TransactionsPerBlock} transactions (no state nodes)…");
            blocks = builder.Chain(blockCount).ToList();
        }

        var bytes = blocks.Sum(b => b.Transactions.Sum(t => (long)t.Bytes.Length));

        await using var store = await OpenFreshAsync(options).ConfigureAwait(false);
        const int WarmUp = 3;
        var latencies = new List<double>();
        var clock = new Stopwatch();
        var cpuAtStart = TimeSpan.Zero;
        for (var i = 0; i < blocks.Count; i++)
        {
            if (i == WarmUp)
            {
                clock.Start();
                cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
            }

            var started = Stopwatch.GetTimestamp();
            await store.AppendAsync(blocks[i], CancellationToken.None).ConfigureAwait(false);
            if (i >= WarmUp)
            {
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        clock.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart;
        var timed = blocks.Count - WarmUp;
        var transactions = (long)timed * builder.TransactionsPerBlock;
        latencies.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"store={options["store"]} blocks={timed} tx/block={builder.TransactionsPerBlock} tx={transactions} state writes/block={blocks[0].StateWrites.Count} " +
            $"projection rows/block={blocks[0].Projections.Count} elapsed={clock.Elapsed.TotalSeconds:F2}s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"throughput={transactions / clock.Elapsed.TotalSeconds:F0} tx/s blocks/s={timed / clock.Elapsed.TotalSeconds:F1} " +
            $"tx MB/s={bytes * timed / blocks.Count / clock.Elapsed.TotalSeconds / 1e6:F1} " +
            $"block latency p50={latencies[latencies.Count / 2]:F1}ms p99={latencies[(int)(latencies.Count * 0.99)]:F1}ms " +
            $"client cpu/block={cpu.TotalMilliseconds / timed:F1}ms load average={LoadAverage()}"));
        return 0;
    }

    /// <summary>Writes a chain of --tx-total transactions (2,000 a block, about 1 new state key each) through the node's commit format.</summary>
    private static async Task<int> FillAsync(Dictionary<string, string> options)
    {
        var total = Int(options, "tx-total", 1_000_000);
        var builder = new TestBlocks { TransactionsPerBlock = 2000, TransactionSize = 300, StateWritesPerTransaction = 4 };
        var blockCount = total / builder.TransactionsPerBlock;
        var crash = options.GetValueOrDefault("crash") == "true";
        await using var store = await OpenStoreAsync(options, fresh: true, snapshotOnClose: !crash).ConfigureAwait(false);
        var chain = new SyntheticChain(builder, store, 4 << 20);
        await store.AppendAsync(chain.Genesis, CancellationToken.None).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        for (var height = 1; height <= blockCount; height++)
        {
            await store.AppendAsync(chain.Next(), CancellationToken.None).ConfigureAwait(false);
            if (height % 50 == 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {height}/{blockCount} blocks, {clock.Elapsed.TotalSeconds:F0}s, load average {LoadAverage()}"));
            }
        }

        var expected = $"{chain.Head.Height} {chain.Root}";
        await File.WriteAllTextAsync(ExpectedPath(options), expected).ConfigureAwait(false);
        Console.WriteLine($"filled: head {chain.Head.Height}, {(long)blockCount * builder.TransactionsPerBlock} transactions, state root {chain.Root} (written to {ExpectedPath(options)}){(crash ? "; closed without a snapshot, like a crash" : "")}");
        return 0;
    }

    /// <summary>
    /// Opens the store and the chain from it in a fresh process and reports the restart time, the state root check,
    /// random state proofs at the head and the process's resident memory.
    /// </summary>
    private static async Task<int> ReopenAsync(Dictionary<string, string> options)
    {
        // Written by a fill that finished; a fill stopped early still left certified blocks, whose head root is checked
        // against the re-hashed root node by OpenAsync itself.
        var expected = File.Exists(ExpectedPath(options)) ? (await File.ReadAllTextAsync(ExpectedPath(options)).ConfigureAwait(false)).Split(' ') : null;
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await using var store = await OpenStoreAsync(options, fresh: false, snapshotOnClose: true).ConfigureAwait(false);
        var storeOpened = clock.Elapsed;
        long? retention = options.TryGetValue("retention", out var keep) ? long.Parse(keep, CultureInfo.InvariantCulture) : null;
        var chain = await LedgerChain.OpenAsync(GenesisBuilder.Sample.Value, Secp256k1.Default, store, new LedgerChainOptions { StateRetentionBlocks = retention }, CancellationToken.None).ConfigureAwait(false);
        clock.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart;
        var root = chain.Head.StateRoot;
        var rootMatches = expected is null || (chain.Head.Height.ToString(CultureInfo.InvariantCulture) == expected[0] && root.ToString() == expected[1]);
        var rootCheck = expected is null
            ? "equals its re-hashed root node (no recorded root: the fill was stopped early)"
            : rootMatches ? "matches the one the writer computed, and its re-hashed root node" : "DOES NOT MATCH " + expected[1];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"restart ({options["store"]}): head {chain.Head.Height}, {chain.Head.HistorySize} transactions: store open {storeOpened.TotalSeconds:F2}s, chain open {clock.Elapsed.TotalSeconds:F2}s (cpu {cpu.TotalSeconds:F2}s, load average {LoadAverage()}); " +
            $"state root {root} {rootCheck}; recovery: {string.Join("; ", store.Recovery.Actions.Select(a => a.Kind))}"));
        Console.WriteLine($"memory after reopening: {Memory()}");

        var proofs = Int(options, "proofs", 10_000);
        var random = new Random(7);
        var verified = 0;
        var proving = Stopwatch.StartNew();
        for (var i = 0; i < proofs; i++)
        {
            var key = TestBlocks.RecordKey(random.NextInt64(chain.Head.HistorySize));
            var value = chain.StateTree.Get(root, key);
            if (value is not null && chain.StateTree.Prove(root, key).Verify(root, key, value, chain.Suite))
            {
                verified++;
            }
        }

        proving.Stop();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{verified}/{proofs} random state proofs at the head verified against the root ({proving.Elapsed.TotalMilliseconds * 1000 / Math.Max(1, proofs):F0} µs each, cold cache); memory: {Memory()}"));
        return rootMatches && verified == proofs ? 0 : 1;
    }

    private static string ExpectedPath(Dictionary<string, string> options) =>
        options.GetValueOrDefault("store") == "postgres"
            ? Path.Combine(Path.GetTempPath(), $"smartcity-fill-{options.GetValueOrDefault("schema", "bench")}.expected")
            : Path.Combine(Directory(options), "expected-head");

    private static string Directory(Dictionary<string, string> options) =>
        options.GetValueOrDefault("dir") ?? Path.Combine(Path.GetTempPath(), "smartcity-restart-bench");

    private static async Task<ILedgerStore> OpenStoreAsync(Dictionary<string, string> options, bool fresh, bool snapshotOnClose)
    {
        if (options.GetValueOrDefault("store") == "postgres")
        {
            var connection = options.GetValueOrDefault("pg") ?? Environment.GetEnvironmentVariable("SMARTCITY_TEST_PG")
                ?? throw new ArgumentException("--pg CONNECTION or SMARTCITY_TEST_PG is needed for the PostgreSQL store");
            var schema = options.GetValueOrDefault("schema", "bench");
            if (fresh)
            {
                await using var admin = new Npgsql.NpgsqlConnection(connection);
                await admin.OpenAsync().ConfigureAwait(false);
                await using var drop = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", admin);
                await drop.ExecuteNonQueryAsync().ConfigureAwait(false);
            }

            return await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = connection, Schema = schema }, CancellationToken.None).ConfigureAwait(false);
        }

        options["store"] = "embedded";
        var directory = Directory(options);
        if (fresh && System.IO.Directory.Exists(directory))
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }

        return await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = directory, SnapshotOnClose = snapshotOnClose }, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Resident and peak resident memory of this process (Linux /proc) and the managed heap.</summary>
    private static string Memory()
    {
        var status = File.Exists("/proc/self/status") ? File.ReadAllLines("/proc/self/status") : [];
        string Field(string name) => status.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?[(name.Length + 1)..].Trim() ?? "n/a";
        return $"VmRSS {Field("VmRSS")}, VmHWM (peak) {Field("VmHWM")}, managed heap {GC.GetTotalMemory(false) / (1 << 20)} MB";
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    private static async Task<ILedgerStore> OpenFreshAsync(Dictionary<string, string> options)
    {
        if (options.GetValueOrDefault("store") == "postgres")
        {
            var connection = options.GetValueOrDefault("pg") ?? Environment.GetEnvironmentVariable("SMARTCITY_TEST_PG")
                ?? throw new ArgumentException("--pg CONNECTION or SMARTCITY_TEST_PG is needed for the PostgreSQL store");
            var schema = "bench_" + Guid.NewGuid().ToString("N")[..12];
            Console.WriteLine($"PostgreSQL schema {schema}");
            return await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = connection, Schema = schema }, CancellationToken.None).ConfigureAwait(false);
        }

        options["store"] = "embedded";
        var directory = options.GetValueOrDefault("dir") ?? Path.Combine(Path.GetTempPath(), "smartcity-append-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Console.WriteLine($"data directory {directory}");
        return await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = directory }, CancellationToken.None).ConfigureAwait(false);
    }

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

    private static int Usage()
    {
        Console.Error.WriteLine("usage: storage append --store embedded|postgres [--blocks N] [--tx N] [--base-keys N] [--nodes true|false] [--dir DIR] [--pg CONNECTION]");
        Console.Error.WriteLine("       storage fill   --store embedded|postgres [--tx-total N] [--dir DIR | --pg CONNECTION --schema S] [--crash true]");
        Console.Error.WriteLine("       storage reopen --store embedded|postgres [--dir DIR | --pg CONNECTION --schema S] [--proofs N] [--retention N]");
        return 2;
    }
}
