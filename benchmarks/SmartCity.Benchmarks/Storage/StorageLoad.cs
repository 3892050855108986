using System.Diagnostics;
using System.Globalization;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing.Storage;

namespace SmartCity.Benchmarks.Storage;

/// <summary>
/// The storage load tool (docs/storage.md, "Benchmarks"). Appending is measured end to end with durability on
/// (fsync per block, or synchronous_commit), which BenchmarkDotNet's many short iterations would not model well.
/// <code>
/// storage append  --store embedded|postgres [--blocks 40] [--tx 2000] [--dir DIR] [--pg CONNECTION]
/// storage restart [--tx-total 1000000] [--dir DIR]
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
            "restart" => await RestartAsync(options).ConfigureAwait(false),
            _ => Usage(),
        };
    }

    private static async Task<int> AppendAsync(Dictionary<string, string> options)
    {
        var blockCount = Int(options, "blocks", 40);
        var builder = new TestBlocks { TransactionsPerBlock = Int(options, "tx", 2000), TransactionSize = 300, StateWritesPerTransaction = 4 };
        Console.WriteLine($"building {blockCount} blocks of {builder.TransactionsPerBlock} transactions…");
        var blocks = builder.Chain(blockCount).ToList();
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

    private static async Task<int> RestartAsync(Dictionary<string, string> options)
    {
        var total = Int(options, "tx-total", 1_000_000);
        var builder = new TestBlocks { TransactionsPerBlock = 2000, TransactionSize = 300, StateWritesPerTransaction = 4 };
        var blockCount = total / builder.TransactionsPerBlock;
        var directory = options.GetValueOrDefault("dir") ?? Path.Combine(Path.GetTempPath(), "smartcity-restart-bench");
        var storeOptions = new EmbeddedStoreOptions { DataDirectory = directory, SnapshotOnClose = false };
        await using (var store = await EmbeddedLedgerStore.OpenAsync(storeOptions, CancellationToken.None).ConfigureAwait(false))
        {
            var head = (await store.GetHeadAsync(CancellationToken.None).ConfigureAwait(false))?.Height ?? -1;
            Console.WriteLine($"filling {directory} to {blockCount} blocks ({total} transactions) from height {head + 1}…");
            for (var height = head + 1; height < blockCount; height++)
            {
                await store.AppendAsync(builder.At(height), CancellationToken.None).ConfigureAwait(false);
            }
        }

        // The fill closed without a snapshot, like a crash: this restart replays the tail since the last periodic one.
        await MeasureRestartAsync(storeOptions, "after a crash (snapshot + tail replay)").ConfigureAwait(false);
        await using (await EmbeddedLedgerStore.OpenAsync(storeOptions with { SnapshotOnClose = true }, CancellationToken.None).ConfigureAwait(false))
        {
            // Closing writes a snapshot of the head.
        }

        await MeasureRestartAsync(storeOptions, "after a clean shutdown (snapshot only)").ConfigureAwait(false);
        return 0;
    }

    private static async Task MeasureRestartAsync(EmbeddedStoreOptions options, string kind)
    {
        GC.Collect();
        var size = new DirectoryInfo(options.DataDirectory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await using var reopened = await EmbeddedLedgerStore.OpenAsync(options, CancellationToken.None).ConfigureAwait(false);
        clock.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart;
        var head = (await reopened.GetHeadAsync(CancellationToken.None).ConfigureAwait(false))!.Value;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"restart {kind}: {head.HistorySize} transactions, {head.Height + 1} blocks, {size / 1e6:F0} MB on disk: {clock.Elapsed.TotalSeconds:F2}s (cpu {cpu.TotalSeconds:F2}s, load average {LoadAverage()})"));
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
        Console.Error.WriteLine("usage: storage append --store embedded|postgres [--blocks N] [--tx N] [--dir DIR] [--pg CONNECTION]");
        Console.Error.WriteLine("       storage restart [--tx-total N] [--dir DIR]");
        return 2;
    }
}
