using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Node.Tests.NodeKit;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>The node on the PostgreSQL store: commits, and reopens from its schema at the same head.</summary>
public sealed class PostgresNodeTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (PostgresFixture.ConnectionString is { } connectionString)
        {
            await using var connection = new Npgsql.NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var drop = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{postgres.Schema}_node\" CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private Task<PostgresLedgerStore> StoreAsync()
        => PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = PostgresFixture.ConnectionString!, Schema = postgres.Schema + "_node" }, Deadline());

    [PostgresFact]
    public async Task A_node_on_postgresql_commits_and_reopens_at_the_same_head_and_state_root()
    {
        NodeSnapshot before;
        await using (var node = await SoloNodeAsync(await StoreAsync()))
        {
            for (var nonce = 0UL; nonce < 3; nonce++)
            {
                var result = await node.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(nonce)), waitForCommit: true, Deadline());
                Assert.Equal(TransactionState.Committed, result.Outcome?.State);
            }

            before = node.Head;
        }

        await using var reopened = await SoloNodeAsync(await StoreAsync());
        Assert.Equal((before.HeadHash, before.StateRoot, before.HistorySize), (reopened.Head.HeadHash, reopened.Head.StateRoot, reopened.Head.HistorySize));
        var next = await reopened.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(3)), waitForCommit: true, Deadline());
        Assert.Equal(before.Height + 1, next.Outcome!.Height);
    }
}
