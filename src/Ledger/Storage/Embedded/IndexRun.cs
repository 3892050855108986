using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using Microsoft.Win32.SafeHandles;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// One immutable, sorted, checksummed run of an on-disk index table: entries sorted by their 32-byte key in 4 KiB
/// pages, then a heap of the values too long to sit in an entry, then the first key of every page (the fence) and a
/// Bloom filter of the keys, then a footer and a CRC-32C of the whole file. An entry is <c>key ‖ length ‖ 44 bytes</c>: the value itself when it has
/// at most 44 bytes, else its offset in the heap; length -1 marks a deletion that hides older runs. Only the fence and
/// the filter are kept in memory (32 bytes a page of 51 entries, 10 bits a key); a look-up that passes the filter is a binary search of the fence and one positional read
/// of a page (and one of the heap for a long value), served from the page cache, which does not count in the
/// process's resident memory. Reads are thread-safe; the file is never changed after it is written.
/// </summary>
internal sealed class IndexRun
{
    public const int KeySize = Hash256.Size;
    public const int EntrySize = 80;
    public const int InlineMax = EntrySize - KeySize - sizeof(int);
    public const int PageSize = 4096;
    public const int EntriesPerPage = PageSize / EntrySize;
    private const uint Magic = 0x52494353; // "SCIR"
    private const int Version = 1;
    private const int FooterSize = 6 * sizeof(long) + 3 * sizeof(uint);
    private const int BloomBitsPerKey = 10;
    private const int BloomProbes = 7;

    private readonly SafeFileHandle _handle;
    private readonly Hash256[] _fence;
    private readonly ulong[] _bloom;
    private readonly long _heapStart;
    private int _references = 1;

    private IndexRun(string path, SafeFileHandle handle, Hash256[] fence, ulong[] bloom, long count, long heapStart, long length, uint checksum)
    {
        FilePath = path;
        _handle = handle;
        _fence = fence;
        _bloom = bloom;
        Count = count;
        _heapStart = heapStart;
        Length = length;
        Checksum = checksum;
    }

    public string FilePath { get; }

    public string FileName => Path.GetFileName(FilePath);

    /// <summary>Entries in the run, deletions included.</summary>
    public long Count { get; }

    public long Length { get; }

    public uint Checksum { get; }

    /// <summary>Bytes of memory the run keeps (its fence and its Bloom filter).</summary>
    public long ResidentBytes => _fence.Length * (long)KeySize + _bloom.Length * sizeof(ulong);

    /// <summary>Writes <paramref name="sorted"/> (ascending, unique keys; enumerated twice) to a new run at <paramref name="path"/>, flushed to the disk.</summary>
    public static IndexRun Write(string path, IEnumerable<KeyValuePair<Hash256, byte[]?>> sorted) => Write(path, EntryHead.Of(sorted), sorted);

