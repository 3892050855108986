using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>
/// Issue 9 item 3: a chain opened from its store reopens at the head without replaying history, proves state and
/// inclusion at any retained height, and answers a pruned height with a typed error. Run against both stores.
/// </summary>
public abstract class LedgerChainStoreTests
{
    private static readonly ISecp256k1 Curve = Secp256k1.Default;
    private static readonly ISigner[] ValidatorKeys = [.. new[] { 101, 102, 103, 104 }.Select(seed => new TestKey(seed, "validator", "", "BJ").Signer)];
    private static readonly CancellationToken None = CancellationToken.None;
    private ulong _nonce;

    /// <summary>Opens the same store each time (a fresh one the first time).</summary>
    protected abstract Task<ILedgerStore> OpenStoreAsync();

    protected static StateKey NonceKey => StateKeys.Nonce(TestKeys.BeijingRegulator.Address);

    private static DateTimeOffset Day(int n) => GenesisBuilder.Sample.Value.GenesisTime.AddDays(n);

    protected static Task<LedgerChain> OpenChainAsync(ILedgerStore store, LedgerChainOptions? options = null) =>
        LedgerChain.OpenAsync(GenesisBuilder.Sample.Value, Curve, store, options, None);

    /// <summary>Commits a block of <paramref name="count"/> credit records and returns their transaction ids.</summary>
    protected async Task<List<Hash256>> CommitBlockAsync(LedgerChain chain, ILedgerStore store, int count = 3)
    {
        var txs = Enumerable.Range(0, count).Select(_ =>
        {
            var nonce = _nonce++;
            return Build.A.CreditRecord.WithId(Build.Id($"record-{nonce}")).By(TestKeys.BeijingRegulator).For(TestKeys.Company).Signed(nonce);
        }).ToList();
        var candidate = chain.Propose([.. txs.Select(t => (ReadOnlyMemory<byte>)TransactionCodec.Encode(t))], Day((int)chain.Head.Height + 1));
        Assert.Equal(count, candidate.Body.Included.Count);
        var certificate = CommitCertificate.FromSeals(Curve, chain.Anchor.DomainSeparator, candidate.Header, new[] { 0, 1, 2 }.Select(v => chain.Seal(candidate, ValidatorKeys[v])));
        Assert.True((await chain.CommitAsync(candidate, certificate, store, None)).IsValid);
        return [.. txs.Select(t => t.Hash(chain.Domain))];
    }

    [ContractFact]
    public async Task A_chain_reopens_from_its_store_at_the_head_and_proves_state_and_inclusion_there()
    {
        Hash256 headHash, stateRoot;
        List<Hash256> first;
        await using (var store = await OpenStoreAsync())
        {
            var chain = await OpenChainAsync(store);
            Assert.Equal(0, chain.Head.Height);
            first = await CommitBlockAsync(chain, store);
            for (var i = 0; i < 4; i++)
            {
                await CommitBlockAsync(chain, store);
            }

            (headHash, stateRoot) = (chain.Head.Hash, chain.Head.StateRoot);
        }

        await using var reopenedStore = await OpenStoreAsync();
        var reopened = await OpenChainAsync(reopenedStore);

        Assert.Equal(5, reopened.Head.Height);
        Assert.Equal(headHash, reopened.Head.Hash);
        Assert.Equal(stateRoot, reopened.Head.StateRoot);
        var nonce = reopened.ProveState(NonceKey);
        Assert.True(ReceiptVerifier.Verify(nonce, reopened.Anchor, Curve).IsValid);
        Assert.Equal(15UL, StateValue.Decode(nonce.Value!, CounterState.Read).Value);
        var inclusion = await reopened.ProveTransactionAsync(first[1], null, None);
        Assert.True(inclusion.IsFound, inclusion.Message);
        Assert.True(ReceiptVerifier.Verify(inclusion.Value!, reopened.Anchor, Curve).IsValid);
        Assert.NotNull(reopened.ProveTransaction(first[2]));

        // The reopened chain goes on committing where the old one stopped.
        await CommitBlockAsync(reopened, reopenedStore);
        Assert.Equal(6, reopened.Head.Height);
        Assert.Equal(18UL, StateValue.Decode(reopened.State.Get(NonceKey)!, CounterState.Read).Value);
    }

