using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// The state-node locator's entries as of a snapshot, read where they are: in the snapshot's <em>sorted base</em> file
/// (<see cref="LocatorRunFile"/>, kind 2: entries in (prefix, position) order), so neither the heap nor the process's
/// other memory carries them. An archive node's locator grows with every node version ever written (~27 million
/// entries at 1,000,000 transactions, 430 MB), and loaded into a hash table it was most of the node's resident memory
/// and most of its restart. The live locator keeps only the changes since the base in memory (<see cref="StateNodeLocator"/>).
/// </summary>
/// <remarks>
/// A look-up reads one slot of a bucket table (the first entry's index for each value of the prefix's top bits, ~16
/// entries a bucket, 4 bytes a bucket: 6.7 MB at 27 million entries) and then the bucket's entries with one positioned
/// read (a few hundred bytes, from the page cache once the file has been read). That is ~2 µs on this kind of virtual
/// machine, against ~0.4 µs for a memory-mapped read, but an archive node looks up the base only for the nodes its
/// caches do not hold (store reads) and pages read through a mapping stay counted as the process's resident memory (the
/// kernel maps 16 pages around each faulting one: 2,000 proofs made 350 MB of a 384 MB base resident). A store that
/// prunes keeps its locator in memory instead (<see cref="LedgerIndex.CaptureManifest"/>): pruning looks up most stale
/// nodes in the base. Opening reads the file once through to check its checksum and its order and to build the bucket
/// table. The file handle stays open until the base is collected: a newer base may replace and delete the file while a
/// snapshot's copy of the locator still reads this one.
/// </remarks>
internal sealed class LocatorBase
{
    private const int EntrySize = 16;
    private const int ReadChunkEntries = 1 << 16;

    // A look-up reads its bucket in reads of at most this many bytes (a bucket holds ~16 entries, 256 bytes).
    private const int ScanBytes = 64 * EntrySize;

    private readonly SafeFileHandle _file;
    private readonly int[] _buckets; // _buckets[b] = index of the first entry whose prefix's top bits are >= b; one more at the end
    private readonly int _shift;

    private LocatorBase(SafeFileHandle file, string path, int count, int[] buckets, int shift)
    {
        _file = file;
        Path = path;
        Count = count;
        _buckets = buckets;
        _shift = shift;
    }

    /// <summary>The file the entries are read from.</summary>
    public string Path { get; }

    /// <summary>Entries in the file.</summary>
    public int Count { get; }

