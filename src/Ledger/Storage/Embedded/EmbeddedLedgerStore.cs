using System.Buffers;
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
    private readonly FileStream _directoryLock;
    private readonly SegmentLog _segments;
    private readonly SnapshotFiles _snapshots;
    private readonly AccessLogFile _accessLog;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly SemaphoreSlim _accessWriter = new(1, 1);
    private readonly Lock _gate = new();
    private readonly LedgerIndex _index;
    private long _bytesSinceSnapshot;
    private int _blocksSinceSnapshot;
    private bool _disposed;

    private EmbeddedLedgerStore(EmbeddedStoreOptions options, FileStream directoryLock, SegmentLog segments, SnapshotFiles snapshots, LedgerIndex index, AccessLogFile accessLog)
    {
        _options = options;
        _directoryLock = directoryLock;
        _segments = segments;
        _snapshots = snapshots;
        _index = index;
        _accessLog = accessLog;
    }

    /// <summary>Snapshots that failed their checksum at start-up and were skipped (the segments covered for them).</summary>
    public IReadOnlyList<string> SkippedSnapshots { get; private init; } = [];

    /// <summary>Opens (or creates) the store in <see cref="EmbeddedStoreOptions.DataDirectory"/> and recovers it.</summary>
    /// <exception cref="StoreCorruptedException">The data are damaged beyond a torn tail.</exception>
    /// <exception cref="StoreUnavailableException">Another process has the directory open.</exception>
    public static Task<EmbeddedLedgerStore> OpenAsync(EmbeddedStoreOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Task.Run(() => Open(options), cancellationToken);
    }

    private static EmbeddedLedgerStore Open(EmbeddedStoreOptions options)
    {
        Directory.CreateDirectory(options.DataDirectory);
        var directoryLock = LockDirectory(options.DataDirectory);
        SegmentLog? segments = null;
        try
        {
            segments = SegmentLog.Open(Path.Combine(options.DataDirectory, "segments"), options.SegmentSize);
            var snapshots = new SnapshotFiles(Path.Combine(options.DataDirectory, "snapshots"));
            var index = snapshots.LoadNewest(out var skipped) ?? new LedgerIndex();
            var replayFrom = index.Block(index.BlockCount - 1)?.End ?? new RecordPosition(0, SegmentLog.FileHeaderSize);
            long replayedBytes = 0;
            var replayedBlocks = 0;
            segments.Recover(replayFrom, (position, payload) =>
            {
                var decoded = BlockRecordCodec.Decode(payload);
                BlockCommitRules.EnsureAppendable(decoded.Block, index.Head);
                index.Apply(decoded.Block, position, RecordFraming.HeaderSize + payload.Length, decoded.Layout, decoded.TxByteOffsets, copyValues: false);
                replayedBytes += payload.Length;
                replayedBlocks++;
            });
            index.VerifyLinks();
            VerifyTail(segments, index, options.VerifyTailBlocks);
            var accessLog = new AccessLogFile(Path.Combine(options.DataDirectory, "access.log"));
            return new EmbeddedLedgerStore(options, directoryLock, segments, snapshots, index, accessLog)
            {
                SkippedSnapshots = skipped,
                _bytesSinceSnapshot = replayedBytes,
                _blocksSinceSnapshot = replayedBlocks,
            };
        }
        catch (StoreConflictException ex)
        {
            segments?.Dispose();
            directoryLock.Dispose();
            throw new StoreCorruptedException($"the block log does not form a chain: {ex.Message}", ex);
        }
        catch
        {
            segments?.Dispose();
            directoryLock.Dispose();
            throw;
        }
    }

    public async ValueTask AppendAsync(BlockCommit block, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(block);
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
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
            try
            {
                using var encoder = new BinaryEncoder(EstimateSize(block));
                encoder.Reserve(RecordFraming.HeaderSize);
                BlockRecordCodec.Encode(encoder, block, txByteOffsets, out var layout);
                RecordFraming.Seal(encoder.WrittenSpan, SegmentLog.BlockMagic);

                var position = _segments.Append(encoder.WrittenSpan); // durable from here on
                lock (_gate)
                {
                    _index.Apply(block, position, encoder.Length, layout, txByteOffsets.AsSpan(0, block.Transactions.Count), copyValues: true);
                }

                _bytesSinceSnapshot += encoder.Length;
            }
            finally
            {
                ArrayPool<int>.Shared.Return(txByteOffsets);
            }

            if (++_blocksSinceSnapshot >= _options.SnapshotEveryBlocks || _bytesSinceSnapshot >= _options.SnapshotEveryBytes)
            {
                WriteSnapshot();
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

    /// <summary>Writes a snapshot of the head now (the writer lock must be held, so the index does not move).</summary>
    private void WriteSnapshot()
    {
        try
        {
            _snapshots.Write(_index);
            _bytesSinceSnapshot = 0;
            _blocksSinceSnapshot = 0;
            SnapshotFailure = null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            SnapshotFailure = $"snapshot at height {_index.Head?.Height} failed: {ex.Message}";
        }
    }

    public async ValueTask DisposeAsync()
    {
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
                if (_options.SnapshotOnClose && _blocksSinceSnapshot > 0)
                {
                    WriteSnapshot();
                }
            }
            finally
            {
                _segments.Dispose();
                _accessLog.Dispose();
                await _directoryLock.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _writer.Release();
        }
    }

    private static FileStream LockDirectory(string directory)
    {
        try
        {
            return new FileStream(Path.Combine(directory, "LOCK"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
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

    private static int EstimateSize(BlockCommit block)
    {
        long size = 1024 + block.Header.Length + block.Certificate.Length;
        foreach (var tx in block.Transactions)
        {
            size += 48 + tx.Bytes.Length;
        }

        size += block.StateWrites.Count * 80L + block.HistoryNodes.Count * 44L + block.Projections.Count * 160L;
        return (int)Math.Min(size, RecordFraming.MaxPayload);
    }
}
