using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>What a raw scan of a data directory's block log found: the last intact block and the first damage, if any.</summary>
/// <param name="LastIntactHeight">The highest block whose record and every record before it read back and chain (-1: none).</param>
/// <param name="LastIntactHash">That block's hash.</param>
/// <param name="AcknowledgedHeight">The head marker's height, or null when there is no marker.</param>
/// <param name="Damage">The first damage, or null when the log is intact and reaches the marker.</param>
public sealed record EmbeddedStoreInspection(long LastIntactHeight, Hash256? LastIntactHash, long? AcknowledgedHeight, LogDamage? Damage)
{
    /// <summary>True when every acknowledged block is intact (a torn tail of a never-acknowledged block is not damage).</summary>
    public bool IsIntact => Damage is null || Damage.IsTornUnacknowledgedTail;
}

/// <summary>Where and why the block log stops reading back.</summary>
/// <param name="FirstDamagedHeight">The height whose record is unreadable, out of chain or missing.</param>
/// <param name="Segment">The segment holding the damage.</param>
/// <param name="Offset">The byte offset in that segment where the damage starts.</param>
/// <param name="IsTornUnacknowledgedTail">Only the end of the last segment, after the last acknowledged block: a torn write that recovery cuts by itself.</param>
/// <param name="Reason">A sentence naming what is wrong.</param>
public sealed record LogDamage(long FirstDamagedHeight, int Segment, long Offset, bool IsTornUnacknowledgedTail, string Reason);

/// <summary>What <see cref="EmbeddedStoreRepair.RepairAsync"/> did.</summary>
/// <param name="IntactHeight">The head the store opens at now (-1: empty).</param>
/// <param name="LostFrom">The lowest acknowledged height that is no longer in the log (null: nothing acknowledged was lost).</param>
/// <param name="LostTo">The highest such height.</param>
/// <param name="SideDirectory">Where the damaged bytes, later segments and newer snapshots were moved (null: nothing moved).</param>
/// <param name="Actions">Each step, in order.</param>
public sealed record RepairReport(long IntactHeight, long? LostFrom, long? LostTo, string? SideDirectory, IReadOnlyList<string> Actions);

/// <summary>
/// <c>store inspect / repair</c> for the embedded store. Inspection reads every record of every segment from the
/// start (checksum, height sequence, parent links, decodability), changing nothing. Repair cuts the block log at the
/// first damage so the store opens at its last intact block, and moves everything it cuts — the damaged bytes, any
/// later segments, snapshots newer than the intact head — into <c>damaged/repair-N/</c> under the data directory:
/// it deletes nothing. The blocks lost that way are fetched again from peers.
/// </summary>
public static class EmbeddedStoreRepair
{
    /// <summary>Scans the block log of <paramref name="dataDirectory"/> read-only. The store must not be open elsewhere.</summary>
    public static EmbeddedStoreInspection Inspect(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        if (!Directory.Exists(dataDirectory))
        {
            throw new StoreUnavailableException($"there is no store at {dataDirectory}");
        }

        using var segments = SegmentLog.Open(Path.Combine(dataDirectory, "segments"), 64L << 20, readOnly: true);
        return Scan(dataDirectory, segments);
    }

    /// <summary>Cuts the block log at its first damage, moving what it cuts aside. The store must be closed.</summary>
    /// <exception cref="StoreUnavailableException">The store is open in another process.</exception>
    public static Task<RepairReport> RepairAsync(string dataDirectory, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        return Task.Run(() => Repair(dataDirectory, logger ?? NullLogger.Instance), cancellationToken);
    }

    private static RepairReport Repair(string dataDirectory, ILogger logger)
    {
        if (!Directory.Exists(dataDirectory))
        {
            throw new StoreUnavailableException($"there is no store at {dataDirectory}");
        }

        using var directoryLock = LockDirectory(dataDirectory);
        var segmentDirectory = Path.Combine(dataDirectory, "segments");
        EmbeddedStoreInspection inspection;
        int segmentCount;
        using (var segments = SegmentLog.Open(segmentDirectory, 64L << 20, readOnly: true))
        {
            inspection = Scan(dataDirectory, segments);
            segmentCount = segments.SegmentCount;
        }

        var actions = new List<string>();
        void Act(string action)
        {
            actions.Add(action);
            EmbeddedStoreLog.Repair(logger, dataDirectory, action);
        }

        var acknowledged = inspection.AcknowledgedHeight ?? -1;
        var intact = inspection.LastIntactHeight;
        long? lostFrom = intact < acknowledged ? intact + 1 : null;
        long? lostTo = intact < acknowledged ? acknowledged : null;
        if (inspection.Damage is null && intact >= acknowledged)
        {
            Act($"the block log is intact up to height {intact}; nothing to repair");
            return new RepairReport(intact, null, null, null, actions);
        }

        var side = NextSideDirectory(dataDirectory);
        if (inspection.Damage is { } damage)
        {
            var path = SegmentLog.PathOf(segmentDirectory, damage.Segment);
            var length = new FileInfo(path).Length;
            if (damage.Offset < length)
            {
                Directory.CreateDirectory(side);
                var sideFile = Path.Combine(side, $"{Path.GetFileNameWithoutExtension(path)}.from-{damage.Offset.ToString(CultureInfo.InvariantCulture)}.bin");
                using (var source = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite))
                {
                    var bytes = new byte[length - damage.Offset];
                    RecordFraming.ReadExactly(source, bytes, damage.Offset);
                    using (var target = File.OpenHandle(sideFile, FileMode.CreateNew, FileAccess.Write))
                    {
                        RandomAccess.Write(target, bytes, 0);
                        RandomAccess.FlushToDisk(target);
                    }

                    DirectorySync.Flush(side);
                    RecordFile.Truncate(source, damage.Offset);
                }

                Act($"moved {length - damage.Offset} bytes of {path} from offset {damage.Offset} ({damage.Reason}) to {sideFile}, and cut the segment there");
            }

            for (var number = damage.Segment + 1; number < segmentCount; number++)
            {
                Directory.CreateDirectory(side);
                var later = SegmentLog.PathOf(segmentDirectory, number);
                File.Move(later, Path.Combine(side, Path.GetFileName(later)));
                Act($"moved segment {later}, which follows the damage and cannot be chained to the intact blocks, to {side}");
            }

            DirectorySync.Flush(segmentDirectory);
        }

