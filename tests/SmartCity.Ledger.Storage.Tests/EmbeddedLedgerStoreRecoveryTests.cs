using System.Text;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Testing.Storage;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>What the embedded store does with damaged, torn or unusual files at start-up.</summary>
public sealed class EmbeddedLedgerStoreRecoveryTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "smartcity-recovery-" + Guid.NewGuid().ToString("N"));
    private readonly TestBlocks _blocks = new();

    private string SegmentPath(int number) => Path.Combine(_directory, "segments", $"{number:D8}.seg");

    /// <summary>Opens the store without a snapshot on close, so recovery has segments to replay, as after a crash.</summary>
    private Task<EmbeddedLedgerStore> OpenAsync(int snapshotEveryBlocks = 1000, long segmentSize = 64L << 20, bool snapshotOnClose = false) =>
        EmbeddedLedgerStore.OpenAsync(
            new EmbeddedStoreOptions { DataDirectory = _directory, SnapshotEveryBlocks = snapshotEveryBlocks, SegmentSize = segmentSize, SnapshotOnClose = snapshotOnClose },
            None);

    private async Task WriteChainAsync(int count, int snapshotEveryBlocks = 1000, TestBlocks? blocks = null, long segmentSize = 64L << 20)
    {
        await using var store = await OpenAsync(snapshotEveryBlocks, segmentSize);
        foreach (var block in (blocks ?? _blocks).Chain(count))
        {
            await store.AppendAsync(block, None);
            await store.SnapshotIdle; // the snapshots at every threshold, not only those that find none in flight
        }
    }

    [Fact]
    public void Crc32C_matches_the_published_check_value()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Theory]
    [InlineData(5)] // a few bytes of the next record header
    [InlineData(12)] // a whole header, no payload
    [InlineData(700)] // a header and part of the payload
    public async Task A_torn_last_record_is_cut_off_and_appending_continues(int tornBytes)
    {
        await WriteChainAsync(3);
        var segment = SegmentPath(0);
        var intactLength = new FileInfo(segment).Length;
        var record = File.ReadAllBytes(segment)[16..(16 + tornBytes)]; // the start of block 0's record: a plausible torn write
        await using (var file = new FileStream(segment, FileMode.Append))
        {
            file.Write(record);
        }

        await using (var store = await OpenAsync())
        {
            Assert.Equal(2, (await store.GetHeadAsync(None))!.Value.Height);
            Assert.Equal(intactLength, new FileInfo(segment).Length);
            await store.AppendAsync(_blocks.At(3), None);
        }

        await using var reopened = await OpenAsync();
        Assert.Equal(3, (await reopened.GetHeadAsync(None))!.Value.Height);
    }

    [Fact]
    public async Task A_damaged_record_followed_by_intact_records_is_reported_as_corruption_not_truncated()
    {
        await WriteChainAsync(5);
        var bytes = File.ReadAllBytes(SegmentPath(0));
        bytes[16 + 12 + 100] ^= 0x40; // inside block 0's payload
        File.WriteAllBytes(SegmentPath(0), bytes);

        var error = await Assert.ThrowsAnyAsync<StoreCorruptedException>(() => OpenAsync());

        Assert.Contains("followed by intact", error.Message, StringComparison.Ordinal);
        var missing = Assert.IsType<AcknowledgedBlocksMissingException>(error); // blocks 0 to 4 were acknowledged
        Assert.Equal((0, 4), (missing.MissingFrom, missing.MissingTo));
        Assert.Equal(bytes.Length, new FileInfo(SegmentPath(0)).Length);
    }

    [Fact]
    public async Task A_damaged_newest_snapshot_is_skipped_and_the_segments_cover_for_it()
    {
        await WriteChainAsync(7, snapshotEveryBlocks: 2);
        var snapshots = Directory.GetFiles(Path.Combine(_directory, "snapshots"), "*.snap").Order().ToArray();
        Assert.Equal(2, snapshots.Length); // the newest two are kept
        var newest = File.ReadAllBytes(snapshots[^1]);
        newest[newest.Length / 2] ^= 0x01;
        File.WriteAllBytes(snapshots[^1], newest);

        await using var store = await OpenAsync(snapshotEveryBlocks: 2);

        Assert.Single(store.SkippedSnapshots);
        Assert.Equal(6, (await store.GetHeadAsync(None))!.Value.Height);
        Assert.NotNull(await store.GetStateAsync(TestBlocks.RecordKey(27), None));
        Assert.NotNull(await store.GetTransactionAsync(TestBlocks.TxHashAt(27), None));
    }

    [Fact]
    public async Task A_store_restored_from_a_snapshot_answers_like_one_rebuilt_from_the_segments()
    {
        await WriteChainAsync(9, snapshotEveryBlocks: 4);
        await using (var fromSnapshot = await OpenAsync(snapshotEveryBlocks: 4))
        {
            Assert.Empty(fromSnapshot.SkippedSnapshots);
            await AssertChainAsync(fromSnapshot, 9);
        }

        Directory.Delete(Path.Combine(_directory, "snapshots"), recursive: true);
        await using var fromSegments = await OpenAsync();
        await AssertChainAsync(fromSegments, 9);
    }

    [Fact]
    public async Task Blocks_roll_over_into_new_segments_and_read_back_from_each()
    {
        var big = new TestBlocks { TransactionsPerBlock = 4, TransactionSize = 100_000 };
        await WriteChainAsync(12, blocks: big, segmentSize: 1 << 20);

        Assert.True(File.Exists(SegmentPath(2)));
        await using var store = await OpenAsync(segmentSize: 1 << 20);
        for (var height = 0; height < 12; height++)
        {
            var block = await store.GetBlockAsync(height, None);
            Assert.Equal(big.TransactionBytes(height * 4 + 3), block!.Transactions[^1].Bytes.ToArray());
        }
    }

    [Fact]
    public async Task A_clean_close_snapshots_the_head_so_a_restart_replays_nothing()
    {
        await using (var store = await OpenAsync(snapshotOnClose: true))
        {
            foreach (var block in _blocks.Chain(3))
            {
                await store.AppendAsync(block, None);
            }
        }

        Assert.True(File.Exists(Path.Combine(_directory, "snapshots", "snapshot-000000000002.snap")));
        await using var reopened = await OpenAsync();
        await AssertChainAsync(reopened, 3);
    }

    [Fact]
    public async Task A_segment_whose_creation_was_interrupted_is_started_again()
    {
        await WriteChainAsync(2);
        await File.WriteAllBytesAsync(SegmentPath(1), [0x53, 0x43]); // a crash between create and header flush

        await using var store = await OpenAsync();

        Assert.Equal(1, (await store.GetHeadAsync(None))!.Value.Height);
        await store.AppendAsync(_blocks.At(2), None);
    }

    [Fact]
    public async Task A_snapshot_that_cannot_be_written_does_not_fail_the_append_of_a_durable_block()
    {
        Directory.CreateDirectory(_directory);
        await File.WriteAllTextAsync(Path.Combine(_directory, "snapshots"), "a file where the snapshot directory belongs");
        await using var store = await OpenAsync(snapshotEveryBlocks: 1);

        await store.AppendAsync(_blocks.At(0), None);
        await store.SnapshotIdle; // snapshots are written in the background

        Assert.NotNull(store.SnapshotFailure);
        Assert.Equal(0, (await store.GetHeadAsync(None))!.Value.Height);
    }

    [Fact]
    public async Task A_second_store_cannot_open_a_directory_in_use()
    {
        await using var first = await OpenAsync();

        await Assert.ThrowsAsync<StoreUnavailableException>(() => OpenAsync());
    }

    [Fact]
    public async Task A_torn_access_log_entry_is_cut_off_and_the_chain_still_verifies()
    {
        await using (var store = await OpenAsync())
        {
            for (var i = 0; i < 3; i++)
            {
                await store.AppendAccessAsync(new AccessRequest(default, "/m", "s", i, default, new byte[65]), None);
            }
        }

        await using (var file = new FileStream(Path.Combine(_directory, "access.log"), FileMode.Append))
        {
            file.Write([0x53, 0x43, 0x41, 0x31, 0xFF]);
        }

        await using var reopened = await OpenAsync();
        var verification = await reopened.VerifyAccessLogAsync(None);
        Assert.True(verification.IsIntact);
        Assert.Equal(3, verification.EntriesChecked);
    }

    private async Task AssertChainAsync(EmbeddedLedgerStore store, int count)
    {
        Assert.Equal(new StoreHead(count - 1, TestBlocks.BlockHashAt(count - 1), count * _blocks.TransactionsPerBlock), await store.GetHeadAsync(None));
        foreach (var block in _blocks.Chain(count))
        {
            Assert.Equal(block.Header.ToArray(), (await store.GetHeaderAsync(block.Height, None))!.Header.ToArray());
            foreach (var tx in block.Transactions)
            {
                Assert.Equal(tx.Bytes.ToArray(), (await store.GetTransactionAsync(tx.TxHash, None))!.Bytes.ToArray());
            }

            foreach (var node in block.HistoryNodes)
            {
                Assert.Equal(node.Hash, await store.GetHistoryNodeAsync(node.Level, node.Index, None));
            }
        }

        Assert.NotEmpty(await store.GetLicencesByHolderAsync(TestBlocks.HolderOf(1), None));
        Assert.NotEmpty(await store.GetMemorandaAsync(None));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
