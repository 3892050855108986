using System.Buffers.Binary;
using SmartCity.Ledger.Memory;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// One change to the state-node locator: an entry added (<see cref="Previous"/> 0), an entry moved from
/// <see cref="Previous"/> to <see cref="Position"/> (the same node written again), or removed (<see cref="Position"/> 0,
/// pruning). Positions are never 0 (no record starts at a segment's first byte), so the three cannot be confused.
/// </summary>
internal readonly record struct LocatorChange(ulong Prefix, long Position, long Previous);

/// <summary>
/// The locator's changes since the last snapshot, in order, outside the GC heap (chunks of <see cref="LargeTable{T}"/>,
/// taken as the log grows and given back when it is written): a 256 MB snapshot interval of a busy chain is a few
/// million changes, 24 bytes each. Holds at most <see cref="Limit"/> changes: past that, a run of every entry is the
/// cheaper snapshot, and the locator stops recording.
/// </summary>
/// <param name="limit">Changes at most.</param>
/// <param name="pool">
/// Where chunks come from and go back to (the locator's logs share one): each snapshot interval's log then fills the
/// chunks the last one's snapshot gave back, already faulted in, instead of fresh memory the kernel must zero page by
/// page (the fresh chunks' page faults were ~0.5 % of a loaded node's CPU samples).
/// </param>
internal sealed class LocatorChangeLog(int limit, LocatorChunkPool? pool = null) : IDisposable
{
    // 2^18 changes of 24 bytes: 6 MiB, three whole huge pages (LargeTable asks for them), so filling a chunk takes three
    // page faults instead of 1,536. With 1.5 MiB chunks (2^16, below a huge page) the log's 4 KiB faults were ~1 % of a
    // loaded node's CPU (each ~2-4 µs on this kind of virtual machine).
    private const int ChunkShift = 18;
    internal const int ChunkSize = 1 << ChunkShift;

    private readonly List<LargeTable<LocatorChange>> _chunks = [];

    public int Limit => limit;

    public int Count { get; private set; }

    /// <summary>Appends <paramref name="change"/>; false (and nothing kept) once the log holds <see cref="Limit"/> changes.</summary>
    public bool TryAdd(in LocatorChange change)
    {
        if (Count >= limit)
        {
            return false;
        }

        var within = Count & (ChunkSize - 1);
        if (within == 0)
        {
            _chunks.Add(pool?.Take() ?? NewChunk());
        }

        _chunks[^1][within] = change;
        Count++;
        return true;
    }

    /// <summary>How many chunks <see cref="Chunk"/> serves.</summary>
    public int ChunkCount => _chunks.Count;

    /// <summary>Chunk <paramref name="index"/> of the changes, in order, in place (valid until the log is disposed).</summary>
    public ReadOnlySpan<LocatorChange> Chunk(int index)
    {
        var chunk = _chunks[index].Slice(0, Math.Min(ChunkSize, Count - (index << ChunkShift)));
        GC.KeepAlive(this); // the chunks are released by Dispose or their finalizers: keep them reachable until sliced
        return chunk;
    }

    /// <summary>A chunk of fresh memory.</summary>
    private static LargeTable<LocatorChange> NewChunk() => new(ChunkSize, releasedByOwner: true);

    /// <summary>Releases the chunks (to the pool when there is one): the log is empty after, and the chunks it handed out are no longer valid.</summary>
    public void Dispose()
    {
        foreach (var chunk in _chunks)
        {
            if (pool is null || !pool.TryReturn(chunk))
            {
                chunk.Dispose();
            }
        }

        _chunks.Clear();
        Count = 0;
    }
}

/// <summary>
/// Chunks of <see cref="LocatorChangeLog"/>s given back for the next log to fill (thread-safe: a snapshot gives back
/// the chunks of the log it wrote from its own thread while the store's next log takes them). Holds at most as many as
/// one log at its limit can use.
/// </summary>
internal sealed class LocatorChunkPool(int capacity)
{
    private readonly Stack<LargeTable<LocatorChange>> _chunks = new();
    private readonly Lock _lock = new();

