using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// The default store: a data directory of append-only block segments, state snapshots and the access log, needing
/// nothing installed. A block counts as committed once its record is flushed to the disk; only then does it reach
/// the in-memory index that readers query, so readers never see a block a crash could take back. Start-up loads the
/// newest snapshot, replays the segments after it, truncates a torn tail and re-checks the newest blocks.
/// </summary>
public sealed partial class EmbeddedLedgerStore : ILedgerStore
{
    private readonly EmbeddedStoreOptions _options;
    private readonly FileStream? _directoryLock;
    private readonly SegmentLog _segments;
    private readonly SnapshotFiles _snapshots;
    private readonly AccessLogFile _accessLog;
    private readonly HeadMarker? _marker;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly SemaphoreSlim _accessWriter = new(1, 1);
    private readonly Lock _gate = new();
    private readonly LedgerIndex _index;
    private long _bytesSinceSnapshot;
    private int _blocksSinceSnapshot;
    private bool _snapshotRetry;
    private Task _snapshotInFlight = Task.CompletedTask;
    private bool _closing;
    private bool _disposed;

    // The encoding of the block being appended, reused from block to block under the writer lock: a block's record is
    // 1-4 MB, and a fresh buffer each time was the store's largest allocation (new pages the kernel must zero).
    private BinaryEncoder? _recordEncoder;

    private EmbeddedLedgerStore(EmbeddedStoreOptions options, FileStream? directoryLock, SegmentLog segments, SnapshotFiles snapshots, LedgerIndex index,
        AccessLogFile accessLog, HeadMarker? marker, ILogger logger)
    {
        _options = options;
        _directoryLock = directoryLock;
        _segments = segments;
        _snapshots = snapshots;
        _index = index;
        _index.ChangesBeforeNewBase = options.LocatorChangesBeforeNewBase;
        _accessLog = accessLog;
        _marker = marker;
        _logger = logger;
    }

    /// <summary>Snapshots that failed their checks at start-up and were skipped (the segments covered for them).</summary>
    public IReadOnlyList<string> SkippedSnapshots => [.. Recovery.Actions.Where(a => a.Kind == RecoveryActionKind.SnapshotSkipped).Select(a => a.Detail)];

    /// <summary>What opening the store repaired, skipped or replayed; each action was also logged at Warning.</summary>
    public StoreRecoveryReport Recovery { get; private init; } = StoreRecoveryReport.None;

    /// <summary>Opens (or creates) the store in <see cref="EmbeddedStoreOptions.DataDirectory"/> and recovers it.</summary>
    /// <exception cref="AcknowledgedBlocksMissingException">The segments end before the last block the store acknowledged.</exception>
    /// <exception cref="StoreCorruptedException">The data are damaged beyond a torn tail.</exception>
    /// <exception cref="StoreUnavailableException">Another process has the directory open.</exception>
    public static Task<EmbeddedLedgerStore> OpenAsync(EmbeddedStoreOptions options, CancellationToken cancellationToken)
        => OpenAsync(options, null, cancellationToken);

    /// <inheritdoc cref="OpenAsync(EmbeddedStoreOptions, CancellationToken)"/>
    public static Task<EmbeddedLedgerStore> OpenAsync(EmbeddedStoreOptions options, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Task.Run(() => Open(options, logger ?? NullLogger.Instance), cancellationToken);
    }

