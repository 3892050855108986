using Microsoft.Extensions.Logging;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Testing.Storage;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>
/// Issue 10: no acknowledged block disappears silently. The head marker records what was acknowledged; a log that
/// falls short of it refuses to open with the missing heights, a torn never-acknowledged tail is still cut (and
/// logged), and repair moves damaged bytes aside instead of deleting them.
/// </summary>
public sealed class EmbeddedStoreAcknowledgementTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "smartcity-ack-" + Guid.NewGuid().ToString("N"));
    private readonly TestBlocks _blocks = new();

    private string SegmentPath(int number) => Path.Combine(_directory, "segments", $"{number:D8}.seg");

    private string SnapshotDirectory => Path.Combine(_directory, "snapshots");

    private Task<EmbeddedLedgerStore> OpenAsync(ILogger? logger = null, bool readOnly = false, bool snapshotOnClose = true) =>
        EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory, ReadOnly = readOnly, SnapshotOnClose = snapshotOnClose }, logger, None);

    private async Task WriteChainAsync(int count, bool snapshotOnClose = true)
    {
        await using var store = await OpenAsync(snapshotOnClose: snapshotOnClose);
        foreach (var block in _blocks.Chain(count))
        {
            await store.AppendAsync(block, None);
        }
    }

    /// <summary>The reproduction: snapshots deleted, the last segment truncated by 100 bytes, reopen.</summary>
    [Fact]
    public async Task Losing_the_end_of_the_last_segment_refuses_to_open_naming_the_missing_heights_and_the_way_back()
    {
        await WriteChainAsync(3); // blocks 0, 1, 2 acknowledged; closing writes a snapshot
        foreach (var snapshot in Directory.GetFiles(SnapshotDirectory))
        {
            File.Delete(snapshot);
        }

        var segment = SegmentPath(0);
        var length = new FileInfo(segment).Length;
        using (var file = File.OpenHandle(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(file, length - 100); // truncate -s -100
        }

        var error = await Assert.ThrowsAsync<AcknowledgedBlocksMissingException>(() => OpenAsync());

        Assert.Equal((2, 2), (error.MissingFrom, error.MissingTo));
        Assert.Contains("block 2 is missing", error.Message, StringComparison.Ordinal);
        Assert.Contains("store repair", error.Message, StringComparison.Ordinal);
        Assert.Contains("peers", error.Message, StringComparison.Ordinal);
        Assert.Equal(length - 100, new FileInfo(segment).Length); // refusing changed nothing
    }

    [Fact]
    public async Task A_deleted_last_segment_refuses_to_open_with_every_acknowledged_height_it_held()
    {
        await using (var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory, SegmentSize = 1 << 20, SnapshotOnClose = false }, None))
        {
            var big = new TestBlocks { TransactionsPerBlock = 400 }; // ~140 KB a block: 1 MiB segments roll over
            foreach (var block in big.Chain(12))
            {
                await store.AppendAsync(block, None);
            }
        }

        var segments = Directory.GetFiles(Path.Combine(_directory, "segments")).Order().ToArray();
        Assert.True(segments.Length >= 2);
        File.Delete(segments[^1]);

        var error = await Assert.ThrowsAsync<AcknowledgedBlocksMissingException>(() => OpenAsync());

        Assert.Equal(11, error.MissingTo);
        Assert.True(error.MissingFrom is > 0 and <= 11, error.Message);
    }

    [Fact]
    public async Task A_torn_record_of_a_block_never_acknowledged_is_cut_reported_and_logged_at_warning()
    {
        await WriteChainAsync(3, snapshotOnClose: false);
        var segment = SegmentPath(0);
        var intactLength = new FileInfo(segment).Length;
        var torn = File.ReadAllBytes(segment)[16..716]; // the start of a record: what a crash mid-write leaves
        await using (var file = new FileStream(segment, FileMode.Append))
        {
            file.Write(torn);
        }

        var logger = new RecordingLogger();
        await using var store = await OpenAsync(logger);

        Assert.Equal(2, (await store.GetHeadAsync(None))!.Value.Height);
        Assert.Equal(intactLength, new FileInfo(segment).Length);
        var cut = Assert.Single(store.Recovery.Actions, a => a.Kind == RecoveryActionKind.TailTruncated);
        Assert.Contains("block 3", cut.Detail, StringComparison.Ordinal);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Event.Id == 5100 && e.Message.Contains("TailTruncated", StringComparison.Ordinal));
        Assert.Contains(store.Recovery.Actions, a => a.Kind == RecoveryActionKind.SegmentsReplayed);
        Assert.False(store.Recovery.IsClean);
    }

    [Fact]
    public async Task A_damaged_snapshot_is_skipped_with_its_reason_in_the_report_and_the_log()
    {
        await WriteChainAsync(4);
        var snapshot = Directory.GetFiles(SnapshotDirectory, "*.snap").Single();
        var bytes = File.ReadAllBytes(snapshot);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(snapshot, bytes);

        var logger = new RecordingLogger();
        await using var store = await OpenAsync(logger);

        Assert.Equal(3, (await store.GetHeadAsync(None))!.Value.Height);
        var skipped = Assert.Single(store.Recovery.Actions, a => a.Kind == RecoveryActionKind.SnapshotSkipped);
        Assert.Contains("checksum", skipped.Detail, StringComparison.Ordinal);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Event.Id == 5100 && e.Message.Contains("SnapshotSkipped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_snapshot_the_segments_no_longer_reach_is_skipped_and_the_shortfall_is_refused()
    {
        await WriteChainAsync(3); // snapshot at height 2
        var segment = SegmentPath(0);
        using (var file = File.OpenHandle(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(file, RandomAccess.GetLength(file) - 100);
        }

        var error = await Assert.ThrowsAsync<AcknowledgedBlocksMissingException>(() => OpenAsync());

        Assert.Equal((2, 2), (error.MissingFrom, error.MissingTo));
    }

    [Fact]
    public async Task Repair_moves_the_damaged_bytes_to_a_side_file_and_the_store_opens_at_its_last_intact_block()
    {
        await WriteChainAsync(3);
        foreach (var snapshot in Directory.GetFiles(SnapshotDirectory))
        {
            File.Delete(snapshot);
        }

        var segment = SegmentPath(0);
        var original = File.ReadAllBytes(segment);
        File.WriteAllBytes(segment, original[..^100]);
        var inspection = EmbeddedStoreRepair.Inspect(_directory);
        Assert.False(inspection.IsIntact);
        Assert.Equal(2, inspection.Damage!.FirstDamagedHeight);

        var logger = new RecordingLogger();
        var report = await EmbeddedStoreRepair.RepairAsync(_directory, logger, None);

        Assert.Equal(1, report.IntactHeight);
        Assert.Equal((2L, 2L), (report.LostFrom!.Value, report.LostTo!.Value));
        var side = Directory.GetFiles(report.SideDirectory!).Single();
        var kept = File.ReadAllBytes(segment);
        Assert.Equal(original[..^100], kept.Concat(File.ReadAllBytes(side)).ToArray()); // every byte is still somewhere
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Event.Id == 5102);

        await using var store = await OpenAsync();
        Assert.Equal(1, (await store.GetHeadAsync(None))!.Value.Height);
        await store.AppendAsync(_blocks.At(2), None);
    }

    [Fact]
    public async Task Repair_of_an_intact_store_changes_nothing()
    {
        await WriteChainAsync(3);
        var before = File.ReadAllBytes(SegmentPath(0));

        var report = await EmbeddedStoreRepair.RepairAsync(_directory, null, None);

        Assert.Null(report.SideDirectory);
        Assert.Null(report.LostFrom);
        Assert.Equal(before, File.ReadAllBytes(SegmentPath(0)));
        Assert.True(EmbeddedStoreRepair.Inspect(_directory).IsIntact);
    }

    [Fact]
    public async Task A_store_without_a_head_marker_opens_and_writes_one()
    {
        await WriteChainAsync(2);
        File.Delete(Path.Combine(_directory, "HEAD"));

        await using var store = await OpenAsync();

        Assert.Contains(store.Recovery.Actions, a => a.Kind == RecoveryActionKind.HeadMarkerWritten);
        Assert.True(File.Exists(Path.Combine(_directory, "HEAD")));
    }

    [Fact]
    public async Task A_read_only_open_leaves_a_torn_tail_in_place_and_refuses_appends()
    {
        await WriteChainAsync(2, snapshotOnClose: false);
        var segment = SegmentPath(0);
        await using (var file = new FileStream(segment, FileMode.Append))
        {
            file.Write(new byte[] { 0x53, 0x43, 0x42, 0x31, 9, 9 });
        }

        var length = new FileInfo(segment).Length;
        await using (var store = await OpenAsync(readOnly: true))
        {
            Assert.Equal(1, (await store.GetHeadAsync(None))!.Value.Height);
            Assert.Contains(store.Recovery.Actions, a => a.Kind == RecoveryActionKind.TailFound);
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.AppendAsync(_blocks.At(2), None));
        }

        Assert.Equal(length, new FileInfo(segment).Length);
    }

    [Fact]
    public async Task A_failed_fsync_is_fatal_for_the_store_instance_and_loses_no_acknowledged_block()
    {
        var faults = new FailingFlush();
        var options = new EmbeddedStoreOptions { DataDirectory = _directory, Faults = faults, SnapshotOnClose = false };
        await using (var store = await EmbeddedLedgerStore.OpenAsync(options, None))
        {
            await store.AppendAsync(_blocks.At(0), None);
            await store.AppendAsync(_blocks.At(1), None);
            faults.Fail = true;
            await Assert.ThrowsAsync<StoreFailedException>(async () => await store.AppendAsync(_blocks.At(2), None));
            faults.Fail = false;

            // Even with the disk healthy again, this instance never writes again: only a restart may.
            var again = await Assert.ThrowsAsync<StoreFailedException>(async () => await store.AppendAsync(_blocks.At(2), None));
            Assert.Contains("restart", again.Message, StringComparison.Ordinal);
            Assert.Equal(1, (await store.GetHeadAsync(None))!.Value.Height);
        }

        await using var reopened = await OpenAsync();
        var head = (await reopened.GetHeadAsync(None))!.Value.Height;
        Assert.InRange(head, 1, 2); // block 2 was written before its flush failed: whole, so recovery may keep it
        await reopened.AppendAsync(_blocks.At(head + 1), None);
    }

    [Fact]
    public async Task A_failed_write_is_undone_and_the_store_goes_on_when_the_cause_is_gone()
    {
        var faults = new FailingWrite();
        var options = new EmbeddedStoreOptions { DataDirectory = _directory, Faults = faults, SnapshotOnClose = false };
        await using (var store = await EmbeddedLedgerStore.OpenAsync(options, None))
        {
            await store.AppendAsync(_blocks.At(0), None);
            faults.Fail = true;
            var error = await Assert.ThrowsAsync<StoreUnavailableException>(async () => await store.AppendAsync(_blocks.At(1), None));
            Assert.Contains("disk is full", error.Message, StringComparison.Ordinal);
            faults.Fail = false;
            await store.AppendAsync(_blocks.At(1), None);
        }

        await using var reopened = await OpenAsync();
        Assert.Equal(1, (await reopened.GetHeadAsync(None))!.Value.Height);
        Assert.True(reopened.Recovery.Actions.All(a => a.Kind != RecoveryActionKind.TailTruncated));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private sealed class FailingFlush : StorageFaults
    {
        public volatile bool Fail;

        public override void BeforeFlush(string file)
        {
            if (Fail && file.EndsWith(".seg", StringComparison.Ordinal))
            {
                throw new IOException("Input/output error (injected fsync failure)");
            }
        }
    }

    private sealed class FailingWrite : StorageFaults
    {
        public volatile bool Fail;

        public override void BeforeWrite(string file)
        {
            if (Fail && file.EndsWith(".seg", StringComparison.Ordinal))
            {
                throw new IOException("No space left on device (injected)");
            }
        }
    }
}