    [ContractFact]
    public async Task A_head_state_cache_that_fills_and_starts_again_many_times_reads_what_the_tree_holds()
    {
        // 1,024 values: each block of 150 records writes several keys each, so the cache starts again empty every
        // block or two, with values read before and after; every read must still be the head's value.
        await using var store = await OpenStoreAsync();
        var chain = await OpenChainAsync(store, new LedgerChainOptions { HeadStateCacheEntries = 1024 });
        for (var block = 1; block <= 6; block++)
        {
            await CommitBlockAsync(chain, store, count: 150);
            Assert.Equal(150UL * (ulong)block, StateValue.Decode(chain.State.Get(NonceKey)!, CounterState.Read).Value);
        }

        var fresh = await OpenChainAsync(store); // its own cache, empty: reads walk the tree
        foreach (var key in Enumerable.Range(0, 900).Select(n => StateKeys.Record(Build.Id($"record-{n}"))).Append(NonceKey))
        {
            Assert.NotNull(chain.State.Get(key));
            Assert.Equal(fresh.State.Get(key), chain.State.Get(key));
        }

        Assert.Null(chain.State.Get(StateKeys.Record(Build.Id("record-900"))));
        Assert.Throws<ArgumentException>(() => new LedgerChainOptions { HeadStateCacheEntries = 1023 }.Validate());
        Assert.Throws<ArgumentException>(() => new LedgerChainOptions { HeadStateCacheBytes = (1 << 20) - 1 }.Validate());
    }