    /// <summary>Chunks held now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _chunks.Count;
            }
        }
    }

    /// <summary>A chunk given back earlier, or null when there is none.</summary>
    public LargeTable<LocatorChange>? Take()
    {
        lock (_lock)
        {
            return _chunks.TryPop(out var chunk) ? chunk : null;
        }
    }

    /// <summary>Keeps <paramref name="chunk"/> for a later <see cref="Take"/>; false when the pool is full (the caller releases it).</summary>
    public bool TryReturn(LargeTable<LocatorChange> chunk)
    {
        lock (_lock)
        {
            if (_chunks.Count >= capacity)
            {
                return false;
            }

            _chunks.Push(chunk);
            return true;
        }
    }
}

/// <summary>What a locator file holds (its kind byte).</summary>
internal enum LocatorRunKind : byte
{
    /// <summary>Every entry, in table order: loaded into memory (a store that prunes, and every store before sorted bases).</summary>
    Base = 0,

    /// <summary>The changes since the file before, in order.</summary>
    Delta = 1,

    /// <summary>Every entry in (prefix, position) order, read in place (<see cref="LocatorBase"/>).</summary>
    SortedBase = 2,
}

/// <summary>
/// A file of the state-node locator that a snapshot names (<c>locator-{sequence}.run</c> beside the index tables' runs):
/// either every entry (a <em>base</em>) or the changes since the snapshot before (a <em>delta</em>), which successive
/// snapshots share as they share the tables' runs. A manifest names one base and the deltas after it; loading applies
/// them in order. So a snapshot writes the locator's changes, not the whole locator (16 bytes a node: 72 MB at 150,000
/// transactions, 1 GB and more at millions, every 256 MB of segments), except when the files since the base would
/// replay too much (<see cref="LedgerIndex.CaptureManifest"/>). Layout: <c>"SCLR" ‖ version ‖ kind ‖ count</c>, then the entries
/// (a base: prefix ‖ position; a delta: prefix ‖ position ‖ previous, little-endian 8 bytes each), then a CRC-32C of
/// everything before it. A store that keeps every state version writes its bases sorted by (prefix, position)
/// (<see cref="LocatorRunKind.SortedBase"/>) and reads them in place (<see cref="LocatorBase"/>); a store that prunes
/// writes them in table order (<see cref="LocatorRunKind.Base"/>, as every store did before) and loads them into memory.
/// </summary>
internal static class LocatorRunFile
{
    public const string NamePrefix = "locator";
    internal const uint Magic = 0x524C4353; // "SCLR"
    internal const int Version = 1;
    internal const int HeaderSize = 4 + 4 + 1 + 8;
    private const int BufferSize = 1 << 20;

    /// <summary>A written locator file as a manifest names it.</summary>
    public readonly record struct Reference(string FileName, LocatorRunKind Kind, long Count, uint Checksum)
    {
        /// <summary>Whether the file holds every entry (a base of either kind) rather than changes.</summary>
        public bool IsBase => Kind != LocatorRunKind.Delta;
    }

    /// <summary>Writes every entry of <paramref name="locator"/> (a snapshot's own copy) to <paramref name="path"/> in table order, flushed: the base of a store that prunes, loaded into memory at a restart.</summary>
    public static Reference WriteBase(string path, StateNodeLocator locator)
    {
        using var writer = new Writer(path, LocatorRunKind.Base, locator.Count);
        foreach (var (prefix, position) in locator.Entries())
        {
            writer.Add(prefix, position);
        }

        return writer.Finish();
    }

    /// <summary>
    /// Writes every entry of <paramref name="locator"/> (a snapshot's own copy) to <paramref name="path"/> in (prefix,
    /// position) order, flushed: the base a <see cref="LocatorBase"/> reads in place.
    /// </summary>
    public static Reference WriteSortedBase(string path, StateNodeLocator locator)
    {
        using var writer = new Writer(path, LocatorRunKind.SortedBase, locator.Count);
        foreach (var (prefix, position) in locator.SortedEntries())
        {
            writer.Add(prefix, position);
        }

        return writer.Finish();
    }

    /// <summary>Writes the changes of <paramref name="log"/> to <paramref name="path"/>, flushed.</summary>
    public static Reference WriteDelta(string path, LocatorChangeLog log)
    {
        using var writer = new Writer(path, LocatorRunKind.Delta, log.Count);
        for (var i = 0; i < log.ChunkCount; i++)
        {
            foreach (var change in log.Chunk(i))
            {
                writer.Add(change.Prefix, change.Position, change.Previous);
            }
        }

        var written = writer.Finish();
        GC.KeepAlive(log); // its chunks were read in place
        return written;
    }