    /// <summary>
    /// Writes a run in the file's order, in two passes over the same entries (ascending, unique keys): the pages from
    /// <paramref name="heads"/> (each key, its value's length and a short value), then the heap from
    /// <paramref name="values"/> (the long values, in key order), so every byte is written once. The heap used to go
    /// to a temporary file, read back and copied behind the pages: each long value was written to the page cache
    /// twice (about a third of the bytes the snapshots of a 150,000-transaction load run wrote).
    /// </summary>
    public static IndexRun Write(string path, IEnumerable<KeyValuePair<Hash256, EntryHead>> heads, IEnumerable<KeyValuePair<Hash256, byte[]?>> values)
    {
        var crc = Crc32C.Start;
        var keysCrc = Crc32C.Start;
        long count = 0;
        var fence = new List<Hash256>();
        var keyHashes = new List<ulong>();
        var page = new byte[PageSize];
        var inPage = 0;
        long heapLength = 0;
        try
        {
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
            Hash256? previous = null;
            foreach (var (key, head) in heads)
            {
                if (previous is { } p && p.CompareTo(key) >= 0)
                {
                    throw new InvalidOperationException("index run keys must be ascending and unique");
                }

                previous = key;
                keysCrc = Crc32C.Append(keysCrc, key.Bytes);
                keyHashes.Add(BloomHash(key));
                if (inPage == 0)
                {
                    fence.Add(key);
                }

                var entry = page.AsSpan(inPage * EntrySize, EntrySize);
                entry.Clear();
                key.CopyTo(entry);
                BinaryPrimitives.WriteInt32LittleEndian(entry[KeySize..], head.IsDeletion ? -1 : head.Length);
                if (!head.IsDeletion)
                {
                    if (head.Length <= InlineMax)
                    {
                        if (head.Inline?.Length != head.Length)
                        {
                            throw new ArgumentException("a short value's entry head carries the value itself", nameof(heads));
                        }

                        head.Inline.CopyTo(entry[(KeySize + sizeof(int))..]);
                    }
                    else
                    {
                        BinaryPrimitives.WriteInt64LittleEndian(entry[(KeySize + sizeof(int))..], heapLength);
                        heapLength += head.Length;
                    }
                }

                count++;
                if (++inPage == EntriesPerPage)
                {
                    crc = Crc32C.Append(crc, page);
                    file.Write(page);
                    page.AsSpan().Clear();
                    inPage = 0;
                }
            }

            if (inPage > 0)
            {
                crc = Crc32C.Append(crc, page);
                file.Write(page);
            }

            // The heap: the long values in key order, where the pages' offsets put them. The second pass must be the
            // same entries as the first; its keys, count and heap length are checked against it.
            long heapWritten = 0;
            long valueCount = 0;
            var valueKeysCrc = Crc32C.Start;
            foreach (var (key, value) in values)
            {
                valueKeysCrc = Crc32C.Append(valueKeysCrc, key.Bytes);
                valueCount++;
                if (value is { Length: > InlineMax })
                {
                    crc = Crc32C.Append(crc, value);
                    file.Write(value);
                    heapWritten += value.Length;
                }
            }

            if (valueCount != count || heapWritten != heapLength || valueKeysCrc != keysCrc)
            {
                throw new InvalidOperationException("an index run's values are not the entries its pages were written from");
            }

            var pages = (long)fence.Count;
            var heapStart = pages * PageSize;
            var fenceStart = heapStart + heapLength;
            var bloom = new ulong[BloomWords(count)];
            foreach (var hash in keyHashes)
            {
                AddToBloom(bloom, hash);
            }

            var tail = new byte[fence.Count * KeySize + bloom.Length * sizeof(ulong) + FooterSize];
            for (var i = 0; i < fence.Count; i++)
            {
                fence[i].CopyTo(tail.AsSpan(i * KeySize));
            }

            for (var i = 0; i < bloom.Length; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(tail.AsSpan(fence.Count * KeySize + i * sizeof(ulong)), bloom[i]);
            }

            var footer = tail.AsSpan(tail.Length - FooterSize);
            BinaryPrimitives.WriteInt64LittleEndian(footer, count);
            BinaryPrimitives.WriteInt64LittleEndian(footer[8..], pages);
            BinaryPrimitives.WriteInt64LittleEndian(footer[16..], heapStart);
            BinaryPrimitives.WriteInt64LittleEndian(footer[24..], heapLength);
            BinaryPrimitives.WriteInt64LittleEndian(footer[32..], fenceStart);
            BinaryPrimitives.WriteInt64LittleEndian(footer[40..], bloom.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(footer[48..], Magic);
            BinaryPrimitives.WriteUInt32LittleEndian(footer[52..], Version);
            crc = Crc32C.Append(crc, tail.AsSpan(0, tail.Length - sizeof(uint)));
            var checksum = Crc32C.Finish(crc);
            BinaryPrimitives.WriteUInt32LittleEndian(footer[56..], checksum);
            file.Write(tail);
            file.Flush(flushToDisk: true);
            var length = file.Length;
            file.Dispose();
            return new IndexRun(path, File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read), [.. fence], bloom, count, heapStart, length, checksum);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    /// <summary>
    /// Opens a run and verifies its whole-file checksum (a sequential read through the page cache), or throws
    /// <see cref="StoreCorruptedException"/>.
    /// </summary>
    public static IndexRun Open(string path, uint expectedChecksum)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        }
        catch (IOException ex)
        {
            throw new StoreCorruptedException($"the index file {path} cannot be opened ({ex.Message})", ex);
        }

        try
        {
            var length = RandomAccess.GetLength(handle);
            if (length < FooterSize)
            {
                throw new StoreCorruptedException($"the index file {path} is too short");
            }

            var crc = Crc32C.Start;
            var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
            try
            {
                long at = 0;
                var body = length - sizeof(uint);
                while (at < body)
                {
                    var read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, body - at)), at);
                    if (read <= 0)
                    {
                        throw new StoreCorruptedException($"the index file {path} ended early");
                    }

                    crc = Crc32C.Append(crc, buffer.AsSpan(0, read));
                    at += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            Span<byte> footer = stackalloc byte[FooterSize];
            ReadExactly(handle, footer, length - FooterSize, path);
            var checksum = BinaryPrimitives.ReadUInt32LittleEndian(footer[56..]);
            if (Crc32C.Finish(crc) != checksum || checksum != expectedChecksum)
            {
                throw new StoreCorruptedException($"the index file {path} fails its checksum");
            }

            var count = BinaryPrimitives.ReadInt64LittleEndian(footer);
            var pages = BinaryPrimitives.ReadInt64LittleEndian(footer[8..]);
            var heapStart = BinaryPrimitives.ReadInt64LittleEndian(footer[16..]);
            var heapLength = BinaryPrimitives.ReadInt64LittleEndian(footer[24..]);
            var fenceStart = BinaryPrimitives.ReadInt64LittleEndian(footer[32..]);
            var bloomWords = BinaryPrimitives.ReadInt64LittleEndian(footer[40..]);
            if (BinaryPrimitives.ReadUInt32LittleEndian(footer[48..]) != Magic || BinaryPrimitives.ReadUInt32LittleEndian(footer[52..]) != Version
                || bloomWords != BloomWords(count)
                || pages < 0 || count < 0 || count > pages * EntriesPerPage || count <= (pages - 1) * EntriesPerPage
                || heapStart != pages * PageSize || heapLength < 0 || fenceStart != heapStart + heapLength
                || fenceStart + pages * KeySize + bloomWords * sizeof(ulong) + FooterSize != length)
            {
                throw new StoreCorruptedException($"the index file {path} has an unknown format");
            }

            var tail = new byte[pages * KeySize + bloomWords * sizeof(ulong)];
            ReadExactly(handle, tail, fenceStart, path);
            var fence = new Hash256[pages];
            for (var i = 0; i < pages; i++)
            {
                fence[i] = new Hash256(tail.AsSpan(i * KeySize, KeySize));
            }

            var bloom = new ulong[bloomWords];
            for (var i = 0; i < bloom.Length; i++)
            {
                bloom[i] = BinaryPrimitives.ReadUInt64LittleEndian(tail.AsSpan((int)(pages * KeySize) + i * sizeof(ulong)));
            }

            return new IndexRun(path, handle, fence, bloom, count, heapStart, length, checksum);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Whether the run holds <paramref name="key"/>; <paramref name="value"/> is null for a deletion.</summary>
    public bool TryGet(in Hash256 key, out byte[]? value)
    {
        value = null;
        if (!MayContain(_bloom, BloomHash(key)))
        {
            return false;
        }

        var page = FindPage(key);
        if (page < 0)
        {
            return false;
        }

        var entries = EntriesIn(page);
        var buffer = ArrayPool<byte>.Shared.Rent(PageSize);
        try
        {
            var span = buffer.AsSpan(0, entries * EntrySize);
            Read(span, page * (long)PageSize);
            int low = 0, high = entries - 1;
            var wanted = key.Bytes;
            while (low <= high)
            {
                var mid = (low + high) >>> 1;
                var entry = span.Slice(mid * EntrySize, EntrySize);
                var order = entry[..KeySize].SequenceCompareTo(wanted);
                if (order == 0)
                {
                    value = ValueOf(entry);
                    return true;
                }

                if (order < 0)
                {
                    low = mid + 1;
                }
                else
                {
                    high = mid - 1;
                }
            }

            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Every entry in key order, deletions as null values; the caller keeps the run referenced meanwhile. Pages are read
    /// 64 at a time and long values through a window over the heap (the heap holds them in key order, so a merge reads
    /// it front to back): one read per value made a snapshot's merge of runs issue one system call per state value,
    /// 8 % of a loaded node's CPU samples while a snapshot ran.
    /// </summary>
    public IEnumerable<KeyValuePair<Hash256, byte[]?>> Entries()
    {
        var heap = new HeapWindow(this);
        foreach (var entry in EntryBytes())
        {
            yield return new KeyValuePair<Hash256, byte[]?>(new Hash256(entry.Span[..KeySize]), ValueOf(entry.Span, heap));
        }
    }

    /// <summary>Every entry's key and <see cref="EntryHead"/> in key order, read from the pages alone (the heap is not read).</summary>
    public IEnumerable<KeyValuePair<Hash256, EntryHead>> Heads()
    {
        foreach (var entry in EntryBytes())
        {
            var span = entry.Span;
            var length = BinaryPrimitives.ReadInt32LittleEndian(span[KeySize..]);
            yield return new KeyValuePair<Hash256, EntryHead>(new Hash256(span[..KeySize]),
                length < 0 ? EntryHead.Deletion : new EntryHead(length, length <= InlineMax ? span.Slice(KeySize + sizeof(int), length).ToArray() : null));
        }
    }

    // Every entry's bytes in key order, the pages read 64 at a time (valid until the next entry is asked for).
    private IEnumerable<ReadOnlyMemory<byte>> EntryBytes()
    {
        const int PagesPerRead = 64;
        var buffer = new byte[PagesPerRead * PageSize];
        for (long first = 0; first < _fence.Length; first += PagesPerRead)
        {
            var pages = (int)Math.Min(PagesPerRead, _fence.Length - first);
            var lastEntries = EntriesIn(first + pages - 1);
            Read(buffer.AsSpan(0, (pages - 1) * PageSize + lastEntries * EntrySize), first * PageSize);
            for (var p = 0; p < pages; p++)
            {
                var entries = EntriesIn(first + p);
                for (var i = 0; i < entries; i++)
                {
                    yield return buffer.AsMemory(p * PageSize + i * EntrySize, EntrySize);
                }
            }
        }
    }

    /// <summary>Takes one more reference (an enumeration in progress); <see cref="Release"/> closes the file at zero.</summary>
    public void Acquire() => Interlocked.Increment(ref _references);

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _handle.Dispose();
        }
    }

    private byte[]? ValueOf(ReadOnlySpan<byte> entry, HeapWindow? heap = null)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(entry[KeySize..]);
        if (length < 0)
        {
            return null;
        }

        var payload = entry[(KeySize + sizeof(int))..];
        if (length <= InlineMax)
        {
            return payload[..length].ToArray();
        }

        var offset = BinaryPrimitives.ReadInt64LittleEndian(payload);
        var value = new byte[length];
        if (heap is null || !heap.TryCopy(offset, value))
        {
            Read(value, _heapStart + offset);
        }

        return value;
    }