    [ContractFact]
    public async Task State_and_inclusion_are_proved_at_any_older_retained_height_against_that_blocks_header()
    {
        await using var store = await OpenStoreAsync();
        var chain = await OpenChainAsync(store);
        var ids = new List<List<Hash256>>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await CommitBlockAsync(chain, store, count: 2));
        }

        var reopened = await OpenChainAsync(store);
        var atTwo = await reopened.ProveStateAsync(NonceKey, 2, None);
        Assert.True(atTwo.IsFound, atTwo.Message);
        Assert.Equal(2, atTwo.Value!.Header.Height);
        Assert.Equal(4UL, StateValue.Decode(atTwo.Value.Value!, CounterState.Read).Value); // two blocks of two records
        Assert.True(ReceiptVerifier.Verify(atTwo.Value, reopened.Anchor, Curve).IsValid);
        Assert.Equal(atTwo.Value.Value, (await reopened.ReadStateAsync(NonceKey, 2, None)).Value);

        var early = await reopened.ProveTransactionAsync(ids[0][0], 2, None);
        Assert.True(early.IsFound, early.Message);
        Assert.Equal(2, early.Value!.Header.Height);
        Assert.True(ReceiptVerifier.Verify(early.Value, reopened.Anchor, Curve).IsValid);
        Assert.Equal(ChainQueryError.TransactionNotYetCommitted, (await reopened.ProveTransactionAsync(ids[3][0], 2, None)).Error);
        Assert.Equal(ChainQueryError.TransactionNotFound, (await reopened.ProveTransactionAsync(Hash256.Zero, null, None)).Error);
        Assert.Equal(ChainQueryError.UnknownHeight, (await reopened.ProveStateAsync(NonceKey, 9, None)).Error);

        var consistency = await reopened.ProveConsistencyAsync(1, 4, None);
        Assert.True(consistency.IsFound, consistency.Message);
        Assert.True(consistency.Value!.Verify());
    }

    [ContractFact]
    public async Task A_state_read_or_proof_below_the_retention_window_is_a_typed_error_and_the_store_drops_those_nodes()
    {
        await using var store = await OpenStoreAsync();
        var options = new LedgerChainOptions { StateRetentionBlocks = 2, PruneEveryBlocks = 1 };
        var chain = await OpenChainAsync(store, options);
        var firstIds = await CommitBlockAsync(chain, store);
        var rootOne = chain.Head.StateRoot;
        for (var i = 0; i < 5; i++)
        {
            await CommitBlockAsync(chain, store);
        }

        Assert.Equal(5, chain.StateRetainedFrom); // heights 5 and 6 kept
        Assert.Null(await store.GetStateNodeAsync(rootOne, None)); // block 1's root node was pruned
        Assert.Equal(5, (await store.GetStateRetentionAsync(None)).RetainedFrom);

        var reopened = await OpenChainAsync(store, options);
        var pruned = await reopened.ProveStateAsync(NonceKey, 1, None);
        Assert.Equal(ChainQueryError.StatePruned, pruned.Error);
        Assert.Contains("from height 5", pruned.Message, StringComparison.Ordinal);
        Assert.Equal(ChainQueryError.StatePruned, (await reopened.ReadStateAsync(NonceKey, 4, None)).Error);
        var kept = await reopened.ProveStateAsync(NonceKey, 5, None);
        Assert.True(kept.IsFound, kept.Message);
        Assert.True(ReceiptVerifier.Verify(kept.Value!, reopened.Anchor, Curve).IsValid);

        // History is never pruned: block 1's transactions are still proved, at block 1 and at the head.
        Assert.True((await reopened.ProveTransactionAsync(firstIds[0], 1, None)).IsFound);
        Assert.True((await reopened.ProveConsistencyAsync(1, 6, None)).Value!.Verify());
    }

    [ContractFact]
    public async Task A_store_written_by_an_in_memory_chain_reopens_as_a_chain()
    {
        Hash256 root;
        await using (var store = await OpenStoreAsync())
        {
            var chain = new LedgerChain(GenesisBuilder.Sample.Value, Curve);
            await store.AppendAsync(chain.GenesisCommit(), None);
            await CommitBlockAsync(chain, store);
            await CommitBlockAsync(chain, store);
            root = chain.Head.StateRoot;
        }

        await using var reopenedStore = await OpenStoreAsync();
        var reopened = await OpenChainAsync(reopenedStore);
        Assert.Equal(2, reopened.Head.Height);
        Assert.Equal(root, reopened.Head.StateRoot);
        Assert.True((await reopened.ProveStateAsync(NonceKey, 1, None)).IsFound);
    }

    [ContractFact]
    public async Task A_store_holding_another_chain_is_refused()
    {
        await using var store = await OpenStoreAsync();
        await OpenChainAsync(store);
        var other = GenesisBuilder.Sample.Value with { ChainId = GenesisBuilder.Sample.Value.ChainId + 1 };

        var error = await Assert.ThrowsAsync<StoreConflictException>(() => LedgerChain.OpenAsync(other, Curve, store, null, None));
        Assert.Contains("genesis", error.Message, StringComparison.Ordinal);
    }

    [ContractFact]
    public async Task An_intact_store_verifies_block_by_block_against_the_genesis_file()
    {
        await using var store = await OpenStoreAsync();
        var chain = await OpenChainAsync(store);
        for (var i = 0; i < 3; i++)
        {
            await CommitBlockAsync(chain, store);
        }

        var result = await StoreVerifier.VerifyAsync(store, GenesisBuilder.Sample.Value, Curve, None);

        Assert.True(result.IsIntact, result.Damage);
        Assert.Equal((3L, 4L, 9L), (result.Head, result.BlocksChecked, result.TransactionsChecked));
        Assert.True(result.StateNodesChecked > 10);
    }

    /// <summary>Builds a 3-block chain, lets <paramref name="tamper"/> damage the store, and returns the verdict.</summary>
    protected async Task<StoreVerification> VerifyAfterAsync(Func<ILedgerStore, LedgerChain, Task> tamper)
    {
        ArgumentNullException.ThrowIfNull(tamper);
        await using var store = await OpenStoreAsync();
        var chain = await OpenChainAsync(store);
        for (var i = 0; i < 3; i++)
        {
            await CommitBlockAsync(chain, store);
        }

        await tamper(store, chain);
        return await StoreVerifier.VerifyAsync(store, GenesisBuilder.Sample.Value, Curve, None);
    }

    [Fact]
    public void Options_out_of_range_are_refused_with_the_setting_named()
    {
        var error = Assert.Throws<ArgumentException>(() => new LedgerChainOptions { StateRetentionBlocks = 0 }.Validate());
        Assert.Contains("StateRetentionBlocks", error.Message, StringComparison.Ordinal);
    }
}