    private static EmbeddedLedgerStore Open(EmbeddedStoreOptions options, ILogger logger)
    {
        var directory = options.DataDirectory;
        if (options.ReadOnly && !Directory.Exists(directory))
        {
            throw new StoreUnavailableException($"there is no store at {directory}");
        }

        Directory.CreateDirectory(directory);
        var directoryLock = LockDirectory(directory, options.ReadOnly);
        SegmentLog? segments = null;
        HeadMarker? marker = null;
        LedgerIndex? index = null;
        try
        {
            var actions = new List<RecoveryAction>();
            void Report(RecoveryActionKind kind, string detail)
            {
                actions.Add(new RecoveryAction(kind, detail));
                if (kind == RecoveryActionKind.SnapshotLoaded)
                {
                    EmbeddedStoreLog.SnapshotLoaded(logger, directory, detail);
                }
                else
                {
                    EmbeddedStoreLog.Recovery(logger, kind, directory, detail);
                }
            }

            var acknowledged = HeadMarker.Read(directory);
            segments = SegmentLog.Open(Path.Combine(directory, "segments"), options.SegmentSize, options.ReadOnly, options.Faults);
            var snapshots = new SnapshotFiles(Path.Combine(directory, "snapshots"), options.ReadOnly);
            index = LoadSnapshot(snapshots, segments, Report) ?? new LedgerIndex();
            var disk = new IndexDiskReader(segments);
            var replayFrom = index.Block(index.BlockCount - 1)?.End ?? new RecordPosition(0, SegmentLog.FileHeaderSize);
            long replayedBytes = 0;
            var replayedBlocks = 0;
            long bytesSinceSnapshot = 0;
            var blocksSinceSnapshot = 0;
            var scan = segments.Recover(replayFrom, (position, payload) =>
            {
                var decoded = BlockRecordCodec.Decode(payload);
                BlockCommitRules.EnsureAppendable(decoded.Block, index.Head);
                index.Apply(decoded.Block, position, RecordFraming.HeaderSize + payload.Length, decoded.Layout, decoded.TxByteOffsets, decoded.ValueOffsets, decoded.NodeOffsets, disk);
                replayedBytes += payload.Length;
                replayedBlocks++;
                bytesSinceSnapshot += payload.Length;
                blocksSinceSnapshot++;
                if (!options.ReadOnly && bytesSinceSnapshot >= options.SnapshotEveryBytes)
                {
                    // A long replay (a rebuild of the whole index) moves its changes to disk as it goes, so that
                    // memory stays bounded by one snapshot interval. The blocks replayed so far passed their checksums.
                    try
                    {
                        snapshots.Write(index, null);
                        bytesSinceSnapshot = 0;
                        blocksSinceSnapshot = 0;
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        EmbeddedStoreLog.SnapshotFailed(logger, directory, $"snapshot during replay at height {index.Head?.Height} failed: {ex.Message}");
                    }
                }
            });
            if (scan.SegmentRestarted)
            {
                Report(RecoveryActionKind.SegmentRestarted, $"the last segment's file header was never completed (a crash while it was being started); it holds no block and {(options.ReadOnly ? "is treated as empty" : "was started again")}");
            }

            if (replayedBlocks > 0)
            {
                Report(RecoveryActionKind.SegmentsReplayed, $"replayed {replayedBlocks} block records ({replayedBytes:N0} bytes) after the snapshot, up to height {index.Head?.Height}");
            }

            var head = index.Head?.Height ?? -1;
            var acked = acknowledged?.Height ?? -1;
            if (scan.Damage is { } damage)
            {
                var where = $"segment {damage.Segment} ({SegmentLog.PathOf(segments.Directory, damage.Segment)}) has {damage.FileLength - damage.Offset} unreadable bytes at offset {damage.Offset}"
                    + (damage.IntactRecordFollows ? " followed by intact records" : "");
                if (head < acked)
                {
                    throw Missing(directory, head, acknowledged!.Value, where);
                }

                if (!damage.LooksTorn)
                {
                    throw new StoreCorruptedException($"{where}{(damage.IntactRecordFollows ? "" : " and later segments follow")}: damage to committed data, not a torn write. Nothing was changed; `smartcity store verify --data {directory}` reports the first damaged height and `smartcity store repair --data {directory}` moves the damaged bytes aside");
                }

                if (options.ReadOnly)
                {
                    Report(RecoveryActionKind.TailFound, $"{where}: the torn record of block {head + 1}, which was never acknowledged (the head marker says {acked}); left in place (read-only)");
                }
                else
                {
                    segments.TruncateTail(damage);
                    Report(RecoveryActionKind.TailTruncated, $"{where}: the torn record of block {head + 1}, which was never acknowledged (the head marker says {acked}); cut at offset {damage.Offset}");
                }
            }

            if (head < acked)
            {
                throw Missing(directory, head, acknowledged!.Value, $"the block log ends cleanly at height {head}");
            }

            if (acknowledged is { } ack && ack.Height >= 0 && index.Block(ack.Height)!.Value.Hash != ack.BlockHash)
            {
                throw new StoreCorruptedException($"block {ack.Height} in the log is {index.Block(ack.Height)!.Value.Hash}, but the store acknowledged {ack.BlockHash} at that height: the segments are not the ones this store wrote");
            }

            index.VerifyLinks();
            VerifyTail(segments, index, options.VerifyTailBlocks);
            if (!options.ReadOnly)
            {
                marker = HeadMarker.Open(directory, options.Faults);
                if (index.Head is { } current && (acknowledged is null || current.Height > acked))
                {
                    marker.Write(current);
                    Report(RecoveryActionKind.HeadMarkerWritten, acknowledged is null
                        ? $"the head marker was missing (a store written before markers existed, or the file was removed); written at height {current.Height}"
                        : $"block {current.Height} was flushed but not yet marked acknowledged when the store stopped; marked now (the head marker said {acked})");
                }
            }

            var accessLog = new AccessLogFile(Path.Combine(directory, "access.log"), options.ReadOnly);
            if (accessLog.TornTail is { } torn)
            {
                Report(RecoveryActionKind.AccessLogTailTruncated, $"a torn access-log entry of {torn} bytes was {(options.ReadOnly ? "found (left in place, read-only)" : "cut")}");
            }

            return new EmbeddedLedgerStore(options, directoryLock, segments, snapshots, index, accessLog, marker, logger)
            {
                Recovery = new StoreRecoveryReport(actions, index.Head?.Height, acknowledged?.Height),
                _bytesSinceSnapshot = bytesSinceSnapshot,
                _blocksSinceSnapshot = blocksSinceSnapshot,
            };
        }
        catch (StoreConflictException ex)
        {
            index?.Close();
            marker?.Dispose();
            segments?.Dispose();
            directoryLock?.Dispose();
            throw new StoreCorruptedException($"the block log does not form a chain: {ex.Message}", ex);
        }
        catch
        {
            index?.Close();
            marker?.Dispose();
            segments?.Dispose();
            directoryLock?.Dispose();
            throw;
        }
    }