    /// <summary>
    /// Checks the file against what the manifest says of it (its kind, count and checksum) and applies it to
    /// <paramref name="locator"/>: a base in table order adds its entries (into an empty locator), a delta replays its
    /// changes. Throws <see cref="StoreCorruptedException"/> on any disagreement. (A sorted base is not applied: it is
    /// opened as the locator's <see cref="LocatorBase"/>.)
    /// </summary>
    public static void Apply(string path, Reference expected, StateNodeLocator locator)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new StoreCorruptedException($"the locator file {path} the snapshot names is missing", ex);
        }

        var span = bytes.AsSpan();
        if (span.Length < HeaderSize + sizeof(uint) || Crc32C.Compute(span[..^sizeof(uint)]) != BinaryPrimitives.ReadUInt32LittleEndian(span[^sizeof(uint)..]))
        {
            throw new StoreCorruptedException($"the locator file {path} fails its checksum");
        }

        var checksum = BinaryPrimitives.ReadUInt32LittleEndian(span[^sizeof(uint)..]);
        var kind = (LocatorRunKind)span[8];
        var isBase = kind == LocatorRunKind.Base;
        var count = BinaryPrimitives.ReadInt64LittleEndian(span[9..]);
        var entrySize = isBase ? 16 : 24;
        if (BinaryPrimitives.ReadUInt32LittleEndian(span) != Magic || BinaryPrimitives.ReadInt32LittleEndian(span[4..]) != Version || span[8] > 1
            || count < 0 || span.Length != HeaderSize + (count * entrySize) + sizeof(uint))
        {
            throw new StoreCorruptedException($"the locator file {path} is malformed");
        }

        if (checksum != expected.Checksum || count != expected.Count || kind != expected.Kind)
        {
            throw new StoreCorruptedException($"the locator file {path} is not the one the snapshot names");
        }

        var entries = span[HeaderSize..^sizeof(uint)];
        for (var at = 0; at < entries.Length; at += entrySize)
        {
            var prefix = BinaryPrimitives.ReadUInt64LittleEndian(entries[at..]);
            var position = BinaryPrimitives.ReadInt64LittleEndian(entries[(at + 8)..]);
            var previous = isBase ? 0 : BinaryPrimitives.ReadInt64LittleEndian(entries[(at + 16)..]);
            if ((position == 0 && previous == 0) || position < 0 || previous < 0)
            {
                throw new StoreCorruptedException($"the locator file {path} holds an invalid entry");
            }

            locator.Replay(new LocatorChange(prefix, position, previous));
        }
    }

    /// <summary>Streams entries to a new file through one buffer, with the running checksum; flushes to disk at the end.</summary>
    private sealed class Writer : IDisposable
    {
        private readonly string _path;
        private readonly FileStream _file;
        private readonly byte[] _buffer = new byte[BufferSize];
        private readonly LocatorRunKind _kind;
        private readonly bool _isBase;
        private readonly long _count;
        private long _written;
        private int _used;
        private uint _crc = Crc32C.Start;

        public Writer(string path, LocatorRunKind kind, long count)
        {
            _path = path;
            _kind = kind;
            _isBase = kind != LocatorRunKind.Delta;
            _count = count;
            _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1);
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer, Magic);
            BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(4), Version);
            _buffer[8] = (byte)kind;
            BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(9), count);
            _used = HeaderSize;
        }

        public void Add(ulong prefix, long position, long previous = 0)
        {
            if (_used + 24 > _buffer.Length)
            {
                Drain();
            }

            BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_used), prefix);
            BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_used + 8), position);
            _used += 16;
            if (!_isBase)
            {
                BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_used), previous);
                _used += 8;
            }

            _written++;
        }

        public Reference Finish()
        {
            if (_written != _count)
            {
                throw new InvalidOperationException($"the locator changed while its file was written ({_written} entries, {_count} expected)");
            }

            Drain();
            var checksum = Crc32C.Finish(_crc);
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer, checksum);
            _file.Write(_buffer, 0, sizeof(uint));
            _file.Flush(flushToDisk: true);
            return new Reference(Path.GetFileName(_path), _kind, _count, checksum);
        }

        private void Drain()
        {
            _crc = Crc32C.Append(_crc, _buffer.AsSpan(0, _used));
            _file.Write(_buffer, 0, _used);
            _used = 0;
        }

        public void Dispose() => _file.Dispose();
    }
}