public sealed class EmbeddedLedgerChainStoreTests : LedgerChainStoreTests, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "smartcity-chain-" + Guid.NewGuid().ToString("N"));
    private bool _snapshotOnClose = true;

    protected override async Task<ILedgerStore> OpenStoreAsync() =>
        await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory, SnapshotOnClose = _snapshotOnClose }, CancellationToken.None);

    [Fact]
    public async Task A_reopened_chain_answers_head_reads_through_its_cache_exactly_as_the_tree_does_once_it_knows_the_heads_keys()
    {
        await using (var store = await OpenStoreAsync())
        {
            var chain = await OpenChainAsync(store);
            for (var i = 0; i < 3; i++)
            {
                await CommitBlockAsync(chain, store);
            }
        }

        await using var reopenedStore = await OpenStoreAsync();
        var reopened = await OpenChainAsync(reopenedStore);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!reopened.HeadKeysComplete && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20); // the keys are read from the store in the background, off the open path
        }

        Assert.True(reopened.HeadKeysComplete, "the head cache never learnt the reopened head's keys");
        AssertCacheReadsAsTree(reopened, recordsWritten: 9);

        await CommitBlockAsync(reopened, reopenedStore);
        AssertCacheReadsAsTree(reopened, recordsWritten: 12);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Snapshots_write_the_locators_changes_after_a_base_and_a_chain_reopened_from_them_proves_what_it_proved(bool firstBaseSorted)
    {
        // A snapshot at every block, with pruning (the changes then hold removals as well as additions). With the sorted
        // base's threshold lowered, the first snapshot (before the first prune) writes a sorted base and the locator moves
        // onto it; pruning then removes base entries (tombstones), and the next base is in table order again.
        var options = new LedgerChainOptions { StateRetentionBlocks = 3, PruneEveryBlocks = 1 };
        var storeOptions = new EmbeddedStoreOptions { DataDirectory = _directory, SnapshotEveryBlocks = 1, SnapshotOnClose = false, LocatorChangesBeforeNewBase = firstBaseSorted ? 1 : LedgerIndex.DefaultChangesBeforeNewBase };
        Hash256 head;
        await using (var store = await EmbeddedLedgerStore.OpenAsync(storeOptions, CancellationToken.None))
        {
            var chain = await OpenChainAsync(store, options);
            for (var i = 0; i < 5; i++)
            {
                await CommitBlockAsync(chain, store);
                await store.SnapshotIdle;
                if (i == 0)
                {
                    Assert.Equal(firstBaseSorted, store.LocatorShape.BaseFile is not null);

                    // The copy the base was written from is kept for the next base in table order, released after a
                    // sorted one (the next copy is a quarter of the base's growth away).
                    Assert.Equal(!firstBaseSorted, store.KeepsLocatorCopy);
                }
            }

            head = chain.Head.StateRoot;
        }

        var snapshots = Path.Combine(_directory, "snapshots");
        var newest = Directory.GetFiles(snapshots, "snapshot-*.snap").Max()!;
        var locatorFiles = LedgerIndex.RunFilesOf(newest).Where(name => name.StartsWith("locator-", StringComparison.Ordinal)).ToList();
        Assert.True(locatorFiles.Count >= 2, $"the newest snapshot names {locatorFiles.Count} locator files ({string.Join(", ", locatorFiles)}): a base and the changes after it were expected");

        // The files that base and those changes replace are gone; the ones named are there.
        var kept = Directory.GetFiles(snapshots, "snapshot-*.snap").SelectMany(LedgerIndex.RunFilesOf).ToHashSet();
        Assert.All(Directory.GetFiles(Path.Combine(snapshots, "index"), "locator-*.run"), path => Assert.Contains(Path.GetFileName(path), kept));

        var reopenedOptions = storeOptions with { SnapshotEveryBlocks = 1000 };
        await using (var reopenedStore = await EmbeddedLedgerStore.OpenAsync(reopenedOptions, CancellationToken.None))
        {
            Assert.DoesNotContain(reopenedStore.Recovery.Actions, a => a.Kind is RecoveryActionKind.SnapshotSkipped or RecoveryActionKind.SegmentsReplayed);
            var reopened = await OpenChainAsync(reopenedStore, options);
            Assert.Equal(head, reopened.Head.StateRoot);
            Assert.Equal(3, reopened.StateRetainedFrom);
            for (var height = 3; height <= 5; height++)
            {
                var nonce = await reopened.ProveStateAsync(NonceKey, height, CancellationToken.None);
                Assert.True(nonce.IsFound, nonce.Message);
            }

            Assert.Equal(ChainQueryError.StatePruned, (await reopened.ProveStateAsync(NonceKey, 2, CancellationToken.None)).Error);
            var record = await reopened.ProveStateAsync(StateKeys.Record(Build.Id("record-0")), 5, CancellationToken.None);
            Assert.True(record.IsFound, record.Message);
        }

        // A change file lost: the snapshots naming it are passed over with the reason, and the segments cover for them.
        File.Delete(Path.Combine(snapshots, "index", locatorFiles[^1]));
        await using var recovered = await EmbeddedLedgerStore.OpenAsync(reopenedOptions, CancellationToken.None);
        Assert.Contains(recovered.Recovery.Actions, a => a.Kind == RecoveryActionKind.SnapshotSkipped && a.Detail.Contains("locator file", StringComparison.Ordinal));
        var chainAgain = await OpenChainAsync(recovered, options);
        Assert.Equal(head, chainAgain.Head.StateRoot);
        Assert.True((await chainAgain.ProveStateAsync(NonceKey, 4, CancellationToken.None)).IsFound);
        await CommitBlockAsync(chainAgain, recovered); // and it goes on from there
    }

    [Fact]
    public async Task An_archive_store_reads_its_locator_from_sorted_bases_it_moves_onto_and_proves_every_height_after_a_reopen()
    {
        // Every state version kept; a snapshot at every block, and a new sorted base as soon as the changes pass a quarter
        // of the last one (in production, past four million changes).
        var storeOptions = new EmbeddedStoreOptions { DataDirectory = _directory, SnapshotEveryBlocks = 1, SnapshotOnClose = false, LocatorChangesBeforeNewBase = 1 };
        var roots = new List<Hash256>();
        var bases = new HashSet<string>();
        await using (var store = await EmbeddedLedgerStore.OpenAsync(storeOptions, CancellationToken.None))
        {
            var chain = await OpenChainAsync(store);
            for (var i = 0; i < 8; i++)
            {
                await CommitBlockAsync(chain, store);
                await store.SnapshotIdle;
                roots.Add(chain.Head.StateRoot);
                if (store.LocatorShape.BaseFile is { } file)
                {
                    bases.Add(file);
                }
            }

            Assert.True(bases.Count >= 3, $"the locator moved onto {bases.Count} sorted bases");
            Assert.False(store.KeepsLocatorCopy);
        }

        var snapshots = Path.Combine(_directory, "snapshots");
        var newest = Directory.GetFiles(snapshots, "snapshot-*.snap").Max()!;
        var locatorFiles = LedgerIndex.RunFilesOf(File.ReadAllBytes(newest)).Where(name => name.StartsWith("locator-", StringComparison.Ordinal)).ToList();
        Assert.Equal((byte)LocatorRunKind.SortedBase, File.ReadAllBytes(Path.Combine(snapshots, "index", locatorFiles[0]))[8]);

        await using (var reopenedStore = await EmbeddedLedgerStore.OpenAsync(storeOptions with { SnapshotEveryBlocks = 1000 }, CancellationToken.None))
        {
            Assert.DoesNotContain(reopenedStore.Recovery.Actions, a => a.Kind is RecoveryActionKind.SnapshotSkipped or RecoveryActionKind.SegmentsReplayed);
            var shape = reopenedStore.LocatorShape;
            Assert.Equal(locatorFiles[0], shape.BaseFile);
            Assert.True(shape.TableEntries < shape.Entries, $"{shape.TableEntries} of {shape.Entries} entries in memory");

            var reopened = await OpenChainAsync(reopenedStore);
            Assert.Equal(roots[^1], reopened.Head.StateRoot);
            for (var height = 1; height <= roots.Count; height++)
            {
                // Every version is kept: the nodes of the oldest are read from the base, of the newest from the tables.
                var nonce = await reopened.ProveStateAsync(NonceKey, height, CancellationToken.None);
                Assert.True(nonce.IsFound, $"height {height}: {nonce.Message}");
                var record = await reopened.ProveStateAsync(StateKeys.Record(Build.Id("record-0")), height, CancellationToken.None);
                Assert.True(record.IsFound, $"height {height}: {record.Message}");
            }

            await CommitBlockAsync(reopened, reopenedStore); // and it goes on from there
        }

        // The sorted base damaged: the snapshots naming it are passed over with the reason, and the segments cover for them.
        var basePath = Path.Combine(snapshots, "index", locatorFiles[0]);
        var bytes = File.ReadAllBytes(basePath);
        bytes[LocatorRunFile.HeaderSize + 5] ^= 0x01;
        File.WriteAllBytes(basePath, bytes);
        await using var recovered = await EmbeddedLedgerStore.OpenAsync(storeOptions with { SnapshotEveryBlocks = 1000 }, CancellationToken.None);
        Assert.Contains(recovered.Recovery.Actions, a => a.Kind == RecoveryActionKind.SnapshotSkipped && a.Detail.Contains("locator file", StringComparison.Ordinal));
        var chainAgain = await OpenChainAsync(recovered);
        Assert.True((await chainAgain.ProveStateAsync(NonceKey, 1, CancellationToken.None)).IsFound);
    }

    /// <summary>Records 0..written-1 exist, the next ones do not; the nonce key exists. Cache and tree must agree on each.</summary>
    private static void AssertCacheReadsAsTree(LedgerChain chain, int recordsWritten)
    {
        var keys = Enumerable.Range(0, recordsWritten + 5).Select(n => StateKeys.Record(Build.Id($"record-{n}")).HashIn(chain.State.Suite)).Append(NonceKey.HashIn(chain.State.Suite)).ToList();
        foreach (var key in keys)
        {
            Assert.Equal(chain.State.Get(key), chain.CachedState.Get(key));
        }

        Assert.All(keys.Take(recordsWritten), key => Assert.NotNull(chain.CachedState.Get(key)));
        Assert.All(keys.Skip(recordsWritten).Take(5), key => Assert.Null(chain.CachedState.Get(key)));
    }

    [Fact]
    public async Task After_a_crash_the_replayed_log_rebuilds_the_node_locator_and_the_pruning_it_recorded()
    {
        _snapshotOnClose = false; // every reopen replays the segments, as after a crash
        var options = new LedgerChainOptions { StateRetentionBlocks = 2, PruneEveryBlocks = 1 };
        Hash256 rootOne, head;
        await using (var store = await OpenStoreAsync())
        {
            var chain = await OpenChainAsync(store, options);
            await CommitBlockAsync(chain, store);
            rootOne = chain.Head.StateRoot;
            for (var i = 0; i < 5; i++)
            {
                await CommitBlockAsync(chain, store);
            }

            head = chain.Head.StateRoot;
        }

        await using var reopenedStore = await OpenStoreAsync();
        Assert.Contains(reopenedStore.Recovery.Actions, a => a.Kind == RecoveryActionKind.SegmentsReplayed);
        var reopened = await OpenChainAsync(reopenedStore, options);

        Assert.Equal(head, reopened.Head.StateRoot);
        Assert.Equal(5, reopened.StateRetainedFrom);
        Assert.Null(await reopenedStore.GetStateNodeAsync(rootOne, CancellationToken.None));
        var nonce = await reopened.ProveStateAsync(NonceKey, 5, CancellationToken.None);
        Assert.True(nonce.IsFound, nonce.Message);
        Assert.Equal(ChainQueryError.StatePruned, (await reopened.ProveStateAsync(NonceKey, 4, CancellationToken.None)).Error);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}