    /// <summary>A window of the heap read ahead in one piece, for reading its values in order.</summary>
    private sealed class HeapWindow(IndexRun run)
    {
        private const int Size = 256 << 10;

        private byte[]? _bytes;
        private long _start = -1; // heap offset of _bytes[0]
        private int _length;

        /// <summary>Copies the value at heap <paramref name="offset"/> into <paramref name="value"/>; false for a value longer than the window.</summary>
        public bool TryCopy(long offset, Span<byte> value)
        {
            if (value.Length > Size)
            {
                return false;
            }

            if (_start < 0 || offset < _start || offset + value.Length > _start + _length)
            {
                // The heap ends before the fence, which follows it: never read past the file's end.
                _bytes ??= new byte[Size];
                _length = (int)Math.Min(Size, run.Length - (run._heapStart + offset));
                if (_length < value.Length)
                {
                    return false;
                }

                run.Read(_bytes.AsSpan(0, _length), run._heapStart + offset);
                _start = offset;
            }

            _bytes.AsSpan((int)(offset - _start), value.Length).CopyTo(value);
            return true;
        }
    }

    // A Bloom filter of 10 bits a key and 7 probes (double hashing): about 1 % of the look-ups of a key the run does
    // not hold read a page. Most look-ups of new keys (transaction de-duplication, new rows) miss every run.
    private static long BloomWords(long count) => Math.Max(1, (count * BloomBitsPerKey + 63) / 64);

