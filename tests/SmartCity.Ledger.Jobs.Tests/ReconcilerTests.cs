using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Jobs.Reconciliation;
using SmartCity.Ledger.Jobs.State;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing;
using static SmartCity.Ledger.Jobs.Tests.JobKit;

namespace SmartCity.Ledger.Jobs.Tests;

/// <summary>Reconciliation between stores of one chain, of a fork, of a damaged peer, and of projections against the state tree.</summary>
public sealed class ReconcilerTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime, IDisposable
{
    private readonly string _directory = TempDirectory();

    private string Schema => postgres.Schema + "_reconcile";

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => PostgresFixture.DropSchemaAsync(Schema);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_copy_of_the_chain_agrees_and_a_damaged_copy_is_reported_at_the_damaged_height()
    {
        var mine = Path.Combine(_directory, "mine");
        var copy = Path.Combine(_directory, "copy");
        await using (var node = await SoloNodeAsync(await EmbeddedStoreAsync(mine)))
        {
            await CommitRecordsAsync(node, 4);
        }

        CopyDirectory(mine, copy);
        await using var own = await EmbeddedStoreAsync(mine);
        await using var peerStore = await EmbeddedStoreAsync(copy);
        var reconciler = new Reconciler(SoloGenesis, Secp256k1.Default);
        var peers = new[] { new StoreLedgerPeer("tj-1", peerStore) };

        var agreed = await reconciler.RunAsync(own, peers, ReconciliationCheckpoint.Start, 100, checkProjections: true, Deadline());
        FlipByteOf(Path.Combine(copy, "segments"), (await own.GetHeaderAsync(3, Deadline()))!.Header.ToArray(), 60);
        var damaged = await reconciler.RunAsync(own, peers, ReconciliationCheckpoint.Start, 100, checkProjections: false, Deadline());

        Assert.Empty(agreed.Divergences);
        Assert.Equal(5L, agreed.HeightsCompared); // 0..4
        Assert.Equal(4L, agreed.ProjectionObjectsChecked);
        Assert.Equal(4L, agreed.Checkpoint.PeerHeights["tj-1"]);
        var divergence = Assert.Single(damaged.Divergences);
        Assert.Equal((JobReportKinds.PeerDivergence, 3L, "tj-1"), (divergence.Kind, divergence.Height, divergence.Peer));
        Assert.Equal(2L, damaged.Checkpoint.PeerHeights["tj-1"]);
    }

    [Fact]
    public async Task A_peer_with_another_certified_block_at_a_height_is_reported_as_a_fork_naming_the_fields()
    {
        await using var own = await EmbeddedStoreAsync(Path.Combine(_directory, "mine"));
        await using var other = await EmbeddedStoreAsync(Path.Combine(_directory, "other"));
        await using (var node = await SoloNodeAsync(own))
        {
            await CommitRecordsAsync(node, 2);
        }

        await using (var node = await SoloNodeAsync(other))
        {
            await CommitRecordsAsync(node, 2, shape: b => b.Citing("Regulation on Enterprise Information Publicity, Art. 18"));
        }

        // The nodes disposed their stores: reopen both read-side.
        await using var mine = await EmbeddedStoreAsync(Path.Combine(_directory, "mine"));
        await using var theirs = await EmbeddedStoreAsync(Path.Combine(_directory, "other"));
        var run = await new Reconciler(SoloGenesis, Secp256k1.Default).RunAsync(mine, [new StoreLedgerPeer("he-1", theirs)], ReconciliationCheckpoint.Start, 100, checkProjections: false, Deadline());

        var divergence = Assert.Single(run.Divergences);
        Assert.Equal((JobReportKinds.PeerDivergence, 1L), (divergence.Kind, divergence.Height));
        Assert.Contains("state root", divergence.Subject, StringComparison.Ordinal);
        Assert.Contains("transaction root", divergence.Subject, StringComparison.Ordinal);
        Assert.Contains("two certified blocks at one height", divergence.Detail, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task A_changed_projection_row_in_postgresql_is_reported_with_the_height_that_wrote_it()
    {
        var options = new PostgresStoreOptions { ConnectionString = PostgresFixture.ConnectionString!, Schema = Schema };
        var store = await PostgresLedgerStore.OpenAsync(options, Deadline());
        await using var node = await SoloNodeAsync(store);
        await CommitRecordsAsync(node, 3);
        Assert.Empty((await ProjectionReconciler.RunAsync(store, Deadline())).Divergences);
        string recordId;
        await using (var connection = new Npgsql.NpgsqlConnection(PostgresFixture.ConnectionString))
        {
            await connection.OpenAsync();
            await using var change = new Npgsql.NpgsqlCommand($"UPDATE \"{Schema}\".credit_records SET severity = severity + 1 WHERE height = 2 RETURNING record_id", connection);
            recordId = (string)(await change.ExecuteScalarAsync())!;
        }

        var run = await ProjectionReconciler.RunAsync(store, Deadline());

        var divergence = Assert.Single(run.Divergences);
        Assert.Equal((JobReportKinds.ProjectionDivergence, 2L, $"credit record {recordId}"), (divergence.Kind, divergence.Height, divergence.Subject));
        Assert.Equal(3L, run.ObjectsChecked);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