public sealed class PostgresLedgerChainStoreTests(PostgresFixture fixture) : LedgerChainStoreTests, IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private static int _next;
    private readonly string _schema = $"{fixture.Schema}_{Interlocked.Increment(ref _next)}";

    protected override async Task<ILedgerStore> OpenStoreAsync() =>
        await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = PostgresFixture.ConnectionString!, Schema = _schema }, CancellationToken.None);

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(PostgresFixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"SET search_path TO \"{_schema}\"; {sql}", connection);
        await command.ExecuteNonQueryAsync();
    }

    [PostgresFact]
    public async Task Verify_reports_a_certificate_swapped_in_from_another_block_at_its_height()
    {
        var result = await VerifyAfterAsync((_, _) => ExecuteAsync("UPDATE blocks SET certificate = (SELECT certificate FROM blocks WHERE height = 3) WHERE height = 2"));

        Assert.Equal(2, result.FirstDamagedHeight);
        Assert.Contains("certificate", result.Damage, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task Verify_reports_a_changed_transaction_at_its_block()
    {
        var result = await VerifyAfterAsync((_, _) => ExecuteAsync("UPDATE transactions SET bytes = overlay(bytes placing '\\xff'::bytea from 40) WHERE history_index = 4"));

        Assert.Equal(2, result.FirstDamagedHeight);
    }

    [PostgresFact]
    public async Task Verify_reports_a_missing_node_of_the_head_state_tree()
    {
        var result = await VerifyAfterAsync((store, chain) => ExecuteAsync(
            $"DELETE FROM state_nodes WHERE hash = (SELECT hash FROM state_nodes WHERE created_height = 3 AND hash <> '\\x{Convert.ToHexStringLower(chain.Head.StateRoot.ToArray())}'::bytea LIMIT 1)"));

        Assert.Equal(3, result.FirstDamagedHeight);
        Assert.Contains("state node", result.Damage, StringComparison.Ordinal);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (PostgresFixture.ConnectionString is null)
        {
            return;
        }

        await using var connection = new Npgsql.NpgsqlConnection(PostgresFixture.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{_schema}\" CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