    private static AcknowledgedBlocksMissingException Missing(string directory, long head, AcknowledgedHead acknowledged, string where)
    {
        var from = head + 1;
        var missing = from == acknowledged.Height ? $"block {from} is" : $"blocks {from} to {acknowledged.Height} are";
        return new AcknowledgedBlocksMissingException(from, acknowledged.Height,
            $"the store at {directory} acknowledged blocks up to height {acknowledged.Height} ({acknowledged.BlockHash}), but its block log reaches only height {head} ({where}): {missing} missing. " +
            $"Nothing was changed. To go on from height {head}: `smartcity store repair --data {directory}` moves the damaged bytes to {Path.Combine(directory, "damaged")} (deleting nothing), " +
            $"then the node fetches the missing blocks again from its peers; or restore the directory from a backup");
    }

    /// <summary>
    /// The newest snapshot that reads back intact and that the segments reach (its last block's record is where it
    /// says, with the hash it says); each one passed over is reported with the reason.
    /// </summary>
    private static LedgerIndex? LoadSnapshot(SnapshotFiles snapshots, SegmentLog segments, Action<RecoveryActionKind, string> report)
    {
        foreach (var (path, load) in snapshots.NewestFirst())
        {
            LedgerIndex index;
            try
            {
                index = load();
            }
            catch (StoreCorruptedException ex)
            {
                report(RecoveryActionKind.SnapshotSkipped, $"{path}: {ex.Message}; the segments cover for it");
                continue;
            }

            var last = index.Block(index.BlockCount - 1)!.Value;
            string? problem = null;
            if (last.Record.Segment >= segments.SegmentCount)
            {
                problem = $"its last block {index.BlockCount - 1} is in segment {last.Record.Segment}, but only {segments.SegmentCount} segments exist";
            }
            else
            {
                try
                {
                    var (height, hash, _, _) = BlockRecordCodec.DecodePrologue(segments.ReadPayload(last.Record));
                    if (height != index.BlockCount - 1 || hash != last.Hash)
                    {
                        problem = $"the record where it expects block {index.BlockCount - 1} holds block {height} ({hash})";
                    }
                }
                catch (StoreCorruptedException ex)
                {
                    problem = $"the record of its last block {index.BlockCount - 1} does not read back ({ex.Message})";
                }
            }

            if (problem is null)
            {
                report(RecoveryActionKind.SnapshotLoaded, $"{path}: index at height {index.BlockCount - 1}");
                return index;
            }

            index.Close();
            report(RecoveryActionKind.SnapshotSkipped, $"{path}: the segments do not reach it: {problem}");
        }

        return null;
    }

