using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using SmartCity.Ledger.Memory;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// The state-node locator's entries as of a snapshot, read in place from the snapshot's <em>sorted base</em> file
/// (<see cref="LocatorRunFile"/>, kind 2: entries in (prefix, position) order) through a read-only memory mapping,
/// so neither the heap nor the process's anonymous memory carries them: an archive node's locator grows with every node
/// version ever written (~27 million at 1,000,000 transactions, 430 MB), and loaded into a hash table it was most of the
/// node's resident memory and most of its restart. The live locator keeps only the changes since the base in memory
/// (<see cref="StateNodeLocator"/>).
/// </summary>
/// <remarks>
/// A look-up reads one slot of a bucket table (the entries' first index for each value of the prefix's top bits, ~16
/// entries a bucket, 4 bytes a bucket: 6.7 MB at 27 million entries) and scans its bucket in the mapping (a few hundred
/// bytes: one or two pages). Opening reads the file once through (not through the mapping, so not into the process's
/// resident memory) to check its checksum and its order and to build the bucket table. The mapping is advised for random
/// access (no read-ahead around a looked-up page) and released by the finalizer once nothing reaches the base: a
/// snapshot's copy of the locator shares it with the live one, and readers use it under the store's lock.
/// </remarks>
internal sealed unsafe class LocatorBase
{
    private const int EntrySize = 16;
    private const int ReadChunkEntries = 1 << 16;

    private readonly SafeFileHandle _file; // kept open: the file may be deleted (a newer base replaced it) while this base is still read
    private readonly byte* _entries;
    private readonly void* _mapping;
    private readonly nuint _mappedBytes;
    private readonly bool _mapped;
    private readonly int[] _buckets; // _buckets[b] = index of the first entry whose prefix's top bits are >= b; one more at the end
    private readonly int _shift;
    private int _released;

    private LocatorBase(SafeFileHandle file, string path, int count, int[] buckets, int shift, void* mapping, nuint mappedBytes, bool mapped)
    {
        _file = file;
        Path = path;
        Count = count;
        _buckets = buckets;
        _shift = shift;
        _mapping = mapping;
        _mappedBytes = mappedBytes;
        _mapped = mapped;
        _entries = (byte*)mapping + LocatorRunFile.HeaderSize;
    }

    ~LocatorBase() => Release();

    /// <summary>The file the entries are read from.</summary>
    public string Path { get; }

    /// <summary>Entries in the file.</summary>
    public int Count { get; }

    /// <summary>
    /// Opens a sorted base file that a manifest names as <paramref name="expected"/>: reads it through once to check its
    /// layout, checksum and order (throws <see cref="StoreCorruptedException"/> on any disagreement) and maps it.
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

            var mapping = Map(handle, (nuint)length, out var mapped);
            return new LocatorBase(handle, path, (int)count, buckets, shift, mapping, (nuint)length, mapped);
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
        var bucket = BucketOf(prefix, _shift);
        for (var i = _buckets[bucket]; i < _buckets[bucket + 1]; i++)
        {
            var at = _entries + ((long)i * EntrySize);
            var entryPrefix = ReadUInt64(at);
            if (entryPrefix > prefix)
            {
                break;
            }

            if (entryPrefix == prefix && ReadInt64(at + 8) is var position && !isGone(state, prefix, position) && count < found.Length)
            {
                found[count++] = position;
            }
        }

        GC.KeepAlive(this); // the mapping is released by the finalizer: keep it reachable until read
        return count;
    }

    /// <summary>Whether the base holds the entry (<paramref name="prefix"/>, <paramref name="position"/>).</summary>
    public bool Contains(ulong prefix, long position)
    {
        var bucket = BucketOf(prefix, _shift);
        var found = false;
        for (var i = _buckets[bucket]; i < _buckets[bucket + 1] && !found; i++)
        {
            var at = _entries + ((long)i * EntrySize);
            var entryPrefix = ReadUInt64(at);
            if (entryPrefix > prefix)
            {
                break;
            }

            found = entryPrefix == prefix && ReadInt64(at + 8) == position;
        }

        GC.KeepAlive(this);
        return found;
    }

    /// <summary>
    /// Every entry in order, read from the file (not through the mapping: a merge that writes the next base reads the
    /// whole file once, and through the page cache that adds nothing to the process's resident memory).
    /// </summary>
    public IEnumerable<(ulong Prefix, long Position)> ReadAll()
    {
        var buffer = new byte[ReadChunkEntries * EntrySize];
        for (var index = 0; index < Count;)
        {
            var entries = Math.Min(ReadChunkEntries, Count - index);
            var chunk = buffer.AsSpan(0, entries * EntrySize);
            ReadExactly(_file, chunk, LocatorRunFile.HeaderSize + ((long)index * EntrySize), Path);

            for (var at = 0; at < entries * EntrySize; at += EntrySize)
            {
                yield return (BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(at)), BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(at + 8)));
            }

            index += entries;
        }
    }

    // ~16 entries a bucket: the bucket table costs a quarter byte an entry, a look-up scans a few hundred bytes.
    private static int BucketBits(long count) => count < 32 ? 0 : Math.Min(28, 63 - (int)ulong.LeadingZeroCount((ulong)(count / 16)));

    private static int BucketOf(ulong prefix, int shift) => shift >= 64 ? 0 : (int)(prefix >> shift);

    private static ulong ReadUInt64(byte* at) => BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(at, 8));

    private static long ReadInt64(byte* at) => BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(at, 8));

    // The file read-only and shared (the page cache's own pages), or where it cannot be mapped (not Linux), its bytes
    // copied into native memory.
    private static void ReadExactly(SafeFileHandle file, Span<byte> destination, long offset, string path)
    {
        for (var read = 0; read < destination.Length;)
        {
            var n = RandomAccess.Read(file, destination[read..], offset + read);
            read += n > 0 ? n : throw new StoreCorruptedException($"the locator file {path} ends early");
        }
    }

    private static void* Map(SafeFileHandle file, nuint length, out bool mapped)
    {
        if (OperatingSystem.IsLinux())
        {
            const int ProtRead = 0x1;
            const int MapShared = 0x01;
            const int AdviseRandom = 1;
            var mapping = LargeTableNative.Mmap(null, length, ProtRead, MapShared, (int)file.DangerousGetHandle(), 0);
            if (mapping != (void*)-1)
            {
                _ = LargeTableNative.Madvise(mapping, length, AdviseRandom);
                mapped = true;
                return mapping;
            }
        }

        var copy = NativeMemory.Alloc(length);
        ReadExactly(file, new Span<byte>(copy, checked((int)length)), 0, "(copy)");
        mapped = false;
        return copy;
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        _file.Dispose();
        if (_mapped)
        {
            _ = LargeTableNative.Munmap(_mapping, _mappedBytes);
        }
        else
        {
            NativeMemory.Free(_mapping);
        }
    }
}
