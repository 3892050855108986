using System.Diagnostics;
using System.Globalization;
using Npgsql;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing;
using SmartCity.Testing.Storage;
using Xunit.Abstractions;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>
/// Kills a child process that is appending blocks (SIGKILL, at random moments, including during its start-up
/// recovery) and checks after each kill that the store holds a prefix of the chain containing every block the child
/// acknowledged, intact, and that appending continues from there.
/// </summary>
public abstract class StoreCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Kills = 12;
    private const int TransactionsPerBlock = 64;
    private readonly TestBlocks _blocks = new() { TransactionsPerBlock = TransactionsPerBlock };

    protected abstract IEnumerable<string> HostArguments();

    /// <summary>How long a child may append before it is killed, at most (its first append includes JIT time).</summary>
    protected virtual int MaxAppendingMilliseconds => 600;

    protected abstract Task<ILedgerStore> OpenStoreAsync();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    /// <summary>
    /// Waits, after the child is dead, until nothing it started can still change the store (a database server may
    /// finish a commit the child sent before it died).
    /// </summary>
    protected virtual Task AfterKillAsync() => Task.CompletedTask;

    [ContractFact]
    public async Task A_killed_writer_leaves_a_prefix_with_every_acknowledged_block_and_appending_continues()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        long verified = -1;
        var acknowledgedTotal = 0L;
        for (var kill = 0; kill < Kills; kill++)
        {
            // Every fourth child dies early, most likely inside its start-up recovery; the others while appending.
            var duringStartUp = kill % 4 == 3;
            // Every other child is killed only after its first acknowledgement, so a loaded machine (slow start-up,
            // JIT) still exercises kills between acknowledged appends.
            var (ready, acknowledged, acks) = await RunAndKillAsync(duringStartUp, afterFirstAck: !duringStartUp && kill % 2 == 0,
                TimeSpan.FromMilliseconds(random.Next(duringStartUp ? 50 : 0, duringStartUp ? 400 : MaxAppendingMilliseconds)));
            Assert.True(ready is null || ready == verified + 1, $"the child started at {ready}, after verified head {verified}");

            await using var store = await OpenStoreAsync();
            var head = (await store.GetHeadAsync(CancellationToken.None))?.Height ?? -1;
            Assert.True(head >= acknowledged, $"kill {kill}: head {head} is behind acknowledged block {acknowledged}");
            for (var height = verified + 1; height <= head; height++)
            {
                await AssertIntactAsync(store, height);
            }

            await store.AppendAsync(_blocks.At(head + 1), CancellationToken.None);
            verified = head + 1;
            acknowledgedTotal += acks;
            output.WriteLine($"kill {kill}: started at {ready?.ToString(CultureInfo.InvariantCulture) ?? "(killed during start-up)"}, acknowledged up to {acknowledged}, store head {head}");
        }

        Assert.True(acknowledgedTotal > 0, "the child never got to acknowledge a block: the kill delays are too short for this machine");
    }

    private async Task AssertIntactAsync(ILedgerStore store, long height)
    {
        var expected = _blocks.At(height);
        var block = await store.GetBlockAsync(height, CancellationToken.None);
        Assert.NotNull(block);
        Assert.Equal(expected.BlockHash, block.Header.BlockHash);
        Assert.Equal(expected.Header.ToArray(), block.Header.Header.ToArray());
        Assert.Equal(expected.Transactions.Select(t => t.TxHash), block.Transactions.Select(t => t.TxHash));
        Assert.Equal(expected.Transactions[^1].Bytes.ToArray(), block.Transactions[^1].Bytes.ToArray());
        var lastTx = expected.Transactions[^1].HistoryIndex;
        Assert.NotNull(await store.GetStateAsync(TestBlocks.RecordKey(lastTx), CancellationToken.None));
    }

    /// <summary>
    /// Runs the child, kills it <paramref name="delay"/> after it started (or after it reported ready, unless
    /// <paramref name="fromStart"/>; after its first acknowledgement when <paramref name="afterFirstAck"/>), and returns its start height, last acknowledged height and number of acknowledgements.
    /// </summary>
    private async Task<(long? Ready, long Acknowledged, int Acks)> RunAndKillAsync(bool fromStart, bool afterFirstAck, TimeSpan delay)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(CrashHostPath());
        foreach (var argument in HostArguments())
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add(TransactionsPerBlock.ToString(CultureInfo.InvariantCulture));
        using var child = Process.Start(start)!;
        long? ready = null;
        var acknowledged = -1L;
        var acks = 0;
        var started = new TaskCompletionSource();
        var firstAck = new TaskCompletionSource();
        var reading = Task.Run(async () =>
        {
            while (await child.StandardOutput.ReadLineAsync() is { } line)
            {
                var parts = line.Split(' ');
                var value = long.Parse(parts[1], CultureInfo.InvariantCulture);
                if (parts[0] == "ready")
                {
                    ready = value;
                    started.TrySetResult();
                }
                else
                {
                    acknowledged = value;
                    acks++;
                    firstAck.TrySetResult();
                }
            }
        });
        var errors = child.StandardError.ReadToEndAsync();

        if (!fromStart)
        {
            await Task.WhenAny(started.Task, Task.Delay(TimeSpan.FromSeconds(20)));
        }

        if (afterFirstAck)
        {
            await Task.WhenAny(firstAck.Task, Task.Delay(TimeSpan.FromSeconds(20)));
        }

        await Task.Delay(delay);
        if (child.HasExited)
        {
            Assert.Fail($"the crash host exited by itself with {child.ExitCode}: {await errors}");
        }

        child.Kill(); // SIGKILL: no finally blocks, no flushes, no disposal
        await child.WaitForExitAsync();
        await reading;
        await AfterKillAsync();
        return (ready, acknowledged, acks);
    }

    private static string CrashHostPath()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var (framework, configuration, testsRoot) = (output.Name, output.Parent!.Name, output.Parent.Parent!.Parent!.Parent!.FullName);
        var path = Path.Combine(testsRoot, "SmartCity.Storage.CrashHost", "bin", configuration, framework, "SmartCity.Storage.CrashHost.dll");
        Assert.True(File.Exists(path), $"the crash host is not built at {path}");
        return path;
    }
}

