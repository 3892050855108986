using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;
using SmartCity.Testing;
using SmartCity.Testing.Storage;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>
/// The storage contract, run against every store: each concrete subclass supplies a fresh, empty store per test and
/// a way to reopen it, so every test here runs once per implementation.
/// </summary>
public abstract partial class LedgerStoreContract : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    protected TestBlocks Blocks { get; } = new();

    protected ILedgerStore Store { get; private set; } = null!;

    /// <summary>Opens the store of this test: empty on the first call, holding what was written on later calls.</summary>
    protected abstract Task<ILedgerStore> OpenStoreAsync();

    /// <summary>Removes what <see cref="OpenStoreAsync"/> created.</summary>
    protected abstract Task DeleteStoreAsync();

    public async Task InitializeAsync() => Store = await OpenStoreAsync();

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        await DeleteStoreAsync();
    }

    protected async Task ReopenAsync()
    {
        await Store.DisposeAsync();
        Store = await OpenStoreAsync();
    }

    protected async Task AppendChainAsync(int count)
    {
        foreach (var block in Blocks.Chain(count))
        {
            await Store.AppendAsync(block, None);
        }
    }

    [ContractFact]
    public async Task An_empty_store_has_no_head_no_blocks_and_no_state()
    {
        Assert.Null(await Store.GetHeadAsync(None));
        Assert.Null(await Store.GetBlockAsync(0, None));
        Assert.Null(await Store.GetHeaderByHashAsync(TestBlocks.BlockHashAt(0), None));
        Assert.Null(await Store.GetTransactionAsync(TestBlocks.TxHashAt(0), None));
        Assert.Null(await Store.GetStateAsync(TestBlocks.RecordKey(0), None));
        Assert.Empty(await ToListAsync(Store.EnumerateStateAsync(None)));
    }

    [ContractFact]
    public async Task An_appended_block_reads_back_byte_for_byte_by_height_and_by_hash()
    {
        await AppendChainAsync(3);
        var expected = Blocks.At(1);

        var byHeight = await Store.GetBlockAsync(1, None);
        var byHash = await Store.GetBlockByHashAsync(expected.BlockHash, None);

        foreach (var block in new[] { byHeight, byHash })
        {
            Assert.NotNull(block);
            AssertHeader(expected, block.Header);
            Assert.Equal(expected.Transactions.Count, block.Transactions.Count);
            for (var i = 0; i < expected.Transactions.Count; i++)
            {
                Assert.Equal(expected.Transactions[i].TxHash, block.Transactions[i].TxHash);
                Assert.Equal(expected.Transactions[i].HistoryIndex, block.Transactions[i].HistoryIndex);
                Assert.Equal(expected.Transactions[i].Bytes.ToArray(), block.Transactions[i].Bytes.ToArray());
            }
        }

        AssertHeader(expected, (await Store.GetHeaderAsync(1, None))!);
        AssertHeader(expected, (await Store.GetHeaderByHashAsync(expected.BlockHash, None))!);
        Assert.Null(await Store.GetHeaderAsync(3, None));
        Assert.Equal(new StoreHead(2, TestBlocks.BlockHashAt(2), 3 * Blocks.TransactionsPerBlock), await Store.GetHeadAsync(None));
    }

    [ContractFact]
    public async Task The_read_for_verification_returns_the_header_certificate_and_transactions_of_the_full_read()
    {
        await AppendChainAsync(3);

        Assert.Null(await Store.GetBlockForVerificationAsync(3, None));
        for (var height = 0; height < 3; height++)
        {
            var expected = Blocks.At(height);
            var full = (await Store.GetBlockAsync(height, None))!;
            var lean = await Store.GetBlockForVerificationAsync(height, None);

            Assert.NotNull(lean);
            AssertHeader(expected, lean.Header);
            Assert.Equal(full.Header.Header.ToArray(), lean.Header.Header.ToArray());
            Assert.Equal(full.Header.Certificate.ToArray(), lean.Header.Certificate.ToArray());
            Assert.Equal(expected.Transactions.Count, lean.Transactions.Count);
            for (var i = 0; i < expected.Transactions.Count; i++)
            {
                Assert.Equal(expected.Transactions[i].TxHash, lean.Transactions[i].TxHash);
                Assert.Equal(expected.Transactions[i].HistoryIndex, lean.Transactions[i].HistoryIndex);
                Assert.Equal(expected.Transactions[i].Bytes.ToArray(), lean.Transactions[i].Bytes.ToArray());
            }
        }
    }

    [ContractFact]
    public async Task A_transaction_is_found_by_hash_with_its_height_index_and_history_position()
    {
        await AppendChainAsync(3);
        var g = 2 * Blocks.TransactionsPerBlock + 1;

        var tx = await Store.GetTransactionAsync(TestBlocks.TxHashAt(g), None);

        Assert.NotNull(tx);
        Assert.Equal((2L, 1, (long)g), (tx.Height, tx.IndexInBlock, tx.HistoryIndex));
        Assert.Equal(Blocks.TransactionBytes(g), tx.Bytes.ToArray());
    }

    [ContractFact]
    public async Task Rejects_a_block_at_a_height_already_written_and_keeps_the_first()
    {
        await AppendChainAsync(2);
        var rival = Blocks.At(1) with { BlockHash = TestBlocks.BlockHashAt(99), Transactions = [] };

        await Assert.ThrowsAsync<StoreConflictException>(() => Store.AppendAsync(rival, None).AsTask());

        Assert.Equal(TestBlocks.BlockHashAt(1), (await Store.GetHeadAsync(None))!.Value.BlockHash);
        Assert.Null(await Store.GetHeaderByHashAsync(TestBlocks.BlockHashAt(99), None));
    }

    [ContractFact]
    public async Task Rejects_a_gap_in_heights_and_a_block_whose_parent_is_not_the_head()
    {
        await AppendChainAsync(2);

        await Assert.ThrowsAsync<StoreConflictException>(() => Store.AppendAsync(Blocks.At(3), None).AsTask());
        var orphan = Blocks.At(2) with { ParentHash = TestBlocks.BlockHashAt(77) };
        await Assert.ThrowsAsync<StoreConflictException>(() => Store.AppendAsync(orphan, None).AsTask());
        await Assert.ThrowsAsync<StoreConflictException>(() => Store.AppendAsync(Blocks.At(0), None).AsTask());

        Assert.Equal(1, (await Store.GetHeadAsync(None))!.Value.Height);
    }

    [ContractFact]
    public async Task The_first_block_must_be_genesis_at_height_zero()
    {
        await Assert.ThrowsAsync<StoreConflictException>(() => Store.AppendAsync(Blocks.At(1), None).AsTask());
        Assert.Null(await Store.GetHeadAsync(None));
    }

    [ContractFact]
    public async Task Rejects_a_transaction_hash_committed_in_an_earlier_block_and_writes_nothing_of_the_block()
    {
        await AppendChainAsync(2);
        var next = Blocks.At(2);
        var replayed = next with
        {
            Transactions = [next.Transactions[0], next.Transactions[1] with { TxHash = TestBlocks.TxHashAt(0) }, .. next.Transactions.Skip(2)],
        };

        await Assert.ThrowsAsync<StoreConflictException>(() => Store.AppendAsync(replayed, None).AsTask());

        Assert.Equal(1, (await Store.GetHeadAsync(None))!.Value.Height);
        Assert.Null(await Store.GetTransactionAsync(next.Transactions[0].TxHash, None));
        Assert.Null(await Store.GetStateAsync(TestBlocks.RecordKey(2 * Blocks.TransactionsPerBlock), None));
        await Store.AppendAsync(next, None);
    }

    [ContractFact]
    public async Task Rejects_a_block_that_holds_the_same_transaction_twice()
    {
        await AppendChainAsync(1);
        var next = Blocks.At(1);
        var doubled = next with
        {
            Transactions = [next.Transactions[0], next.Transactions[1] with { TxHash = next.Transactions[0].TxHash }, .. next.Transactions.Skip(2)],
        };

        await Assert.ThrowsAsync<StoreConflictException>(() => Store.AppendAsync(doubled, None).AsTask());

        Assert.Equal(0, (await Store.GetHeadAsync(None))!.Value.Height);
    }

    [ContractFact]
    public async Task Rejects_transactions_whose_history_indexes_do_not_continue_the_history()
    {
        await AppendChainAsync(1);
        var next = Blocks.At(1);
        var skewed = next with { Transactions = [.. next.Transactions.Select(t => t with { HistoryIndex = t.HistoryIndex + 1 })] };

        await Assert.ThrowsAsync<ArgumentException>(() => Store.AppendAsync(skewed, None).AsTask());
    }

    [ContractFact]
    public async Task State_at_the_head_has_the_latest_write_of_each_key_and_no_deleted_keys()
    {
        await AppendChainAsync(2);
        var key = TestBlocks.RecordKey(0);
        var gone = TestBlocks.RecordKey(1);
        var next = Blocks.At(2);
        var block = next with { StateWrites = [.. next.StateWrites, new StateWrite(key, [1, 2]), new StateWrite(key, [3]), new StateWrite(gone, null)] };

        await Store.AppendAsync(block, None);

        Assert.Equal([3], await Store.GetStateAsync(key, None));
        Assert.Null(await Store.GetStateAsync(gone, None));
        var nonce = await Store.GetStateAsync(TestBlocks.NonceKey(11), None);
        Assert.Equal(11L, BitConverter.ToInt64(nonce));
    }

    [ContractFact]
    public async Task Enumerating_the_state_yields_every_key_once_in_ascending_order()
    {
        await AppendChainAsync(3);
        var expected = new Dictionary<Hash256, byte[]>();
        foreach (var write in Blocks.Chain(3).SelectMany(b => b.StateWrites))
        {
            expected[write.Key] = write.Value!;
        }

        var entries = await ToListAsync(Store.EnumerateStateAsync(None));

        Assert.Equal(expected.Keys.Order(), entries.Select(e => e.Key));
        Assert.All(entries, e => Assert.Equal(expected[e.Key], e.Value.ToArray()));
    }

    [ContractFact]
    public async Task History_nodes_are_served_by_level_and_index()
    {
        await AppendChainAsync(2);
        var nodes = Blocks.Chain(2).SelectMany(b => b.HistoryNodes).ToList();

        foreach (var node in nodes)
        {
            Assert.Equal(node.Hash, await Store.GetHistoryNodeAsync(node.Level, node.Index, None));
        }

        Assert.Contains(nodes, n => n.Level == 3);
        Assert.Null(await Store.GetHistoryNodeAsync(0, 8, None));
        Assert.Null(await Store.GetHistoryNodeAsync(4, 0, None));
    }

    [ContractFact]
    public async Task Credit_records_list_entries_and_measure_applications_are_found_by_subject_in_height_order()
    {
        await AppendChainAsync(60);
        var all = Blocks.Chain(60).Select(b => b.Projections).ToList();
        var subject = TestBlocks.SubjectOf(0);

        var records = await Store.GetCreditRecordsBySubjectAsync(subject, None);
        var entries = await Store.GetListEntriesBySubjectAsync(TestBlocks.SubjectOf(2), None);
        var applications = await Store.GetMeasureApplicationsBySubjectAsync(TestBlocks.SubjectOf(4), None);

        Assert.Equal(all.SelectMany(p => p.CreditRecords).Where(r => r.Subject == subject), records);
        Assert.Equal(all.SelectMany(p => p.ListEntries).Where(r => r.Subject == TestBlocks.SubjectOf(2)), entries);
        Assert.Equal(all.SelectMany(p => p.MeasureApplications).Where(r => r.Subject == TestBlocks.SubjectOf(4)), applications);
        Assert.NotEmpty(records);
        Assert.NotEmpty(entries);
        Assert.NotEmpty(applications);
        Assert.Empty(await Store.GetCreditRecordsBySubjectAsync("nobody", None));
    }

    [ContractFact]
    public async Task A_credit_record_written_again_replaces_its_earlier_form()
    {
        await AppendChainAsync(1);
        var original = Blocks.At(0).Projections.CreditRecords[0];
        var next = Blocks.At(1);
        var amended = original with { Status = 3, Height = 1 };
        await Store.AppendAsync(next with { Projections = next.Projections with { CreditRecords = [amended] } }, None);

        var records = await Store.GetCreditRecordsBySubjectAsync(original.Subject, None);

        Assert.Equal([amended], records);
    }

    [ContractFact]
    public async Task A_licence_keeps_its_versions_and_is_found_by_holder_of_its_latest_version()
    {
        await AppendChainAsync(1);
        var issuer = new Address(TestBlocks.TxHashAt(1).Bytes[..Address.Size]);
        var v1 = new LicenceRow("LIC-X", 1, "HOLDER-A", 1, issuer, TestBlocks.TxHashAt(100), Hash256.Zero, 1, 9_000);
        var v2 = v1 with { Version = 2, HolderCode = "HOLDER-B", Status = 2, TxHash = TestBlocks.TxHashAt(101), PreviousTxHash = v1.TxHash, Height = 2 };
        var b1 = Blocks.At(1);
        await Store.AppendAsync(b1 with { Projections = b1.Projections with { Licences = [v1] } }, None);
        Assert.Equal([v1], await Store.GetLicencesByHolderAsync("HOLDER-A", None));
        var b2 = Blocks.At(2);
        await Store.AppendAsync(b2 with { Projections = b2.Projections with { Licences = [v2] } }, None);

        Assert.Equal(v2, await Store.GetLicenceAsync("LIC-X", None));
        Assert.Equal([v1, v2], await Store.GetLicenceVersionsAsync("LIC-X", None));
        Assert.Empty(await Store.GetLicencesByHolderAsync("HOLDER-A", None));
        Assert.Equal([v2], await Store.GetLicencesByHolderAsync("HOLDER-B", None));
        Assert.Null(await Store.GetLicenceAsync("LIC-NONE", None));
    }

    [ContractFact]
    public async Task Memoranda_are_listed_and_found_by_id_and_measure_applications_by_memorandum()
    {
        await AppendChainAsync(20);
        var memoranda = new Dictionary<string, MemorandumRow>();
        foreach (var row in Blocks.Chain(20).SelectMany(b => b.Projections.Memoranda))
        {
            memoranda[row.MemorandumId] = row;
        }

        var listed = await Store.GetMemorandaAsync(None);
        var one = await Store.GetMemorandumAsync(TestBlocks.MemorandumOf(3), None);
        var applied = await Store.GetMeasureApplicationsByMemorandumAsync(TestBlocks.MemorandumOf(4), None);

        Assert.Equal(memoranda.Values.OrderBy(m => m.Height).ThenBy(m => m.MemorandumId, StringComparer.Ordinal).Select(m => m.MemorandumId), listed.Select(m => m.MemorandumId));
        Assert.NotNull(one);
        Assert.Equal(memoranda[one.MemorandumId].Rules.ToArray(), one.Rules.ToArray());
        Assert.Equal(memoranda[one.MemorandumId].TxHash, one.TxHash);
        Assert.Equal(
            Blocks.Chain(20).SelectMany(b => b.Projections.MeasureApplications).Where(a => a.MemorandumId == TestBlocks.MemorandumOf(4)),
            applied);
    }

    [ContractFact]
    public async Task Everything_committed_is_there_after_the_store_is_reopened_and_appending_continues()
    {
        await AppendChainAsync(5);
        await Store.AppendAccessAsync(Access(0), None);

        await ReopenAsync();

        Assert.Equal(4, (await Store.GetHeadAsync(None))!.Value.Height);
        AssertHeader(Blocks.At(3), (await Store.GetHeaderAsync(3, None))!);
        Assert.NotNull(await Store.GetTransactionAsync(TestBlocks.TxHashAt(17), None));
        Assert.NotEmpty(await Store.GetCreditRecordsBySubjectAsync(TestBlocks.SubjectOf(0), None));
        Assert.Single(await Store.ReadAccessLogAsync(0, 10, None));
        await Store.AppendAsync(Blocks.At(5), None);
        Assert.Equal(5, (await Store.GetHeadAsync(None))!.Value.Height);
    }

    [ContractFact]
    public async Task The_access_log_chains_each_entry_to_the_previous_one_and_verifies()
    {
        var first = await Store.AppendAccessAsync(Access(0), None);
        var second = await Store.AppendAccessAsync(Access(1), None);
        var third = await Store.AppendAccessAsync(Access(2), None);

        Assert.Equal((0L, Hash256.Zero), (first.Sequence, first.PreviousHash));
        Assert.Equal(first.EntryHash, second.PreviousHash);
        Assert.Equal(second.EntryHash, third.PreviousHash);
        var read = await Store.ReadAccessLogAsync(1, 5, None);
        Assert.Equal([second.EntryHash, third.EntryHash], read.Select(e => e.EntryHash));
        Assert.Equal(Access(1).Signature.ToArray(), read[0].Request.Signature.ToArray());
        Assert.Equal((Access(1).Method, Access(1).Subject, Access(1).Requester), (read[0].Request.Method, read[0].Request.Subject, read[0].Request.Requester));
        var verification = await Store.VerifyAccessLogAsync(None);
        Assert.True(verification.IsIntact);
        Assert.Equal(3, verification.EntriesChecked);

        await ReopenAsync();
        var fourth = await Store.AppendAccessAsync(Access(3), None);
        Assert.Equal((3L, third.EntryHash), (fourth.Sequence, fourth.PreviousHash));
    }

    [ContractFact]
    public async Task Readers_running_during_appends_only_ever_see_whole_blocks()
    {
        await AppendChainAsync(1);
        using var done = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            var checks = 0;
            while (!done.IsCancellationRequested || checks == 0)
            {
                var head = (await Store.GetHeadAsync(None))!.Value;
                var block = await Store.GetBlockAsync(head.Height, None);
                Assert.NotNull(block);
                var lastTx = block.Transactions[^1];
                Assert.NotNull(await Store.GetTransactionAsync(lastTx.TxHash, None));
                Assert.NotNull(await Store.GetStateAsync(TestBlocks.RecordKey(lastTx.HistoryIndex), None));
                checks++;
            }

            return checks;
        });

        foreach (var block in Blocks.Chain(25).Skip(1))
        {
            await Store.AppendAsync(block, None);
        }

        await done.CancelAsync();
        Assert.True(await reader > 0);
    }

    private static AccessRequest Access(int n) => new(
        new Address(TestBlocks.TxHashAt(n).Bytes[..Address.Size]), "/smartcity.credit.v1.Credit/GetTrustScore", TestBlocks.SubjectOf(n),
        1_760_000_000_000 + n, TestBlocks.TxHashAt(1000 + n), Enumerable.Range(0, 65).Select(i => (byte)(i + n)).ToArray());

    private static void AssertHeader(BlockCommit expected, StoredBlockHeader actual)
    {
        Assert.Equal((expected.Height, expected.BlockHash, expected.ParentHash, expected.Timestamp), (actual.Height, actual.BlockHash, actual.ParentHash, actual.Timestamp));
        Assert.Equal(expected.Header.ToArray(), actual.Header.ToArray());
        Assert.Equal(expected.Certificate.ToArray(), actual.Certificate.ToArray());
        Assert.Equal(expected.Transactions.Count, actual.TransactionCount);
        Assert.Equal(expected.Transactions.Count == 0 ? actual.FirstHistoryIndex : expected.Transactions[0].HistoryIndex, actual.FirstHistoryIndex);
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source)
        {
            list.Add(item);
        }

        return list;
    }
}