    private static ulong BloomHash(in Hash256 key)
    {
        var bytes = key.Bytes;
        var value = BinaryPrimitives.ReadUInt64LittleEndian(bytes) ^ BitOperations.RotateLeft(BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]), 17)
            ^ BitOperations.RotateLeft(BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]), 31) ^ BitOperations.RotateLeft(BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]), 47);
        value ^= value >> 33;
        value *= 0xFF51AFD7ED558CCDUL;
        value ^= value >> 33;
        value *= 0xC4CEB9FE1A85EC53UL;
        value ^= value >> 33;
        return value;
    }

    private static void AddToBloom(ulong[] bloom, ulong hash)
    {
        var bits = (ulong)bloom.Length * 64;
        ulong h1 = (uint)hash, h2 = (hash >> 32) | 1;
        for (ulong i = 0; i < BloomProbes; i++)
        {
            var bit = (h1 + i * h2) % bits;
            bloom[bit >> 6] |= 1UL << (int)(bit & 63);
        }
    }

    private static bool MayContain(ulong[] bloom, ulong hash)
    {
        var bits = (ulong)bloom.Length * 64;
        ulong h1 = (uint)hash, h2 = (hash >> 32) | 1;
        for (ulong i = 0; i < BloomProbes; i++)
        {
            var bit = (h1 + i * h2) % bits;
            if ((bloom[bit >> 6] & (1UL << (int)(bit & 63))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    private long FindPage(in Hash256 key)
    {
        int low = 0, high = _fence.Length - 1, found = -1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (_fence[mid].CompareTo(key) <= 0)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return found;
    }

    private int EntriesIn(long page) => (int)Math.Min(EntriesPerPage, Count - page * EntriesPerPage);

    private void Read(Span<byte> destination, long offset) => ReadExactly(_handle, destination, offset, FilePath);

    private static void ReadExactly(SafeFileHandle handle, Span<byte> destination, long offset, string path)
    {
        while (destination.Length > 0)
        {
            var read = RandomAccess.Read(handle, destination, offset);
            if (read <= 0)
            {
                throw new StoreCorruptedException($"the index file {path} ended early");
            }

            destination = destination[read..];
            offset += read;
        }
    }
}

/// <summary>
/// What the pages of a run need of an entry: its value's length (-1: a deletion) and, for a value short enough to sit
/// in the entry (<see cref="IndexRun.InlineMax"/> bytes at most), the value itself.
/// </summary>
internal readonly record struct EntryHead(int Length, byte[]? Inline)
{
    public static EntryHead Deletion { get; } = new(-1, null);

    public bool IsDeletion => Length < 0;

    public static EntryHead Of(byte[]? value) =>
        value is null ? Deletion : new EntryHead(value.Length, value.Length <= IndexRun.InlineMax ? value : null);

    /// <summary>The heads of <paramref name="entries"/>, in their order.</summary>
    public static IEnumerable<KeyValuePair<Hash256, EntryHead>> Of(IEnumerable<KeyValuePair<Hash256, byte[]?>> entries) =>
        entries.Select(pair => new KeyValuePair<Hash256, EntryHead>(pair.Key, Of(pair.Value)));
}
