using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace SmartCity.Ledger.Memory;

/// <summary>
/// A fixed-size, zeroed table of unmanaged entries for the node's big random-access structures (the state-node cache):
/// outside the GC heap, and on Linux mapped on its own and marked for transparent huge pages (<c>MADV_HUGEPAGE</c>;
/// Debian's default THP mode, <c>madvise</c>, honours exactly such requests). A lookup into a table of hundreds of MiB
/// then misses the TLB far less often, and filling the table takes one page fault per 2 MiB instead of one per 4 KiB
/// (each ~2-4 µs on this kind of virtual machine: the 4 KiB faults of a filling cache were ~3 % of a loaded node's CPU).
/// Where the kernel has no huge page to give, it is an ordinary zeroed mapping.
/// </summary>
/// <remarks>
/// A shared table is released by the finalizer, once nothing can reach it (a reader on another thread never finds it
/// freed under it), and the GC is told its size so it collects with the table's weight in mind. An owner that alone
/// reaches its table (a locator growing under its store's lock) releases the old one at once with
/// <see cref="Dispose"/>: it is then not counted as memory pressure, which would bring full collections forward.
/// A ref an indexer hands out is not tracked by the GC: an owner's method touches the table's memory only while the
/// owner is still used afterwards (a field read, or <see cref="GC.KeepAlive"/> at its end), so the finalizer cannot
/// run between the look-up and the read.
/// <para>
/// A table made with a <em>reserve</em> (Linux) maps address space for that many entries and memory only for its
/// length: <see cref="TryGrow"/> then lengthens it in place, where its entries are, so a growing hash table faults in
/// only the pages it adds instead of a whole new table of twice the size (each fresh page is zeroed by the kernel, at
/// ~0.5 GB/s on this kind of virtual machine). The reserved address space that is never used costs no memory.
/// </para>
/// </remarks>
internal sealed unsafe class LargeTable<T> : IDisposable
    where T : unmanaged
{
    private const nuint HugePage = 2 << 20;
    private const int ProtRead = 0x1;
    private const int ProtWrite = 0x2;
    private const int MapPrivate = 0x02;
    private const int MapAnonymous = 0x20;
    private const int MapNoReserve = 0x4000;
    private const int AdviseHugePage = 14;
    private const int AdviseDontNeed = 4;
    private const nuint Page = 4096;

    private readonly T* _items;
    private readonly void* _mapping; // what to release: the mapping (Linux) or the native allocation
    private readonly nuint _mappedBytes;
    private readonly int _reserve; // entries the mapping has address space for (Length when it cannot grow in place)
    private long _pressure;
    private int _released;
    private int _counted; // entries counted as memory: Length, or fewer once trimmed (Trim)

    /// <param name="length">Entries.</param>
    /// <param name="releasedByOwner">Whether the owner calls <see cref="Dispose"/> once no thread can read the table any more (no GC memory pressure then).</param>
    /// <param name="reserve">
    /// Entries to reserve address space for, so that <see cref="TryGrow"/> can lengthen the table in place up to them
    /// (Linux; elsewhere, or when the address space cannot be had, the table cannot grow in place).
    /// </param>
    public LargeTable(int length, bool releasedByOwner = false, int reserve = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        Length = length;
        _counted = length;
        _reserve = length;
        var bytes = (nuint)length * (nuint)sizeof(T);
        if (OperatingSystem.IsLinux())
        {
            // One huge page more than asked, so the table can start on a 2 MiB boundary (a huge page maps only there).
            var mapping = reserve > length ? Reserve((nuint)reserve * (nuint)sizeof(T), bytes) : (void*)-1;
            if (mapping != (void*)-1)
            {
                _reserve = reserve;
                _mappedBytes = ((nuint)reserve * (nuint)sizeof(T)) + HugePage;
            }
            else
            {
                _mappedBytes = bytes + HugePage;
                mapping = LargeTableNative.Mmap(null, _mappedBytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
                if (mapping == (void*)-1)
                {
                    throw new OutOfMemoryException($"could not map {bytes} bytes for a table (errno {Marshal.GetLastPInvokeError()})");
                }
            }

            _mapping = mapping;
            _items = (T*)RoundUp((nuint)mapping, HugePage);
            var capacity = (nuint)_reserve * (nuint)sizeof(T);
            if (capacity >= HugePage)
            {
                _ = LargeTableNative.Madvise(_items, capacity & ~(HugePage - 1), AdviseHugePage); // a hint: without THP it changes nothing
            }
        }
        else
        {
            _mapping = NativeMemory.AllocZeroed(bytes);
            _items = (T*)_mapping;
        }

        NativeTableMemory.Add((long)bytes);
        if (!releasedByOwner)
        {
            _pressure = (long)bytes;
            GC.AddMemoryPressure(_pressure);
        }
    }

    ~LargeTable() => Release();

    public int Length { get; private set; }

    /// <summary>
    /// Lengthens the table to <paramref name="length"/> entries in place (the new ones zeroed, the others untouched,
    /// every ref and span into the old part still valid); false, changing nothing, when its reserve does not reach that
    /// far or the memory cannot be had. Only for an owner that alone reaches the table while it grows.
    /// </summary>
    public bool TryGrow(int length)
    {
        if (length <= Length || length > _reserve || _released != 0 || _counted < Length) // a trimmed table does not grow
        {
            return length == Length;
        }

        var from = RoundUp((nuint)Length * (nuint)sizeof(T), Page);
        var to = RoundUp((nuint)length * (nuint)sizeof(T), Page);
        if (to > from && LargeTableNative.Mprotect((byte*)_items + from, to - from, ProtRead | ProtWrite) != 0)
        {
            return false;
        }

        var added = (long)((nuint)(length - Length) * (nuint)sizeof(T));
        NativeTableMemory.Add(added);
        if (_pressure > 0)
        {
            GC.AddMemoryPressure(added);
            _pressure += added;
        }

        Length = length;
        _counted = length;
        return true;
    }

    /// <summary>
    /// Gives the memory of the entries from <paramref name="inUse"/> on back to the system (Linux: <c>MADV_DONTNEED</c>
    /// on the whole pages they cover, the entries at the range's ends zeroed; elsewhere they are zeroed): they read as
    /// zero, and a write faults a zeroed page in again. <see cref="NativeTableMemory"/> counts only the entries in use
    /// from then on; a later call with a larger <paramref name="inUse"/> (or <see cref="Length"/>) counts them again,
    /// whose pages come back as they are written. The caller keeps its own readers off the trimmed entries, or lets
    /// them read zeros.
    /// </summary>
    public void Trim(int inUse)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inUse);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(inUse, Length);
        var counted = _counted;
        if (inUse < counted)
        {
            var start = (nuint)(_items + inUse);
            var end = (nuint)(_items + counted);
            var firstPage = RoundUp(start, Page);
            var lastPage = end & ~(Page - 1);
            if (OperatingSystem.IsLinux() && lastPage > firstPage
                && LargeTableNative.Madvise((void*)firstPage, lastPage - firstPage, AdviseDontNeed) == 0)
            {
                new Span<byte>((void*)start, (int)(firstPage - start)).Clear();
                new Span<byte>((void*)lastPage, (int)(end - lastPage)).Clear();
            }
            else
            {
                Slice(inUse, counted - inUse).Clear();
            }
        }

        NativeTableMemory.Add((long)(inUse - counted) * sizeof(T));
        _counted = inUse;
    }

    /// <summary>Entry <paramref name="index"/>, in place.</summary>
    public ref T this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)index >= (uint)Length)
            {
                ThrowIndex(index);
            }

            return ref _items[index];
        }
    }

    /// <summary>Entries <paramref name="start"/> to <paramref name="start"/> + <paramref name="length"/> - 1, in place.</summary>
    public Span<T> Slice(int start, int length)
    {
        if ((uint)start > (uint)Length || (uint)length > (uint)(Length - start))
        {
            ThrowIndex(start);
        }

        return new Span<T>(_items + start, length);
    }

    /// <summary>Asks the CPU to load the <paramref name="lines"/> cache lines from entry <paramref name="index"/> on (a hint: no fault, no effect on correctness).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(int index, int lines)
    {
        if (!Sse.IsSupported || (uint)index >= (uint)Length)
        {
            return;
        }

        var address = (byte*)(_items + index);
        for (var line = 0; line < lines; line++)
        {
            Sse.Prefetch0(address + (line * 64));
        }
    }

    /// <summary>Asks the CPU to load every cache line entry <paramref name="index"/> spans (a hint: no fault, no effect on correctness).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrefetchEntry(int index)
    {
        if (!Sse.IsSupported || (uint)index >= (uint)Length)
        {
            return;
        }

        var first = (byte*)(_items + index);
        var last = first + sizeof(T) - 1;
        for (var line = first; line < last; line += 64)
        {
            Sse.Prefetch0(line);
        }

        Sse.Prefetch0(last); // the line the entry ends in, when it straddles one more than its size suggests
    }

    /// <summary>Frees the memory now: only for an owner that knows no thread reads the table any more.</summary>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        NativeTableMemory.Add(-(long)((nuint)_counted * (nuint)sizeof(T)));
        if (OperatingSystem.IsLinux())
        {
            _ = LargeTableNative.Munmap(_mapping, _mappedBytes);
        }
        else
        {
            NativeMemory.Free(_mapping);
        }

        if (_pressure > 0)
        {
            GC.RemoveMemoryPressure(_pressure);
        }
    }

    private static nuint RoundUp(nuint bytes, nuint unit) => (bytes + unit - 1) & ~(unit - 1);

    /// <summary>
    /// Address space for <paramref name="reservedBytes"/> (and the huge page of alignment), nothing committed, with its
    /// first <paramref name="bytes"/> made writable; (void*)-1 when either step is refused.
    /// </summary>
    private static void* Reserve(nuint reservedBytes, nuint bytes)
    {
        var mapping = LargeTableNative.Mmap(null, reservedBytes + HugePage, 0, MapPrivate | MapAnonymous | MapNoReserve, -1, 0);
        if (mapping == (void*)-1)
        {
            return mapping;
        }

        if (LargeTableNative.Mprotect((void*)RoundUp((nuint)mapping, HugePage), RoundUp(bytes, Page), ProtRead | ProtWrite) != 0)
        {
            _ = LargeTableNative.Munmap(mapping, reservedBytes + HugePage);
            return (void*)-1;
        }

        return mapping;
    }

    private static void ThrowIndex(int index) => throw new IndexOutOfRangeException($"entry {index} is outside the table");
}

/// <summary>
/// The bytes of the node's tables outside the GC heap (<see cref="LargeTable{T}"/>: the state-node cache, the store's
/// state-node locator and its change log) now: their lengths, of which only the pages written are resident. With the
/// GC's heap, most of what a node's memory is (docs/node.md, "Memory").
/// </summary>
public static class NativeTableMemory
{
    private static long _bytes;

    public static long Bytes => Interlocked.Read(ref _bytes);

    internal static void Add(long bytes) => Interlocked.Add(ref _bytes, bytes);
}

/// <summary>The libc calls behind <see cref="LargeTable{T}"/>.</summary>
internal static unsafe partial class LargeTableNative
{
    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    public static partial int Munmap(void* address, nuint length);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    public static partial int Mprotect(void* address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "madvise")]
    public static partial int Madvise(void* address, nuint length, int advice);
}
