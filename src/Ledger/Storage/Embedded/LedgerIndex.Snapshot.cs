using System.Buffers.Binary;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// The snapshot form of the index, a manifest: <c>"SCSN" ‖ version ‖ height ‖ block hash</c>, the run files of every
/// on-disk table (name, entry count and CRC-32C of each), the state-node locator's files (name, kind, entry count and
/// CRC-32C of each: <see cref="LocatorRunFile"/>), the block index and the retention floor, and last a CRC-32C of
/// everything before it. The tables' contents are in their run files (<see cref="IndexRun"/>) and the locator's in
/// its files, which successive snapshots share: a snapshot writes only the changes since the last one (and merges
/// runs, or writes the whole locator, now and then). Format 6 (from 2026-12-04) keeps the <c>state</c> table's values
/// as <see cref="StoredStateValue"/>s, references into the block records. Formats 5 (its values copied in full) and 4
/// (which also held the locator's entries in the manifest) and 3 (the whole index in one file) are not read any more:
/// the index is rebuilt from the segments once, and the next snapshot is in format 6. Written by
/// <see cref="SnapshotFiles"/>.
/// </summary>
internal sealed partial class LedgerIndex
{
    public const uint SnapshotMagic = 0x4E534353; // "SCSN"
    private const int SnapshotVersion = 6;
    private const int InlineStateSnapshotVersion = 5;
    private const int InlineLocatorSnapshotVersion = 4;
    private const int LegacySnapshotVersion = 3;
    private const int DrainThreshold = 1 << 20;

    /// <summary>
    /// Writes the manifest of a snapshot at <paramref name="parts"/>' head whose tables will have <paramref name="runs"/>
    /// (one list a table, newest first) and whose locator is in <paramref name="locatorRuns"/> (base first). Reads only
    /// what was captured, so it runs without a lock.
    /// </summary>
    public void WriteManifest(Stream stream, ManifestParts parts, IReadOnlyList<IReadOnlyList<IndexRun>> runs, IReadOnlyList<LocatorRunFile.Reference> locatorRuns)
    {
        var head = parts.Head;
        using var encoder = new BinaryEncoder(2 * DrainThreshold);
        var crc = Crc32C.Start;
        void DrainIfFull()
        {
            if (encoder.Length >= DrainThreshold)
            {
                encoder.DrainTo(stream, ref crc);
            }
        }

        encoder.WriteUInt32(SnapshotMagic);
        encoder.WriteInt32(SnapshotVersion);
        encoder.WriteInt64(head.Height);
        encoder.WriteHash(head.BlockHash);

        encoder.WriteInt32(Tables.Count);
        for (var t = 0; t < Tables.Count; t++)
        {
            encoder.WriteString(Tables[t].Name);
            encoder.WriteInt32(runs[t].Count);
            foreach (var run in runs[t])
            {
                encoder.WriteString(run.FileName);
                encoder.WriteInt64(run.Count);
                encoder.WriteUInt32(run.Checksum);
            }
        }

        encoder.WriteInt32(locatorRuns.Count);
        foreach (var run in locatorRuns)
        {
            encoder.WriteString(run.FileName);
            encoder.WriteByte((byte)run.Kind);
            encoder.WriteInt64(run.Count);
            encoder.WriteUInt32(run.Checksum);
        }

        encoder.WriteInt64(parts.Blocks.Count);
        foreach (var block in parts.Blocks)
        {
            encoder.WriteInt32(block.Record.Segment);
            encoder.WriteInt64(block.Record.Offset);
            encoder.WriteInt32(block.RecordLength);
            encoder.WriteHash(block.Hash);
            encoder.WriteHash(block.Parent);
            encoder.WriteInt64(block.Timestamp);
            encoder.WriteInt32(block.TransactionCount);
            encoder.WriteInt64(block.FirstHistoryIndex);
            encoder.WriteInt32(block.Layout.HeaderOffset);
            encoder.WriteInt32(block.Layout.HeaderLength);
            encoder.WriteInt32(block.Layout.CertificateLength);
            encoder.WriteInt32(block.Layout.StaleOffset);
            DrainIfFull();
        }

        encoder.WriteInt64(parts.StateRetainedFrom);
        encoder.DrainTo(stream, ref crc);
        encoder.WriteUInt32(Crc32C.Finish(crc));
        var ignored = Crc32C.Start;
        encoder.DrainTo(stream, ref ignored);
    }

    /// <summary>
    /// The run files the manifest at <paramref name="path"/> names (for clean-up; the manifest is not otherwise
    /// checked). They come first, so only the file's head is read (64 KiB, more only for an index of many runs): the
    /// whole manifest, whose state-node locator is 16 bytes a node, is tens of megabytes on a large chain.
    /// </summary>
    public static IReadOnlyList<string> RunFilesOf(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        var head = new byte[(int)Math.Min(file.Length, ManifestHeadBytes)];
        file.ReadExactly(head);
        try
        {
            return RunFilesOf(head);
        }
        catch (StoreCorruptedException) when (head.Length < file.Length)
        {
            // The run list goes on past the head: read all of it.
            var whole = new byte[file.Length];
            file.Position = 0;
            file.ReadExactly(whole);
            return RunFilesOf(whole);
        }
    }

