using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Jobs.Audit;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing;
using static SmartCity.Ledger.Jobs.Tests.JobKit;

namespace SmartCity.Ledger.Jobs.Tests;

/// <summary>The chain audit on both stores: incremental from its checkpoint, and a flipped byte found with its height.</summary>
public sealed class ChainAuditorTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime, IDisposable
{
    private readonly string _directory = TempDirectory();

    private string Schema => postgres.Schema + "_audit";

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => PostgresFixture.DropSchemaAsync(Schema);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task The_audit_checks_every_block_and_signature_and_continues_from_its_checkpoint()
    {
        var store = await EmbeddedStoreAsync(_directory);
        await using var node = await SoloNodeAsync(store);
        await CommitRecordsAsync(node, 5);
        var auditor = new ChainAuditor(SoloGenesis, Secp256k1.Default);

        var first = await auditor.RunAsync(store, AuditCheckpoint.Start, maxBlocks: 3, Deadline());
        var rest = await auditor.RunAsync(store, AuditCheckpoint.FromJson(first.Checkpoint.ToJson())!, maxBlocks: 100, Deadline());

        Assert.True(first.IsIntact, first.Damage);
        Assert.Equal((2L, 3L), (first.Checkpoint.Height, first.BlocksChecked)); // blocks 0, 1, 2
        Assert.True(rest.IsIntact, rest.Damage);
        Assert.Equal((5L, 3L, 5L), (rest.Checkpoint.Height, rest.BlocksChecked, first.Signatures + rest.Signatures));
        Assert.Equal(node.Head.HeadHash.ToString(), rest.Checkpoint.BlockHash);
        Assert.Equal(node.Head.HistorySize, rest.Checkpoint.HistorySize);
    }

    [Fact]
    public async Task A_byte_flipped_in_an_embedded_segment_is_reported_with_its_height_and_the_checkpoint_stays_before_it()
    {
        var store = await EmbeddedStoreAsync(_directory);
        await using var node = await SoloNodeAsync(store);
        var committed = await CommitRecordsAsync(node, 5);
        var auditor = new ChainAuditor(SoloGenesis, Secp256k1.Default);
        Assert.True((await auditor.RunAsync(store, AuditCheckpoint.Start, 100, Deadline())).IsIntact);

        FlipByteOf(Path.Combine(_directory, "segments"), committed[3], committed[3].Length / 2);
        var run = await auditor.RunAsync(store, AuditCheckpoint.Start, 100, Deadline());

        Assert.Equal(3L, run.DamagedHeight);
        Assert.Contains("cannot read", run.Damage, StringComparison.Ordinal);
        Assert.Equal(2L, run.Checkpoint.Height);
    }

    [Fact]
    public async Task Of_two_damaged_blocks_read_ahead_together_the_lower_is_reported_and_a_later_run_finds_it_again()
    {
        var store = await EmbeddedStoreAsync(_directory);
        await using var node = await SoloNodeAsync(store);
        var committed = await CommitRecordsAsync(node, 6);
        var auditor = new ChainAuditor(SoloGenesis, Secp256k1.Default);

        // The pipeline reads block 5 ahead while block 2 is still being checked: the lower damage must still win.
        FlipByteOf(Path.Combine(_directory, "segments"), committed[5], committed[5].Length / 2);
        FlipByteOf(Path.Combine(_directory, "segments"), committed[2], committed[2].Length / 2);
        var first = await auditor.RunAsync(store, AuditCheckpoint.Start, 100, Deadline());
        var again = await auditor.RunAsync(store, first.Checkpoint, 100, Deadline());
        var verified = await StoreVerifier.VerifyAsync(store, SoloGenesis, Secp256k1.Default, Deadline());

        Assert.Equal((2L, 1L), (first.DamagedHeight, first.Checkpoint.Height));
        Assert.Equal((2L, 1L), (again.DamagedHeight, again.Checkpoint.Height));
        Assert.Equal(1L, first.Signatures); // block 1's transaction; nothing after the damage counts
        Assert.Equal(2L, verified.FirstDamagedHeight);
    }

    [Fact]
    public async Task On_a_gm_chain_the_audit_checks_every_sm2_signature_and_seal_and_finds_a_flipped_byte()
    {
        var genesis = SoloGenesisIn(CryptoSuiteId.Gm);
        var store = await EmbeddedStoreAsync(_directory);
        await using var node = await SoloNodeAsync(store, genesis: genesis);
        var committed = await CommitRecordsAsync(node, 3, genesis: genesis);
        Assert.All(committed.Values, bytes => Assert.Equal(Signature.Sm2Size, TransactionCodec.Decode(bytes).Transaction!.Signature.Bytes.Length));
        var auditor = new ChainAuditor(genesis, CryptoSuite.Gm.Signatures);

        var clean = await auditor.RunAsync(store, AuditCheckpoint.Start, 100, Deadline());
        FlipByteOf(Path.Combine(_directory, "segments"), committed[2], committed[2].Length / 2);
        var damaged = await auditor.RunAsync(store, AuditCheckpoint.Start, 100, Deadline());

        Assert.True(clean.IsIntact, clean.Damage);
        Assert.Equal((3L, 3L), (clean.Checkpoint.Height, clean.Signatures));
        Assert.Equal(2L, damaged.DamagedHeight);
        Assert.Equal(1L, damaged.Checkpoint.Height);
    }

    [PostgresFact]
    public async Task A_byte_flipped_in_a_postgresql_transaction_row_is_reported_with_its_height()
    {
        var options = new PostgresStoreOptions { ConnectionString = PostgresFixture.ConnectionString!, Schema = Schema };
        var store = await PostgresLedgerStore.OpenAsync(options, Deadline());
        await using var node = await SoloNodeAsync(store);
        await CommitRecordsAsync(node, 4);
        var auditor = new ChainAuditor(SoloGenesis, Secp256k1.Default);
        var clean = await auditor.RunAsync(store, AuditCheckpoint.Start, 100, Deadline());
        Assert.True(clean.IsIntact, clean.Damage);

        await using (var connection = new Npgsql.NpgsqlConnection(PostgresFixture.ConnectionString))
        {
            await connection.OpenAsync();
            await using var flip = new Npgsql.NpgsqlCommand($"UPDATE \"{Schema}\".transactions SET bytes = set_byte(bytes, 40, get_byte(bytes, 40) # 1) WHERE height = 2", connection);
            Assert.Equal(1, await flip.ExecuteNonQueryAsync());
        }

        var run = await auditor.RunAsync(store, AuditCheckpoint.Start, 100, Deadline());
        var resumed = await auditor.RunAsync(store, clean.Checkpoint, 100, Deadline());

        Assert.Equal(2L, run.DamagedHeight);
        Assert.Contains("transaction", run.Damage, StringComparison.Ordinal);
        Assert.Equal(1L, run.Checkpoint.Height);
        Assert.True(resumed.IsIntact); // blocks before the checkpoint are not re-read: the checkpoint is the audit's promise
    }
}