        foreach (var snapshot in new SnapshotFiles(Path.Combine(dataDirectory, "snapshots")).Above(intact))
        {
            Directory.CreateDirectory(side);
            File.Move(snapshot, Path.Combine(side, Path.GetFileName(snapshot)));
            Act($"moved snapshot {snapshot}, which is newer than the intact head {intact}, to {side}");
        }

        if (Directory.Exists(side))
        {
            DirectorySync.Flush(side);
            DirectorySync.Flush(dataDirectory);
        }

        HeadMarker.Reset(dataDirectory, intact >= 0 ? new StoreHead(intact, inspection.LastIntactHash!.Value, 0) : null);
        Act(lostFrom is null
            ? $"the store now opens at height {intact}; no acknowledged block was lost"
            : $"the store now opens at height {intact}; acknowledged blocks {lostFrom} to {lostTo} are gone from this node and must be fetched again from peers (the damaged bytes are kept in {side})");
        return new RepairReport(intact, lostFrom, lostTo, Directory.Exists(side) ? side : null, actions);
    }

    private static EmbeddedStoreInspection Scan(string dataDirectory, SegmentLog segments)
    {
        var acknowledged = HeadMarker.Read(dataDirectory);
        long height = -1;
        var hash = Hash256.Zero;
        LogDamage? damage = null;
        for (var number = 0; number < segments.SegmentCount && damage is null; number++)
        {
            var isLast = number == segments.SegmentCount - 1;
            var path = SegmentLog.PathOf(segments.Directory, number);
            RecordScan? scan;
            try
            {
                scan = segments.ScanSegment(number, isLast, (offset, payload) =>
            {
                if (damage is not null)
                {
                    return;
                }

                string? problem = null;
                try
                {
                    var block = BlockRecordCodec.Decode(payload).Block;
                    if (block.Height != height + 1 || block.ParentHash != hash)
                    {
                        problem = $"the record at offset {offset} holds block {block.Height} with parent {block.ParentHash}, where block {height + 1} with parent {hash} belongs";
                    }
                    else
                    {
                        height = block.Height;
                        hash = block.BlockHash;
                    }
                }
                catch (StoreCorruptedException ex)
                {
                    problem = $"the record at offset {offset} passes its checksum but does not decode ({ex.Message})";
                }

                if (problem is not null)
                {
                    damage = new LogDamage(height + 1, number, offset, false, $"{path}: {problem}");
                }
            });
            }
            catch (StoreCorruptedException ex)
            {
                damage = new LogDamage(height + 1, number, 0, false, $"{path}: {ex.Message}");
                break;
            }

            if (damage is null && scan is { } tail && tail.HasUnreadableTail)
            {
                var torn = isLast && !tail.IntactRecordFollows && height >= (acknowledged?.Height ?? -1);
                damage = new LogDamage(height + 1, number, tail.End, torn,
                    $"{path}: {tail.FileLength - tail.End} bytes at offset {tail.End} do not read back as a record"
                    + (tail.IntactRecordFollows ? " (intact records follow: damage, not a torn write)" : torn ? " (the torn write of a block never acknowledged)" : ""));
            }
        }

        if (damage is null && acknowledged is { } ack && height < ack.Height)
        {
            var number = Math.Max(0, segments.SegmentCount - 1);
            damage = new LogDamage(height + 1, number, segments.SegmentCount == 0 ? 0 : new FileInfo(SegmentLog.PathOf(segments.Directory, number)).Length, false,
                $"the block log ends cleanly at height {height}, but the head marker says blocks up to {ack.Height} were acknowledged: blocks {height + 1} to {ack.Height} are missing (a truncated or deleted segment)");
        }

        return new EmbeddedStoreInspection(height, height >= 0 ? hash : null, acknowledged?.Height, damage);
    }

    private static string NextSideDirectory(string dataDirectory)
    {
        var root = Path.Combine(dataDirectory, "damaged");
        for (var n = 1; ; n++)
        {
            var candidate = Path.Combine(root, $"repair-{n.ToString(CultureInfo.InvariantCulture)}");
            if (!Directory.Exists(candidate))
            {
                return candidate;
            }
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
            throw new StoreUnavailableException($"the data directory {directory} is in use by another process: stop the node before repairing", ex);
        }
    }
}