    /// <summary>How much of a manifest <see cref="RunFilesOf(string)"/> reads first.</summary>
    internal const int ManifestHeadBytes = 64 << 10;

    /// <summary>The run files a manifest's bytes (or their head) name.</summary>
    internal static IReadOnlyList<string> RunFilesOf(ReadOnlySpan<byte> manifest)
    {
        var d = new BinaryDecoder(manifest);
        var version = d.ReadUInt32() == SnapshotMagic ? d.ReadInt32() : 0;
        if (version is not (SnapshotVersion or InlineStateSnapshotVersion or InlineLocatorSnapshotVersion))
        {
            return [];
        }

        d.Skip(sizeof(long) + Hash256.Size);
        var names = new List<string>();
        var tables = CheckCount(d.ReadInt32());
        for (var t = 0; t < tables; t++)
        {
            d.ReadString();
            var runs = CheckCount(d.ReadInt32());
            for (var r = 0; r < runs; r++)
            {
                names.Add(d.ReadString());
                d.Skip(sizeof(long) + sizeof(uint));
            }
        }

        if (version != InlineLocatorSnapshotVersion)
        {
            var locatorRuns = CheckCount(d.ReadInt32());
            for (var r = 0; r < locatorRuns; r++)
            {
                names.Add(d.ReadString());
                d.Skip(1 + sizeof(long) + sizeof(uint));
            }
        }

        return names;
    }

    /// <summary>
    /// Rebuilds an index from a manifest's bytes and the run files it names in <paramref name="runDirectory"/> (each
    /// checked against its checksum, in parallel), or throws <see cref="StoreCorruptedException"/>. A store that writes
    /// snapshots asks the locator to <paramref name="recordChanges"/>, so its next snapshot writes only them.
    /// </summary>
    public static LedgerIndex ReadSnapshot(byte[] snapshot, string runDirectory, bool recordChanges = true)
    {
        if (snapshot.Length < 48 + sizeof(uint))
        {
            throw new StoreCorruptedException("the snapshot is too short");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(snapshot) == SnapshotMagic && BinaryPrimitives.ReadInt32LittleEndian(snapshot.AsSpan(4)) is var old
            && old is LegacySnapshotVersion or InlineLocatorSnapshotVersion or InlineStateSnapshotVersion)
        {
            throw new StoreCorruptedException($"the snapshot is in format {old}, written by an earlier version ({(old == LegacySnapshotVersion ? "the whole index in memory" : "state values copied into the index")}); the index is rebuilt from the segments once, in format {SnapshotVersion}");
        }

        if (Crc32C.Compute(snapshot.AsSpan(0, snapshot.Length - 4)) != BinaryPrimitives.ReadUInt32LittleEndian(snapshot.AsSpan(snapshot.Length - 4)))
        {
            throw new StoreCorruptedException("the snapshot fails its checksum");
        }

        var index = new LedgerIndex();
        try
        {
            index.Decode(snapshot.AsSpan(0, snapshot.Length - 4), runDirectory);
            if (recordChanges && index._locatorRuns.Count > 0)
            {
                index.StateNodes.StartLog(LocatorLogLimit);
            }

            return index;
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentOutOfRangeException or ArgumentException)
        {
            index.Close();
            throw new StoreCorruptedException($"the snapshot is malformed ({ex.Message})", ex);
        }
        catch
        {
            index.Close();
            throw;
        }
    }