    /// <summary>
    /// Opens a sorted base file that a manifest names as <paramref name="expected"/>: reads it through once to check its
    /// layout, checksum and order (throws <see cref="StoreCorruptedException"/> on any disagreement).
    /// </summary>
    public static LocatorBase Open(string path, LocatorRunFile.Reference expected)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new StoreCorruptedException($"the locator file {path} the snapshot names is missing", ex);
        }

        try
        {
            var length = RandomAccess.GetLength(handle);
            Span<byte> header = stackalloc byte[LocatorRunFile.HeaderSize];
            if (length < LocatorRunFile.HeaderSize + sizeof(uint))
            {
                throw new StoreCorruptedException($"the locator file {path} is malformed");
            }

            ReadExactly(handle, header, 0, path);
            var offset = (long)header.Length;

            var count = BinaryPrimitives.ReadInt64LittleEndian(header[9..]);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != LocatorRunFile.Magic || BinaryPrimitives.ReadInt32LittleEndian(header[4..]) != LocatorRunFile.Version
                || header[8] != (byte)LocatorRunKind.SortedBase || count is < 0 or > int.MaxValue || length != LocatorRunFile.HeaderSize + (count * EntrySize) + sizeof(uint))
            {
                throw new StoreCorruptedException($"the locator file {path} is malformed");
            }

            if (count != expected.Count || expected.Kind != LocatorRunKind.SortedBase)
            {
                throw new StoreCorruptedException($"the locator file {path} is not the one the snapshot names");
            }

            var bits = BucketBits(count);
            var shift = 64 - bits;
            var buckets = new int[(1 << bits) + 1];
            var crc = Crc32C.Append(Crc32C.Start, header);
            var buffer = new byte[ReadChunkEntries * EntrySize];
            var nextBucket = 0;
            var index = 0;
            UInt128 previous = 0;
            while (index < count)
            {
                var entries = (int)Math.Min(ReadChunkEntries, count - index);
                var chunk = buffer.AsSpan(0, entries * EntrySize);
                ReadExactly(handle, chunk, offset, path);
                offset += chunk.Length;
                crc = Crc32C.Append(crc, chunk);
                for (var at = 0; at < chunk.Length; at += EntrySize, index++)
                {
                    var prefix = BinaryPrimitives.ReadUInt64LittleEndian(chunk[at..]);
                    var position = BinaryPrimitives.ReadInt64LittleEndian(chunk[(at + 8)..]);
                    var key = ((UInt128)prefix << 64) | (ulong)position;
                    if (position <= 0 || (index > 0 && key <= previous))
                    {
                        throw new StoreCorruptedException($"the locator file {path} holds an invalid or out-of-order entry at {index}");
                    }

                    previous = key;
                    var bucket = BucketOf(prefix, shift);
                    while (nextBucket <= bucket)
                    {
                        buckets[nextBucket++] = index;
                    }
                }
            }

            while (nextBucket < buckets.Length)
            {
                buckets[nextBucket++] = (int)count;
            }

            var stored = buffer.AsSpan(0, sizeof(uint));
            ReadExactly(handle, stored, offset, path);
            var checksum = Crc32C.Finish(crc);
            if (checksum != BinaryPrimitives.ReadUInt32LittleEndian(stored))
            {
                throw new StoreCorruptedException($"the locator file {path} fails its checksum");
            }

            if (checksum != expected.Checksum)
            {
                throw new StoreCorruptedException($"the locator file {path} is not the one the snapshot names");
            }

            return new LocatorBase(handle, path, (int)count, buckets, shift);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Every position stored under <paramref name="prefix"/> that <paramref name="isGone"/> does not exclude, into <paramref name="found"/> from <paramref name="start"/>; returns the new count.</summary>
    public int Candidates<TState>(ulong prefix, Span<long> found, int start, TState state, Func<TState, ulong, long, bool> isGone)
    {
        var count = start;
        Span<byte> bytes = stackalloc byte[ScanBytes];
        for (var (from, to) = Bucket(prefix); from < to; from += ScanBytes / EntrySize)
        {
            var chunk = ReadEntries(from, Math.Min(to - from, ScanBytes / EntrySize), bytes);
            for (var at = 0; at < chunk.Length; at += EntrySize)
            {
                var entryPrefix = BinaryPrimitives.ReadUInt64LittleEndian(chunk[at..]);
                if (entryPrefix > prefix)
                {
                    return count;
                }

                if (entryPrefix == prefix && BinaryPrimitives.ReadInt64LittleEndian(chunk[(at + 8)..]) is var position && !isGone(state, prefix, position) && count < found.Length)
                {
                    found[count++] = position;
                }
            }
        }

        return count;
    }

    /// <summary>Whether the base holds the entry (<paramref name="prefix"/>, <paramref name="position"/>).</summary>
    public bool Contains(ulong prefix, long position)
    {
        Span<long> found = stackalloc long[8];
        var n = Candidates(prefix, found, 0, position, static (_, _, _) => false);
        return found[..n].Contains(position);
    }

    /// <summary>Every entry in order, read from the file (a merge that writes the next base reads it once through).</summary>
    public IEnumerable<(ulong Prefix, long Position)> ReadAll()
    {
        var buffer = new byte[ReadChunkEntries * EntrySize];
        for (var index = 0; index < Count;)
        {
            var entries = Math.Min(ReadChunkEntries, Count - index);
            ReadEntries(index, entries, buffer);
            for (var at = 0; at < entries * EntrySize; at += EntrySize)
            {
                yield return (BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(at)), BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(at + 8)));
            }

            index += entries;
        }
    }

    private (int From, int To) Bucket(ulong prefix)
    {
        var bucket = BucketOf(prefix, _shift);
        return (_buckets[bucket], _buckets[bucket + 1]);
    }

    private ReadOnlySpan<byte> ReadEntries(int first, int count, Span<byte> buffer)
    {
        var bytes = buffer[..(count * EntrySize)];
        ReadExactly(_file, bytes, LocatorRunFile.HeaderSize + ((long)first * EntrySize), Path);
        return bytes;
    }

    // ~16 entries a bucket: the bucket table costs a quarter byte an entry, a look-up scans a few hundred bytes.
    private static int BucketBits(long count) => count < 32 ? 0 : Math.Min(28, 63 - (int)ulong.LeadingZeroCount((ulong)(count / 16)));

    private static int BucketOf(ulong prefix, int shift) => shift >= 64 ? 0 : (int)(prefix >> shift);

    private static void ReadExactly(SafeFileHandle file, Span<byte> destination, long offset, string path)
    {
        if (RecordFraming.ReadExactly(file, destination, offset) != destination.Length)
        {
            throw new StoreCorruptedException($"the locator file {path} ends early");
        }
    }
}
