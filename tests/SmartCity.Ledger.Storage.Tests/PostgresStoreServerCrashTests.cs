using Npgsql;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing;
using SmartCity.Testing.Storage;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>
/// Issue 10 item 4: the PostgreSQL server stopped abruptly (<c>pg_ctl stop -m immediate</c>) while a block is being
/// appended, then restarted. The same store instance reconnects, every acknowledged block is there and intact, and no
/// half-written block is visible. The test runs its own throwaway cluster, never the shared one.
/// </summary>
[Collection(PostgresStoreCollection.Name)]
public sealed class PostgresStoreServerCrashTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TestBlocks _blocks = new() { TransactionsPerBlock = 400 };

    [PostgresFact]
    public async Task A_server_killed_mid_append_and_restarted_keeps_every_acknowledged_block_and_shows_no_half_block()
    {
        Assert.True(ThrowawayPostgres.IsInstalled, "PostgreSQL 15 server binaries are needed (scripts/test.sh installs postgresql-15)");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var server = await ThrowawayPostgres.StartAsync();
        output.WriteLine($"{clock.ElapsedMilliseconds} ms: server started");
        await using var store = await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = server.ConnectionString, Schema = "node" }, None);

        long acknowledged = -1;
        var failures = 0;
        using var stop = new CancellationTokenSource();
        var appending = Task.Run(async () =>
        {
            for (var height = 0L; !stop.IsCancellationRequested; height = acknowledged + 1)
            {
                try
                {
                    await store.AppendAsync(_blocks.At(height), None);
                    Volatile.Write(ref acknowledged, height);
                }
                catch (StoreUnavailableException)
                {
                    Interlocked.Increment(ref failures);
                    await Task.Delay(100);
                }
                catch (StoreConflictException)
                {
                    // The block committed but its acknowledgement was lost with the connection: it is the head now.
                    Volatile.Write(ref acknowledged, (await store.GetHeadAsync(None))!.Value.Height);
                }
            }
        });

        while (Volatile.Read(ref acknowledged) < 3)
        {
            await Task.Delay(20);
        }

        output.WriteLine($"{clock.ElapsedMilliseconds} ms: {acknowledged + 1} blocks acknowledged; stopping the server");
        await server.StopImmediatelyAsync();
        var acknowledgedBeforeRestart = Volatile.Read(ref acknowledged);
        await Task.Delay(300);
        Assert.True(Volatile.Read(ref failures) > 0, "appends while the server is down must fail, not hang or succeed");
        await server.StartServerAsync();
        output.WriteLine($"{clock.ElapsedMilliseconds} ms: server restarted after {failures} failed appends");

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Volatile.Read(ref acknowledged) < acknowledgedBeforeRestart + 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await appending;
        output.WriteLine($"{clock.ElapsedMilliseconds} ms: acknowledged up to {acknowledged}");
        var final = Volatile.Read(ref acknowledged);
        Assert.True(final >= acknowledgedBeforeRestart + 3, $"the store did not reconnect: acknowledged {acknowledgedBeforeRestart} before the restart, {final} 30 s after");

        var head = (await store.GetHeadAsync(None))!.Value;
        Assert.Equal(final, head.Height);
        for (var height = 0; height <= head.Height; height++)
        {
            var block = await store.GetBlockAsync(height, None);
            Assert.Equal(TestBlocks.BlockHashAt(height), block!.Header.BlockHash);
            Assert.Equal(_blocks.TransactionsPerBlock, block.Transactions.Count);
        }

        // Nothing half-written: every row belongs to a committed block.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM node.blocks), (SELECT count(*) FROM node.transactions), (SELECT coalesce(max(height), -1) FROM node.transactions)", connection);
        await using var reader = await count.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(head.Height + 1, reader.GetInt64(0));
        Assert.Equal((head.Height + 1) * _blocks.TransactionsPerBlock, reader.GetInt64(1));
        Assert.Equal(head.Height, reader.GetInt64(2));
    }
}