    private void Decode(ReadOnlySpan<byte> snapshot, string runDirectory)
    {
        var d = new BinaryDecoder(snapshot);
        var version = d.ReadUInt32() == SnapshotMagic ? d.ReadInt32() : 0;
        if (version != SnapshotVersion)
        {
            throw new StoreCorruptedException("the snapshot has an unknown format");
        }

        var height = d.ReadInt64();
        var blockHash = d.ReadHash();
        var tableCount = d.ReadInt32();
        if (tableCount != Tables.Count)
        {
            throw new StoreCorruptedException($"the snapshot names {tableCount} index tables, not {Tables.Count}");
        }

        var wanted = new List<(int Table, string Path, uint Checksum, long Count)>[tableCount];
        for (var t = 0; t < tableCount; t++)
        {
            var name = d.ReadString();
            if (name != Tables[t].Name)
            {
                throw new StoreCorruptedException($"the snapshot's index table {t} is {name}, not {Tables[t].Name}");
            }

            var runs = CheckCount(d.ReadInt32());
            wanted[t] = [];
            for (var r = 0; r < runs; r++)
            {
                var file = FileNameWithin(d.ReadString(), "index file");
                var count = d.ReadInt64();
                wanted[t].Add((t, Path.Combine(runDirectory, file), d.ReadUInt32(), count));
            }
        }

        var locatorRuns = new List<LocatorRunFile.Reference>();
        var locatorCount = CheckCount(d.ReadInt32());
        for (var r = 0; r < locatorCount; r++)
        {
            var file = FileNameWithin(d.ReadString(), "locator file");
            var kind = (LocatorRunKind)d.ReadByte();
            locatorRuns.Add(new LocatorRunFile.Reference(file, kind, CheckCount(d.ReadInt64()), d.ReadUInt32()));
            if (kind > LocatorRunKind.SortedBase || (kind != LocatorRunKind.Delta) != (r == 0))
            {
                throw new StoreCorruptedException("the snapshot's locator files are not one base followed by changes");
            }
        }

        var blockCount = CheckCount(d.ReadInt64());
        _blocks.EnsureCapacity(blockCount);
        for (var i = 0; i < blockCount; i++)
        {
            var entry = new BlockEntry(new RecordPosition(d.ReadInt32(), d.ReadInt64()), d.ReadInt32(), d.ReadHash(), d.ReadHash(),
                d.ReadInt64(), d.ReadInt32(), d.ReadInt64(), new BlockLayout(d.ReadInt32(), d.ReadInt32(), d.ReadInt32(), d.ReadInt32()));
            _blocks.Add(entry);
            _heightByHash[entry.Hash] = i;
        }

        StateRetainedFrom = d.ReadInt64();
        if (locatorRuns.Count > 0)
        {
            // A sorted base is read in place; the deltas after it (and a base of the older kind) are replayed into the
            // tables, sized for the changes (plus the older base's entries).
            var first = locatorRuns[0];
            var changes = (int)Math.Min(int.MaxValue, locatorRuns.Sum(run => run.Kind == LocatorRunKind.SortedBase ? 0 : run.Count));
            var locator = first.Kind == LocatorRunKind.SortedBase
                ? new StateNodeLocator(LocatorBase.Open(Path.Combine(runDirectory, first.FileName), first), Math.Max(1 << 12, changes))
                : new StateNodeLocator(changes);
            foreach (var run in locatorRuns.Where(run => run.Kind != LocatorRunKind.SortedBase))
            {
                LocatorRunFile.Apply(Path.Combine(runDirectory, run.FileName), run, locator);
            }

            StateNodes = locator;
            _locatorRuns = locatorRuns;
        }
        else
        {
            throw new StoreCorruptedException("the snapshot names no state-node locator file");
        }

        EnsureConsumed(ref d, "manifest");
        if (_blocks.Count != height + 1 || _blocks[^1].Hash != blockHash)
        {
            throw new StoreCorruptedException($"the snapshot of height {height} is inconsistent with its own block index");
        }

        var last = _blocks[^1];
        Head = new StoreHead(height, blockHash, last.FirstHistoryIndex + last.TransactionCount);

        // Every run is read once through to check its checksum: in parallel, and through the page cache, not the heap.
        var all = wanted.SelectMany(runs => runs).ToArray();
        var opened = new IndexRun?[all.Length];
        try
        {
            Parallel.For(0, all.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount) }, i =>
            {
                var run = IndexRun.Open(all[i].Path, all[i].Checksum);
                opened[i] = run;
                if (run.Count != all[i].Count)
                {
                    throw new StoreCorruptedException($"the index file {all[i].Path} holds {run.Count} entries, the snapshot says {all[i].Count}");
                }
            });
        }
        catch (AggregateException ex)
        {
            foreach (var run in opened)
            {
                run?.Release();
            }

            throw ex.InnerExceptions.OfType<StoreCorruptedException>().FirstOrDefault() ?? ex.InnerExceptions[0];
        }

        var at = 0;
        for (var t = 0; t < tableCount; t++)
        {
            var runs = new List<IndexRun>(wanted[t].Count);
            for (var r = 0; r < wanted[t].Count; r++)
            {
                runs.Add(opened[at++]!);
            }

            Tables[t].Load(runs);
        }
    }

    /// <summary>A file name a manifest gives, refused unless it names a file in the run directory itself.</summary>
    private static string FileNameWithin(string file, string what) =>
        file.Contains('/', StringComparison.Ordinal) || file.Contains('\\', StringComparison.Ordinal) || file.StartsWith('.')
            ? throw new StoreCorruptedException($"the snapshot names the {what} {file} outside its directory")
            : file;

    private static void EnsureConsumed(ref BinaryDecoder decoder, string section)
    {
        if (!decoder.IsAtEnd)
        {
            throw new StoreCorruptedException($"the snapshot's {section} section has trailing bytes");
        }
    }

    private static int CheckCount(long count) =>
        count is >= 0 and <= int.MaxValue ? (int)count : throw new StoreCorruptedException($"snapshot count {count} is out of range");

    /// <summary>Checks that every block names its predecessor's hash as parent.</summary>
    public void VerifyLinks()
    {
        var parent = Hash256.Zero;
        for (var height = 0; height < _blocks.Count; height++)
        {
            if (_blocks[height].Parent != parent)
            {
                throw new StoreCorruptedException($"block {height} names parent {_blocks[height].Parent}, but block {height - 1} is {parent}");
            }

            parent = _blocks[height].Hash;
        }
    }
}
