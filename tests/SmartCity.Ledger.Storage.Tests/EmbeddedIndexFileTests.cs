using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Testing.Storage;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>The embedded store's on-disk index: sorted runs, their merges, their checksums and the old snapshot format.</summary>
public sealed class EmbeddedIndexFileTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly byte[] One = [1];
    private static readonly byte[] Two = [2];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "smartcity-index-" + Guid.NewGuid().ToString("N"));
    private readonly TestBlocks _blocks = new();

    private string RunDirectory => Path.Combine(_directory, "snapshots", "index");

    private Task<EmbeddedLedgerStore> OpenAsync(int snapshotEveryBlocks = 1000, bool snapshotOnClose = false, long snapshotEveryBytes = 256L << 20) =>
        EmbeddedLedgerStore.OpenAsync(
            new EmbeddedStoreOptions
            {
                DataDirectory = _directory,
                SnapshotEveryBlocks = snapshotEveryBlocks,
                SnapshotOnClose = snapshotOnClose,
                SnapshotEveryBytes = snapshotEveryBytes,
            },
            None);

    private async Task WriteChainAsync(int count, int snapshotEveryBlocks)
    {
        await using var store = await OpenAsync(snapshotEveryBlocks);
        foreach (var block in _blocks.Chain(count))
        {
            await store.AppendAsync(block, None);
            await store.SnapshotIdle; // the snapshots at every threshold, not only those that find none in flight
        }
    }

    private static Hash256 Key(int i)
    {
        var bytes = new byte[32];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes, i);
        bytes[31] = 7;
        return new Hash256(bytes);
    }

    [Fact]
    public void A_frozen_layer_sorts_in_key_order_also_where_keys_share_their_first_eight_bytes()
    {
        var random = new Random(20261203);
        var layer = new Dictionary<Hash256, byte[]?>();
        var prefixes = Enumerable.Range(0, 40).Select(_ => { var p = new byte[8]; random.NextBytes(p); return p; }).ToArray();
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = new byte[32];
            random.NextBytes(bytes);
            if (i % 3 == 0)
            {
                prefixes[random.Next(prefixes.Length)].CopyTo(bytes, 0); // runs of equal prefixes, told apart by the rest
            }

            layer[new Hash256(bytes)] = i % 7 == 0 ? null : BitConverter.GetBytes(i);
        }

        var sorted = IndexTable.Sorted(layer);
        Assert.Equal(layer.OrderBy(pair => pair.Key).Select(pair => (pair.Key, pair.Value)), sorted.Select(pair => (pair.Key, pair.Value)));
    }

    [Fact]
    public void A_run_answers_every_key_it_holds_short_and_long_values_and_deletions_and_nothing_else()
    {
        Directory.CreateDirectory(_directory);
        var entries = Enumerable.Range(0, 500).Select(i => new KeyValuePair<Hash256, byte[]?>(Key(i * 2),
            i % 7 == 0 ? null : Enumerable.Repeat((byte)i, i % 3 == 0 ? 300 : 20).ToArray())).ToList();
        var path = Path.Combine(_directory, "t-1.run");
        var written = IndexRun.Write(path, entries);
        var run = IndexRun.Open(path, written.Checksum);
        try
        {
            Assert.Equal(500, run.Count);
            foreach (var (key, value) in entries)
            {
                Assert.True(run.TryGet(key, out var found));
                Assert.Equal(value, found);
            }

            Assert.False(run.TryGet(Key(1), out _));
            Assert.False(run.TryGet(Key(999_999), out _));
            Assert.Equal(entries, run.Entries().ToList());
        }
        finally
        {
            run.Release();
            written.Release();
        }
    }

    [Fact]
    public void A_runs_entries_read_in_order_give_every_long_value_across_many_heap_windows_and_one_longer_than_a_window()
    {
        Directory.CreateDirectory(_directory);
        var random = new Random(4);
        var entries = Enumerable.Range(0, 3_000).Select(i =>
        {
            var value = new byte[i == 1_500 ? 400_000 : random.Next(45, 5_000)];
            random.NextBytes(value);
            return new KeyValuePair<Hash256, byte[]?>(Key(i), i % 11 == 0 ? null : value);
        }).ToList();
        var path = Path.Combine(_directory, "t-2.run");
        var written = IndexRun.Write(path, entries);
        var run = IndexRun.Open(path, written.Checksum);
        try
        {
            Assert.Equal(entries, run.Entries().ToList());
            Assert.True(run.TryGet(Key(1_500), out var longest));
            Assert.Equal(entries[1_500].Value, longest);
        }
        finally
        {
            run.Release();
            written.Release();
        }
    }

    [Fact]
    public void A_run_with_one_flipped_bit_fails_its_checksum()
    {
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, "t-1.run");
        var written = IndexRun.Write(path, Enumerable.Range(0, 100).Select(i => new KeyValuePair<Hash256, byte[]?>(Key(i), [(byte)i])));
        written.Release();
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 3] ^= 0x04;
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<StoreCorruptedException>(() => IndexRun.Open(path, written.Checksum));
        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Newer_runs_and_the_delta_hide_older_values_and_a_merge_into_the_oldest_run_drops_deletions()
    {
        Directory.CreateDirectory(_directory);
        var table = new IndexTable("t");
        var sequence = 0;
        string NewPath(string name) => Path.Combine(_directory, $"{name}-{++sequence}.run");
        void Flush()
        {
            var frozen = table.Freeze();
            table.Commit(frozen, IndexTable.PrepareFlush(frozen, NewPath));
        }

        for (var i = 0; i < 100; i++)
        {
            table.Put(Key(i), [1]);
        }

        Flush();
        for (var i = 0; i < 100; i += 2)
        {
            table.Put(Key(i), i % 4 == 0 ? null : [2]);
        }

        Assert.Null(table.Get(Key(0)));
        Assert.Equal(Two, table.Get(Key(2)));
        Assert.Equal(One, table.Get(Key(1)));
        var frozen = table.Freeze(); // a snapshot in progress: the changes move to a frozen layer, new writes go over it
        table.Put(Key(1), [3]);
        table.Put(Key(200), [3]);
        Assert.Null(table.Get(Key(0)));
        Assert.Equal(Two, table.Get(Key(2)));
        Assert.Equal([3], table.Get(Key(1)));
        using (var during = table.View())
        {
            Assert.Equal(76, during.Live().Count());
        }

        table.Commit(frozen, IndexTable.PrepareFlush(frozen, NewPath)); // 50 changes over 100 entries: merged, deletions dropped
        Assert.Equal([3], table.Get(Key(1)));
        Assert.Equal(0, table.FrozenCount);

        Assert.Single(table.Runs);
        Assert.Equal(75, table.Runs[0].Count);
        Assert.Null(table.Get(Key(4)));
        Assert.Equal(Two, table.Get(Key(6)));
        Assert.Equal(One, table.Get(Key(99)));
        using (var view = table.View())
        {
            Assert.Equal(76, view.Live().Count()); // and key 200, in the delta
        }

        table.Close();
    }

    [Fact]
    public void Merged_runs_keep_every_long_and_short_value_and_deletion_the_newest_layer_gave_over_many_flushes()
    {
        // Each flush merges the frozen changes with the newest runs when due (their long values read from the old runs'
        // heaps and written once behind the new run's pages); after each, every key answers as a plain dictionary does.
        Directory.CreateDirectory(_directory);
        var table = new IndexTable("t");
        var expected = new Dictionary<Hash256, byte[]>();
        var random = new Random(9);
        var sequence = 0;
        for (var flush = 0; flush < 12; flush++)
        {
            for (var i = 0; i < 400; i++)
            {
                var key = Key(random.Next(2_000));
                if (random.Next(8) == 0)
                {
                    table.Put(key, null);
                    expected.Remove(key);
                    continue;
                }

                var value = new byte[random.Next(3) == 0 ? random.Next(0, IndexRun.InlineMax + 1) : random.Next(IndexRun.InlineMax + 1, 700)];
                random.NextBytes(value);
                table.Put(key, value);
                expected[key] = value;
            }

            var frozen = table.Freeze();
            table.Commit(frozen, IndexTable.PrepareFlush(frozen, name => Path.Combine(_directory, $"{name}-{++sequence}.run")));
            for (var k = 0; k < 2_000; k++)
            {
                Assert.Equal(expected.GetValueOrDefault(Key(k)), table.Get(Key(k)));
            }

            using var view = table.View();
            Assert.Equal(expected.OrderBy(pair => pair.Key).Select(pair => (pair.Key, pair.Value)), view.Live().Select(pair => (pair.Key, pair.Value)));
        }

        Assert.InRange(table.Runs.Count, 1, 8);
        Assert.Empty(Directory.EnumerateFiles(_directory, "*.heap"));
        table.Close();
    }

    [Fact]
    public void Rows_found_by_subject_follow_every_upsert_that_moves_them_between_subjects_across_flushes()
    {
        // The table keeps the identity lists it read or wrote lately; they must stay what the table holds while rows
        // move between subjects and the lists go from the delta to frozen layers to runs.
        Directory.CreateDirectory(_directory);
        var table = new IndexTable("credit-records");
        var records = LedgerIndex.CreditRecordTable(table);
        var model = new Dictionary<string, string>(); // record → subject
        var random = new Random(21);
        var sequence = 0;
        for (var round = 0; round < 30; round++)
        {
            for (var i = 0; i < 40; i++)
            {
                var id = $"record-{random.Next(300)}";
                var subject = $"subject-{random.Next(20)}";
                records.Upsert(new CreditRecordRow(id, subject, Key(round), round, 1, 1, 1, default, round, round + 1));
                model[id] = subject;
            }

            if (round % 3 == 2)
            {
                var frozen = table.Freeze();
                table.Commit(frozen, IndexTable.PrepareFlush(frozen, name => Path.Combine(_directory, $"{name}-{++sequence}.run")));
            }

            for (var s = 0; s < 20; s++)
            {
                var subject = $"subject-{s}";
                Assert.Equal(model.Where(pair => pair.Value == subject).Select(pair => pair.Key).Order(StringComparer.Ordinal),
                    records.Find(0, subject).Select(row => row.RecordId).Order(StringComparer.Ordinal));
            }
        }

        table.Close();
    }

    [Fact]
    public void A_subject_list_keeps_insertion_order_through_moves_out_of_its_middle_and_survives_a_flush_and_being_emptied()
    {
        // The lists are changed as UTF-8 bytes (an entry spliced out, one appended): identities of different byte
        // lengths, multi-byte characters among them, must come back exactly and in the order they joined.
        Directory.CreateDirectory(_directory);
        var table = new IndexTable("list-entries");
        var records = LedgerIndex.CreditRecordTable(table);
        string[] ids = ["r-1", "记录-二", "r-three-long-identity", "é", "r-5"];
        void Put(string id, string subject, int height) => records.Upsert(new CreditRecordRow(id, subject, Key(height), height, 1, 1, 1, default, height, height + 1));
        List<string> Subject(string subject) => [.. records.Find(0, subject).Select(row => row.RecordId)];

        for (var i = 0; i < ids.Length; i++)
        {
            Put(ids[i], "京-subject", i);
        }

        Put(ids[1], "other", 10); // out of the middle
        Put(ids[3], "other", 11);
        Put(ids[0], "京-subject", 12); // an update that stays: no second entry
        Assert.Equal(["r-1", "r-three-long-identity", "r-5"], Subject("京-subject"));
        Assert.Equal(["记录-二", "é"], Subject("other"));

        var frozen = table.Freeze();
        table.Commit(frozen, IndexTable.PrepareFlush(frozen, name => Path.Combine(_directory, $"{name}-1.run")));
        Put(ids[1], "京-subject", 13); // back, at the end
        Put(ids[3], "京-subject", 14);
        Assert.Equal(["r-1", "r-three-long-identity", "r-5", "记录-二", "é"], Subject("京-subject"));
        Assert.Empty(Subject("other")); // emptied: the list is gone, not an empty one

        Put(ids[3], "other", 15);
        Assert.Equal(["é"], Subject("other"));
        Assert.Equal(13, records.Get(ids[1])!.Height);
        table.Close();
    }

    [Fact]
    public void A_subject_with_many_records_keeps_them_all_in_order_across_chunks_moves_and_flushes()
    {
        // Past ChunkSize identities a list continues in chunks under keys of their own: every record must still be
        // found, in the order it joined, while records leave from the head, a middle chunk and the last one and come
        // back, and while the table's layers go to runs.
        Directory.CreateDirectory(_directory);
        var table = new IndexTable("credit-records");
        var records = LedgerIndex.CreditRecordTable(table);
        var size = ProjectionTable<CreditRecordRow>.ChunkSize;
        var expected = new List<string>();
        var sequence = 0;
        void Put(string id, string subject) => records.Upsert(new CreditRecordRow(id, subject, Key(sequence), sequence++, 1, 1, 1, default, 0, 1));
        void Flush()
        {
            var frozen = table.Freeze();
            table.Commit(frozen, IndexTable.PrepareFlush(frozen, name => Path.Combine(_directory, $"{name}-{sequence}.run")));
        }

        for (var i = 0; i < (3 * size) + 7; i++)
        {
            Put($"r-{i}", "hot");
            expected.Add($"r-{i}");
            if (i % 100 == 99)
            {
                Flush();
            }
        }

        Assert.Equal(expected, records.Find(0, "hot").Select(r => r.RecordId));
        foreach (var leaving in new[] { 0, 5, size + 3, (2 * size) + 1, (3 * size) + 6 })
        {
            Put($"r-{leaving}", "cold");
            expected.Remove($"r-{leaving}");
        }

        Flush();
        Assert.Equal(expected, records.Find(0, "hot").Select(r => r.RecordId));
        Assert.Equal(["r-0", "r-5", $"r-{size + 3}", $"r-{(2 * size) + 1}", $"r-{(3 * size) + 6}"], records.Find(0, "cold").Select(r => r.RecordId));

        Put("r-5", "hot"); // back: at the end
        expected.Add("r-5");
        for (var i = 0; i < size; i++)
        {
            Put($"late-{i}", "hot");
            expected.Add($"late-{i}");
        }

        Assert.Equal(expected, records.Find(0, "hot").Select(r => r.RecordId));
        Assert.Equal(4, records.Find(0, "cold").Count);
        table.Close();
    }

    [Fact]
    public void A_long_list_written_before_chunks_existed_reads_as_before_and_grows_in_chunks()
    {
        // Stores written before lists had chunks hold one list of any length (tag 1): it must read the same, take new
        // identities after its own, and give them up again.
        var table = new IndexTable("credit-records");
        var records = LedgerIndex.CreditRecordTable(table);
        var old = Enumerable.Range(0, 300).Select(i => $"old-{i}").ToList();
        foreach (var (id, i) in old.Select((id, i) => (id, i)))
        {
            using var row = new BinaryEncoder(256);
            row.WriteByte(0);
            ProjectionCodec.Write(row, new CreditRecordRow(id, "legacy", Key(i), i, 1, 1, 1, default, 0, 1));
            table.Put(ProjectionTable<CreditRecordRow>.RowKey(id), row.WrittenSpan.ToArray());
        }

        using (var list = new BinaryEncoder(64 * 1024))
        {
            list.WriteByte(1);
            list.WriteInt32(old.Count);
            old.ForEach(list.WriteString);
            table.Put(ProjectionTable<CreditRecordRow>.ListKey(0, "legacy"), list.WrittenSpan.ToArray());
        }

        Assert.Equal(old, records.Find(0, "legacy").Select(r => r.RecordId));
        records.Upsert(new CreditRecordRow("new-1", "legacy", Key(1_000), 1_000, 1, 1, 1, default, 0, 1));
        records.Upsert(new CreditRecordRow("old-7", "elsewhere", Key(1_001), 1_001, 1, 1, 1, default, 0, 1));
        Assert.Equal([.. old.Where(id => id != "old-7"), "new-1"], records.Find(0, "legacy").Select(r => r.RecordId));
        Assert.Equal(["old-7"], records.Find(0, "elsewhere").Select(r => r.RecordId));
    }

    [Fact]
    public void A_run_whose_values_are_not_the_entries_of_its_pages_is_refused_and_leaves_no_file()
    {
        Directory.CreateDirectory(_directory);
        var entries = Enumerable.Range(0, 60).Select(i => new KeyValuePair<Hash256, byte[]?>(Key(i), new byte[100 + i])).ToList();
        var heads = entries.Select(pair => new KeyValuePair<Hash256, EntryHead>(pair.Key, EntryHead.Of(pair.Value))).ToList();
        var path = Path.Combine(_directory, "t-3.run");

        var shorter = entries.Select((pair, i) => i == 30 ? new KeyValuePair<Hash256, byte[]?>(pair.Key, new byte[99]) : pair);
        Assert.Throws<InvalidOperationException>(() => IndexRun.Write(path, heads, shorter));
        Assert.False(File.Exists(path));

        var otherKey = entries.Select((pair, i) => i == 59 ? new KeyValuePair<Hash256, byte[]?>(Key(1_000), pair.Value) : pair);
        Assert.Throws<InvalidOperationException>(() => IndexRun.Write(path, heads, otherKey));
        Assert.False(File.Exists(path));

        var withoutInline = new[] { new KeyValuePair<Hash256, EntryHead>(Key(1), new EntryHead(10, null)) };
        Assert.Throws<ArgumentException>(() => IndexRun.Write(path, withoutInline, [new(Key(1), new byte[10])]));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Many_small_snapshots_share_and_merge_their_runs_and_reopen_to_the_same_answers()
    {
        await WriteChainAsync(40, snapshotEveryBlocks: 1);

        await using var store = await OpenAsync();
        Assert.Contains(store.Recovery.Actions, a => a.Kind == RecoveryActionKind.SnapshotLoaded);
        Assert.Equal(39, (await store.GetHeadAsync(None))!.Value.Height);
        foreach (var block in _blocks.Chain(40))
        {
            foreach (var tx in block.Transactions)
            {
                Assert.Equal(tx.Bytes.ToArray(), (await store.GetTransactionAsync(tx.TxHash, None))!.Bytes.ToArray());
            }

            foreach (var node in block.HistoryNodes)
            {
                Assert.Equal(node.Hash, await store.GetHistoryNodeAsync(node.Level, node.Index, None));
            }
        }

        // Nine tables, each with at most a handful of runs: merges keep the count logarithmic, clean-up removes the merged.
        var runs = Directory.GetFiles(RunDirectory, "*.run");
        Assert.InRange(runs.Length, 9, 9 * 2 * 8);
        var state = new List<StateEntry>();
        await foreach (var entry in store.EnumerateStateAsync(None))
        {
            state.Add(entry);
        }

        Assert.Equal(state.OrderBy(e => e.Key).Select(e => e.Key), state.Select(e => e.Key));
        Assert.NotNull(await store.GetStateAsync(TestBlocks.RecordKey(27), None));
    }

    [Fact]
    public async Task A_damaged_index_file_is_detected_and_the_index_is_rebuilt_from_the_segments_and_reported()
    {
        await WriteChainAsync(6, snapshotEveryBlocks: 1000); // one snapshot, on no block: written at close below
        await using (var store = await OpenAsync(snapshotOnClose: true))
        {
            await store.AppendAsync(_blocks.At(6), None);
        }

        var run = Directory.GetFiles(RunDirectory, "transactions-*.run").Single();
        var bytes = File.ReadAllBytes(run);
        bytes[100] ^= 0x01;
        File.WriteAllBytes(run, bytes);

        await using (var reopened = await OpenAsync(snapshotOnClose: true))
        {
            var skipped = Assert.Single(reopened.Recovery.Actions, a => a.Kind == RecoveryActionKind.SnapshotSkipped);
            Assert.Contains("checksum", skipped.Detail, StringComparison.Ordinal);
            Assert.Contains(reopened.Recovery.Actions, a => a.Kind == RecoveryActionKind.SegmentsReplayed);
            Assert.Equal(6, (await reopened.GetHeadAsync(None))!.Value.Height);
            Assert.NotNull(await reopened.GetTransactionAsync(TestBlocks.TxHashAt(27), None));
            await reopened.AppendAsync(_blocks.At(7), None);
        }

        await using var again = await OpenAsync();
        Assert.DoesNotContain(again.Recovery.Actions, a => a.Kind == RecoveryActionKind.SnapshotSkipped);
        Assert.Equal(7, (await again.GetHeadAsync(None))!.Value.Height);
        Assert.NotNull(await again.GetTransactionAsync(TestBlocks.TxHashAt(27), None));
    }

    [Fact]
    public async Task A_snapshot_in_the_old_whole_index_format_is_skipped_with_its_reason_and_the_index_rebuilt()
    {
        await WriteChainAsync(4, snapshotEveryBlocks: 1000);
        WriteOldFormatSnapshots(3);

        await using var store = await OpenAsync();

        var skipped = Assert.Single(store.Recovery.Actions, a => a.Kind == RecoveryActionKind.SnapshotSkipped);
        Assert.Contains("format 3", skipped.Detail, StringComparison.Ordinal);
        Assert.Equal(3, (await store.GetHeadAsync(None))!.Value.Height);
        Assert.NotNull(await store.GetStateAsync(TestBlocks.RecordKey(11), None));
    }

    [Fact]
    public async Task A_rebuild_below_unusable_newer_snapshots_snapshots_as_it_replays_and_the_next_open_loads_its_snapshot()
    {
        await WriteChainAsync(10, snapshotEveryBlocks: 1000);
        WriteOldFormatSnapshots(9, 8);

        // Every replayed block takes a snapshot, each below the two old-format ones.
        await using (var rebuilt = await OpenAsync(snapshotOnClose: true, snapshotEveryBytes: 1))
        {
            Assert.Equal(2, rebuilt.SkippedSnapshots.Count);
            Assert.Equal(9, (await rebuilt.GetHeadAsync(None))!.Value.Height);
        }

        await using var reopened = await OpenAsync();
        Assert.Empty(reopened.SkippedSnapshots);
        Assert.DoesNotContain(reopened.Recovery.Actions, a => a.Kind == RecoveryActionKind.SegmentsReplayed);
        Assert.Equal(9, (await reopened.GetHeadAsync(None))!.Value.Height);
        Assert.NotNull(await reopened.GetTransactionAsync(TestBlocks.TxHashAt(3), None));
        Assert.NotNull(await reopened.GetTransactionAsync(TestBlocks.TxHashAt(39), None));
        Assert.NotNull(await reopened.GetStateAsync(TestBlocks.RecordKey(21), None));
    }

    [Fact]
    public async Task Long_state_values_are_kept_as_references_to_their_records_and_read_back_from_memory_runs_and_a_reopened_store()
    {
        static byte[] Long(int n) => [.. Enumerable.Range(0, 2_000 + n).Select(i => (byte)((i * 7) + n))];
        var (kept, small, edge, replaced, deleted) = (Key(1), Key(2), Key(3), Key(4), Key(5));
        var edgeValue = Enumerable.Repeat((byte)9, StoredStateValue.InlineMax + 1).ToArray(); // the shortest value a reference stands for
        var blocks = _blocks.Chain(3).ToArray();
        blocks[0] = blocks[0] with { StateWrites = [new(kept, Long(0)), new(small, [5]), new(replaced, Long(1)), new(deleted, Long(2))] };
        blocks[1] = blocks[1] with { StateWrites = [new(edge, edgeValue), new(replaced, Long(3)), new(replaced, Long(4)), new(deleted, null)] };
        blocks[2] = blocks[2] with { StateWrites = [new(small, [6, 7])] };

        async Task CheckAsync(EmbeddedLedgerStore store)
        {
            Assert.Equal(Long(0), await store.GetStateAsync(kept, None));
            Assert.Equal([6, 7], await store.GetStateAsync(small, None));
            Assert.Equal(edgeValue, await store.GetStateAsync(edge, None));
            Assert.Equal(Long(4), await store.GetStateAsync(replaced, None)); // the block's later write wins
            Assert.Null(await store.GetStateAsync(deleted, None));
            var state = new List<StateEntry>();
            await foreach (var entry in store.EnumerateStateAsync(None))
            {
                state.Add(entry);
            }

            Assert.Equal([kept, small, edge, replaced], state.Select(e => e.Key));
            Assert.Equal([Long(0), [6, 7], edgeValue, Long(4)], state.Select(e => e.Value.ToArray()));
            var keys = new List<Hash256>();
            await foreach (var key in store.EnumerateStateKeysAsync(None))
            {
                keys.Add(key);
            }

            Assert.Equal([kept, small, edge, replaced], keys); // the same keys, no value read
        }

        await using (var store = await OpenAsync(snapshotOnClose: true))
        {
            foreach (var block in blocks)
            {
                await store.AppendAsync(block, None);
            }

            await CheckAsync(store); // the table's changes in memory
        }

        var stateRun = Assert.Single(Directory.GetFiles(RunDirectory, "state-*.run"));
        await using (var reopened = await OpenAsync())
        {
            Assert.Contains(reopened.Recovery.Actions, a => a.Kind == RecoveryActionKind.SnapshotLoaded);
            await CheckAsync(reopened); // the run written at close

            // The run holds references, not the values: one page of four entries, the fence, the filter and the footer.
            Assert.True(new FileInfo(stateRun).Length < 4096 + 1024, $"the state run is {new FileInfo(stateRun).Length} bytes");
        }
    }

    [Fact]
    public void A_state_entry_that_is_neither_form_or_points_outside_the_block_log_is_reported_as_damage()
    {
        Directory.CreateDirectory(_directory);
        using var segments = SegmentLog.Open(Path.Combine(_directory, "segments"), 1 << 20);
        Assert.Equal([1, 2], StoredStateValue.Resolve([0, 1, 2], segments));
        Assert.Throws<StoreCorruptedException>(() => StoredStateValue.Resolve([], segments));
        Assert.Throws<StoreCorruptedException>(() => StoredStateValue.Resolve([7, 1, 2], segments));
        Assert.Throws<StoreCorruptedException>(() => StoredStateValue.Resolve(StoredStateValue.Of(new byte[40], 3, 100)!, segments)); // no segment 3
        Assert.Throws<StoreCorruptedException>(() => StoredStateValue.Resolve(StoredStateValue.Of(new byte[40], 0, 1 << 30)!, segments)); // past its end
    }

    [Fact]
    public async Task A_snapshot_in_format_5_with_state_values_copied_is_skipped_and_the_index_rebuilt_once()
    {
        await WriteChainAsync(6, snapshotEveryBlocks: 1000);
        await using (var store = await OpenAsync(snapshotOnClose: true))
        {
            await store.AppendAsync(_blocks.At(6), None);
        }

        // The manifest as the previous version wrote it, but for its number: the runs are the same files.
        var manifest = Assert.Single(Directory.GetFiles(Path.Combine(_directory, "snapshots"), "*.snap"));
        var bytes = File.ReadAllBytes(manifest);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), 5);
        BitConverter.TryWriteBytes(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
        File.WriteAllBytes(manifest, bytes);

        await using (var rebuilt = await OpenAsync(snapshotOnClose: true))
        {
            var skipped = Assert.Single(rebuilt.Recovery.Actions, a => a.Kind == RecoveryActionKind.SnapshotSkipped);
            Assert.Contains("format 5", skipped.Detail, StringComparison.Ordinal);
            Assert.Contains(rebuilt.Recovery.Actions, a => a.Kind == RecoveryActionKind.SegmentsReplayed);
            Assert.Equal(6, (await rebuilt.GetHeadAsync(None))!.Value.Height);
            Assert.NotNull(await rebuilt.GetStateAsync(TestBlocks.RecordKey(27), None));
        }

        await using var reopened = await OpenAsync();
        Assert.DoesNotContain(reopened.Recovery.Actions, a => a.Kind is RecoveryActionKind.SnapshotSkipped or RecoveryActionKind.SegmentsReplayed);
        Assert.NotNull(await reopened.GetStateAsync(TestBlocks.RecordKey(27), None));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4_000)] // a run list longer than the head the clean-up reads first
    public void The_clean_up_reads_a_manifests_run_names_from_its_head_whatever_their_number(int runs)
    {
        var names = Enumerable.Range(0, runs).Select(i => $"projection-{i:D10}.run").ToList();
        using var encoder = new BinaryEncoder();
        encoder.WriteUInt32(LedgerIndex.SnapshotMagic);
        encoder.WriteInt32(4);
        encoder.WriteInt64(7);
        encoder.WriteHash(TestBlocks.TxHashAt(1));
        encoder.WriteInt32(2);
        foreach (var (table, mine) in new[] { ("blocks", names.Take(1)), ("projection", names.Skip(1)) })
        {
            encoder.WriteString(table);
            encoder.WriteInt32(mine.Count());
            foreach (var name in mine)
            {
                encoder.WriteString(name);
                encoder.WriteInt64(1);
                encoder.WriteUInt32(0);
            }
        }

        var runListEnd = encoder.Length;

        // The rest (block index, state-node locator) is what the clean-up does not need to read.
        for (var i = 0; i < LedgerIndex.ManifestHeadBytes / 8; i++)
        {
            encoder.WriteInt64(i);
        }

        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, "snapshot-000000000007.snap");
        File.WriteAllBytes(path, encoder.WrittenSpan.ToArray());

        Assert.Equal(runs > 1_000, runListEnd > LedgerIndex.ManifestHeadBytes); // both ways through are taken
        Assert.Equal(names, LedgerIndex.RunFilesOf(path));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>Snapshot files in the old whole-index format (version 3) at <paramref name="heights"/>.</summary>
    private void WriteOldFormatSnapshots(params long[] heights)
    {
        var old = new byte[4096];
        BitConverter.TryWriteBytes(old, LedgerIndex.SnapshotMagic);
        BitConverter.TryWriteBytes(old.AsSpan(4), 3);
        Directory.CreateDirectory(Path.Combine(_directory, "snapshots"));
        foreach (var height in heights)
        {
            File.WriteAllBytes(Path.Combine(_directory, "snapshots", $"snapshot-{height:D12}.snap"), old);
        }
    }
}