public sealed class EmbeddedStoreCrashTests(ITestOutputHelper output) : StoreCrashTests(output)
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "smartcity-crash-" + Guid.NewGuid().ToString("N"));

    protected override IEnumerable<string> HostArguments() => ["embedded", _directory];

    protected override async Task<ILedgerStore> OpenStoreAsync() =>
        await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory, SegmentSize = 1 << 20, SnapshotEveryBlocks = 7 }, CancellationToken.None);

    public override Task DisposeAsync()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        return Task.CompletedTask;
    }
}

[Collection(PostgresStoreCollection.Name)]
public sealed class PostgresStoreCrashTests(PostgresFixture postgres, ITestOutputHelper output) : StoreCrashTests(output), IClassFixture<PostgresFixture>
{
    private readonly string _schema = postgres.Schema + "_crash";

    // The children's sessions, by name: a killed child's COMMIT that reached the server still commits (the server
    // notices the dead client only when it answers), so the store is read once those sessions are gone. Reading the
    // head before that once found block 135 appended by a child already dead (2026-12-05, CI).
    private readonly string _applicationName = "smartcity-crash-" + Guid.NewGuid().ToString("N")[..12];

    protected override IEnumerable<string> HostArguments() =>
        ["postgres", new NpgsqlConnectionStringBuilder(PostgresFixture.ConnectionString!) { ApplicationName = _applicationName }.ConnectionString, _schema];

    protected override async Task AfterKillAsync()
    {
        await using var connection = new NpgsqlConnection(PostgresFixture.ConnectionString);
        await connection.OpenAsync();
        await using var sessions = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = @name", connection);
        sessions.Parameters.AddWithValue("name", _applicationName);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((long)(await sessions.ExecuteScalarAsync())! > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the killed child's database sessions did not end within 30 s");
            await Task.Delay(20);
        }
    }

    protected override int MaxAppendingMilliseconds => 1500;

    protected override async Task<ILedgerStore> OpenStoreAsync() =>
        await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = PostgresFixture.ConnectionString!, Schema = _schema }, CancellationToken.None);

    public override async Task DisposeAsync()
    {
        if (PostgresFixture.ConnectionString is null)
        {
            return;
        }

        await using var connection = new NpgsqlConnection(PostgresFixture.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{_schema}\" CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