    public async ValueTask AppendAsync(BlockCommit block, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(block);
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_closing, this);
            if (_options.ReadOnly)
            {
                throw new InvalidOperationException($"the store at {_options.DataDirectory} was opened read-only");
            }

            // Only this writer changes the index, so reading it here without the gate is safe.
            BlockCommitRules.EnsureAppendable(block, _index.Head);
            var seen = new HashSet<Hash256>(block.Transactions.Count);
            foreach (var tx in block.Transactions)
            {
                if (_index.ContainsTransaction(tx.TxHash) || !seen.Add(tx.TxHash))
                {
                    BlockCommitRules.ThrowConflict($"transaction {tx.TxHash} of block {block.Height} was committed before");
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            var txByteOffsets = ArrayPool<int>.Shared.Rent(block.Transactions.Count);
            var valueOffsets = ArrayPool<int>.Shared.Rent(block.StateWrites.Count);
            var nodeOffsets = ArrayPool<int>.Shared.Rent(block.StateNodes.Count);
            try
            {
                var size = EstimateSize(block);
                var encoder = _recordEncoder ??= new BinaryEncoder(size);
                encoder.Reset();
                encoder.EnsureCapacity(size);
                encoder.Reserve(RecordFraming.HeaderSize);
                BlockRecordCodec.Encode(encoder, block, txByteOffsets, valueOffsets, nodeOffsets, out var layout);
                RecordFraming.Seal(encoder.WrittenSpan, SegmentLog.BlockMagic);

                var position = _segments.Append(encoder.WrittenSpan); // durable from here on
                var head = BlockCommitRules.HeadAfter(block, _index.Head);
                try
                {
                    _marker!.Write(head); // acknowledged from here on
                }
                catch (IOException ex)
                {
                    // The record is on disk but not marked: this instance's view can no longer be trusted. A restart
                    // keeps the flushed block (it is whole) and marks it.
                    var reason = $"the head marker of block {block.Height} could not be written ({ex.Message}); this store instance accepts no more writes: restart the node";
                    _segments.Fail(reason);
                    throw new StoreFailedException(reason, ex);
                }

                lock (_gate)
                {
                    _index.Apply(block, position, encoder.Length, layout, txByteOffsets.AsSpan(0, block.Transactions.Count),
                        valueOffsets.AsSpan(0, block.StateWrites.Count), nodeOffsets.AsSpan(0, block.StateNodes.Count), new IndexDiskReader(_segments));
                }

                _bytesSinceSnapshot += encoder.Length;
            }
            finally
            {
                ArrayPool<int>.Shared.Return(txByteOffsets);
                ArrayPool<int>.Shared.Return(valueOffsets);
                ArrayPool<int>.Shared.Return(nodeOffsets);
                if (_recordEncoder is { Capacity: > RecordEncoderKeptBytes })
                {
                    // An unusually large block: its buffer is not kept for the ordinary ones.
                    _recordEncoder.Dispose();
                    _recordEncoder = null;
                }
            }

            if ((++_blocksSinceSnapshot >= _options.SnapshotEveryBlocks || _bytesSinceSnapshot >= _options.SnapshotEveryBytes || _snapshotRetry)
                && _snapshotInFlight.IsCompleted)
            {
                // While one snapshot is being written the next is not started; the counters keep growing, so it
                // starts at the first block after that one has ended.
                StartSnapshot();
            }
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>
    /// Why the last snapshot could not be written, or null. A snapshot only shortens start-up (the segments hold
    /// everything), so a failed one must not fail the append whose block is already durable; it is retried after the
    /// next block and reported here for the node's health check.
    /// </summary>
    public string? SnapshotFailure { get; private set; }

    /// <summary>Test hook: awaited by the background snapshot writer before it writes anything.</summary>
    internal Func<Task>? BeforeSnapshotWrite { get; set; }

    /// <summary>Test hook: how the state-node locator holds its entries now (how many, the sorted base file it reads if any, the slots its tables use).</summary>
    internal (int Entries, string? BaseFile, long TableEntries) LocatorShape
    {
        get
        {
            lock (_gate)
            {
                var locator = _index.StateNodes;
                return (locator.Count, locator.Base is { } @base ? Path.GetFileName(@base.Path) : null, locator.TableEntries);
            }
        }
    }

    /// <summary>Test hook: whether the store keeps a copy of the locator's tables for its next snapshot to copy into (not on sorted bases).</summary>
    internal bool KeepsLocatorCopy => _index.HasSpareLocatorCopy;

    /// <summary>Completes when no snapshot is being written (tests wait on it for a deterministic set of files).</summary>
    internal Task SnapshotIdle => _snapshotInFlight;

    /// <summary>
    /// Freezes the index for a snapshot at the head and writes it in the background (the writer lock must be held, so
    /// the index does not move). The append pays only for the freeze: each table's delta becomes an immutable layer
    /// (O(1)), and the manifest's other parts are captured (the state-node locator by copy, 16 bytes a slot). The
    /// background task sorts and writes the runs and the manifest, then installs the runs under the writer and the
    /// readers' lock.
    /// </summary>
    private void StartSnapshot()
    {
        SnapshotFiles.Job job;
        lock (_gate)
        {
            job = SnapshotFiles.Capture(_index);
        }

        _bytesSinceSnapshot = 0;
        _blocksSinceSnapshot = 0;
        _snapshotRetry = false;
        _snapshotInFlight = Task.Run(() => WriteSnapshotAsync(job));
    }

    private async Task WriteSnapshotAsync(SnapshotFiles.Job job)
    {
        string? failure = null;
        try
        {
            if (BeforeSnapshotWrite is { } hook)
            {
                await hook().ConfigureAwait(false);
            }

            // The runs and a new locator base are written at a lower priority (EmbeddedStoreOptions.SnapshotNice).
            await BackgroundThread.Run("snapshot", _options.SnapshotNice, () => _snapshots.WriteFiles(job)).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A background snapshot has no caller to throw to: any failure is reported and retried.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            failure = $"snapshot at height {job.Height} failed: {ex.Message}";
        }

        var combined = failure is null ? null : SnapshotFiles.CombineFailed(job);

        // The append path reads the index without the readers' lock, so the index changes only under the writer.
        await _writer.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            lock (_gate)
            {
                if (combined is null)
                {
                    SnapshotFiles.Install(job);
                }
                else
                {
                    SnapshotFiles.Restore(job, combined);
                }
            }

            SnapshotFailure = failure;
            _snapshotRetry = failure is not null;
        }
        finally
        {
            _writer.Release();
        }

        if (failure is not null)
        {
            EmbeddedStoreLog.SnapshotFailed(_logger, _options.DataDirectory, failure);
            return;
        }

        if (job.LocatorMoved is var (changes, took) && job.NewLocatorBase is { } newBase)
        {
            EmbeddedStoreLog.LocatorMoved(_logger, _options.DataDirectory, newBase.Count, job.LocatorBaseWritten.TotalMilliseconds, changes, took.TotalMilliseconds);
        }

        try
        {
            _snapshots.Cleanup(job);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The snapshot stands; the next one removes what this one could not.
            EmbeddedStoreLog.SnapshotFailed(_logger, _options.DataDirectory, $"clean-up after the snapshot at height {job.Height} failed: {ex.Message}");
        }
    }

    /// <summary>Writes a snapshot of the head now, in this thread (the writer lock must be held, so the index does not move).</summary>
    private void WriteSnapshot()
    {
        try
        {
            _snapshots.Write(_index, _gate);
            _bytesSinceSnapshot = 0;
            _blocksSinceSnapshot = 0;
            _snapshotRetry = false;
            SnapshotFailure = null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            SnapshotFailure = $"snapshot at height {_index.Head?.Height} failed: {ex.Message}";
            EmbeddedStoreLog.SnapshotFailed(_logger, _options.DataDirectory, SnapshotFailure);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Refuse appends first, then let a snapshot in flight finish (it takes the writer lock to install itself).
        await _writer.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        bool first;
        Task inFlight;
        try
        {
            first = !_closing;
            _closing = true;
            inFlight = _snapshotInFlight;
        }
        finally
        {
            _writer.Release();
        }

        await inFlight.ConfigureAwait(false);
        if (!first)
        {
            return;
        }

        await _writer.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            try
            {
                if (_options.SnapshotOnClose && !_options.ReadOnly && _segments.Failure is null && (_blocksSinceSnapshot > 0 || _snapshotRetry))
                {
                    WriteSnapshot();
                }
            }
            finally
            {
                _segments.Dispose();
                _accessLog.Dispose();
                lock (_gate)
                {
                    _index.Close();
                }

                _marker?.Dispose();
                _recordEncoder?.Dispose();
                _recordEncoder = null;
                if (_directoryLock is not null)
                {
                    await _directoryLock.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _writer.Release();
        }
    }

    private static FileStream? LockDirectory(string directory, bool readOnly)
    {
        var path = Path.Combine(directory, "LOCK");
        try
        {
            if (readOnly)
            {
                // Reading needs the writer gone too (a half-appended record would read as damage), but creates nothing.
                return File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None) : null;
            }

            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new StoreUnavailableException($"the data directory {directory} is in use by another process", ex);
        }
    }

    /// <summary>Re-reads the newest blocks' records and checks them against the index (checksum, height, hashes).</summary>
    private static void VerifyTail(SegmentLog segments, LedgerIndex index, int count)
    {
        for (var height = Math.Max(0, index.BlockCount - count); height < index.BlockCount; height++)
        {
            var entry = index.Block(height)!.Value;
            var (storedHeight, hash, parent, _) = BlockRecordCodec.DecodePrologue(segments.ReadPayload(entry.Record));
            if (storedHeight != height || hash != entry.Hash || parent != entry.Parent)
            {
                throw new StoreCorruptedException($"the record of block {height} does not match the index (it holds block {storedHeight} {hash})");
            }
        }
    }

    /// <summary>The largest block-record buffer kept between appends.</summary>
    private const int RecordEncoderKeptBytes = 16 << 20;

    private static int EstimateSize(BlockCommit block)
    {
        long size = 1024 + block.Header.Length + block.Certificate.Length;
        foreach (var tx in block.Transactions)
        {
            size += 48 + tx.Bytes.Length;
        }

        size += block.StateWrites.Count * 80L + block.HistoryNodes.Count * 44L + block.Projections.Count * 160L;
        foreach (var node in block.StateNodes)
        {
            size += 36 + node.Encoded.Length;
        }

        size += 32L * block.StaleStateNodes.Count;
        return (int)Math.Min(size, RecordFraming.MaxPayload);
    }
}

/// <summary>The index's window on the segments: stored node hashes and stale-node lists.</summary>
internal sealed class IndexDiskReader(SegmentLog segments) : IIndexDiskReader
{
    public Hash256 StateNodeHashAt(long position)
    {
        var (segment, offset) = StateNodeLocator.Unpack(position);
        return segments.ReadHash(segment, offset - Hash256.Size);
    }

    public Hash256[] StaleNodesOf(BlockEntry entry)
    {
        if (entry.Layout.StaleOffset < 0)
        {
            return [];
        }

        var at = entry.Record.Offset + RecordFraming.HeaderSize + entry.Layout.StaleOffset;
        Span<byte> count = stackalloc byte[sizeof(int)];
        segments.ReadAt(entry.Record.Segment, at, count);
        var n = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(count);
        if (n < 0 || (long)n * Hash256.Size > entry.RecordLength)
        {
            throw new StoreCorruptedException($"the stale-node list of the block at segment {entry.Record.Segment} offset {entry.Record.Offset} is damaged");
        }

        var bytes = new byte[n * Hash256.Size];
        segments.ReadAt(entry.Record.Segment, at + sizeof(int), bytes);
        var hashes = new Hash256[n];
        for (var i = 0; i < n; i++)
        {
            hashes[i] = new Hash256(bytes.AsSpan(i * Hash256.Size, Hash256.Size));
        }

        return hashes;
    }
}
