using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// Where each persisted state-tree node sits in the segments: an open-addressing table (linear probing) from the first
/// 8 bytes of the node's hash to its packed position (<see cref="Pack"/>), 16 bytes per node, so millions of nodes are
/// located without keeping them in memory. Two nodes whose hashes share 8 bytes (about one chance in 10^6 over ten
/// million nodes) are both kept; a reader tells them apart by reading and re-hashing, which it does anyway.
/// A node's position is in the record of the newest block that created it, which is what pruning compares against.
/// Not thread-safe: the store's lock guards it.
/// </summary>
internal sealed class StateNodeLocator
{
    private const double MaxLoad = 0.7;
    private const int SegmentShift = 40;

    private ulong[] _prefixes;
    private long[] _positions; // 0 = empty slot (no record starts at offset 0: a segment begins with its file header)
    private int _mask;

    public StateNodeLocator(int capacity = 1 << 12)
    {
        var size = 1 << Math.Max(4, (int)Math.Ceiling(Math.Log2(Math.Max(16, capacity / MaxLoad))));
        _prefixes = new ulong[size];
        _positions = new long[size];
        _mask = size - 1;
    }

    public int Count { get; private set; }

    /// <summary>
    /// An independent copy (for a snapshot written in the background): two array copies, into
    /// <paramref name="reuse"/>'s arrays when they are the size of this table's (an earlier snapshot's copy, handed
    /// back). Fresh arrays of tens of megabytes cost more than their copy: every page is faulted in and zeroed by the
    /// kernel, and each large-object allocation brings the next full collection closer.
    /// </summary>
    public StateNodeLocator Copy(StateNodeLocator? reuse = null)
    {
        if (reuse is null || reuse._positions.Length != _positions.Length || ReferenceEquals(reuse, this))
        {
            return new(this);
        }

        _prefixes.CopyTo(reuse._prefixes, 0);
        _positions.CopyTo(reuse._positions, 0);
        reuse._mask = _mask;
        reuse.Count = Count;
        return reuse;
    }

    private StateNodeLocator(StateNodeLocator other)
    {
        // Uninitialised arrays: a plain memory copy, not a zeroing and then a copy (the table can be hundreds of MB).
        _prefixes = GC.AllocateUninitializedArray<ulong>(other._prefixes.Length);
        other._prefixes.CopyTo(_prefixes, 0);
        _positions = GC.AllocateUninitializedArray<long>(other._positions.Length);
        other._positions.CopyTo(_positions, 0);
        _mask = other._mask;
        Count = other.Count;
    }

    public static long Pack(int segment, long offset) => ((long)segment << SegmentShift) | offset;

    public static (int Segment, long Offset) Unpack(long position) => ((int)(position >> SegmentShift), position & ((1L << SegmentShift) - 1));

    public static ulong PrefixOf(in Hash256 hash) => BinaryPrimitives.ReadUInt64LittleEndian(hash.Bytes);

    /// <summary>Every position stored under <paramref name="hash"/>'s prefix (almost always zero or one).</summary>
    public int Candidates(in Hash256 hash, Span<long> found)
    {
        var prefix = PrefixOf(hash);
        var count = 0;
        for (var slot = (int)(Mix(prefix) & (uint)_mask); _positions[slot] != 0; slot = (slot + 1) & _mask)
        {
            if (_prefixes[slot] == prefix && count < found.Length)
            {
                found[count++] = _positions[slot];
            }
        }

        return count;
    }

    /// <summary>
    /// Records that node <paramref name="hash"/> is at <paramref name="position"/>. If a node with the same hash is
    /// already located (<paramref name="isSameNode"/> says, given its position), its position moves to the newer one.
    /// </summary>
    public void Put(in Hash256 hash, long position, Func<long, bool> isSameNode) => Put(hash, position, isSameNode, static (same, at) => same(at));

    /// <summary>
    /// As above, with the comparison's state passed in rather than captured: a block appends ~50 nodes per transaction,
    /// and a closure and a delegate each were ~4 KB of garbage per transaction.
    /// </summary>
    public void Put<TState>(in Hash256 hash, long position, TState state, Func<TState, long, bool> isSameNode)
    {
        var prefix = PrefixOf(hash);
        var slot = (int)(Mix(prefix) & (uint)_mask);
        for (; _positions[slot] != 0; slot = (slot + 1) & _mask)
        {
            if (_prefixes[slot] == prefix && isSameNode(state, _positions[slot]))
            {
                _positions[slot] = position;
                return;
            }
        }

        _prefixes[slot] = prefix;
        _positions[slot] = position;
        if (++Count > _positions.Length * MaxLoad)
        {
            Grow();
        }
    }

    /// <summary>Adds an entry known to be new (snapshot loading): no comparison with existing entries.</summary>
    public void AddUnchecked(ulong prefix, long position)
    {
        var slot = (int)(Mix(prefix) & (uint)_mask);
        while (_positions[slot] != 0)
        {
            slot = (slot + 1) & _mask;
        }

        _prefixes[slot] = prefix;
        _positions[slot] = position;
        if (++Count > _positions.Length * MaxLoad)
        {
            Grow();
        }
    }

    /// <summary>Removes the entry of <paramref name="hash"/> whose position <paramref name="select"/> picks; returns whether one was removed.</summary>
    public bool Remove(in Hash256 hash, Func<long, bool> select)
    {
        var prefix = PrefixOf(hash);
        for (var slot = (int)(Mix(prefix) & (uint)_mask); _positions[slot] != 0; slot = (slot + 1) & _mask)
        {
            if (_prefixes[slot] == prefix && select(_positions[slot]))
            {
                RemoveAt(slot);
                return true;
            }
        }

        return false;
    }

    /// <summary>Every entry, for a snapshot.</summary>
    public IEnumerable<(ulong Prefix, long Position)> Entries()
    {
        for (var slot = 0; slot < _positions.Length; slot++)
        {
            if (_positions[slot] != 0)
            {
                yield return (_prefixes[slot], _positions[slot]);
            }
        }
    }

    public void EnsureCapacity(int count)
    {
        while (count > _positions.Length * MaxLoad)
        {
            Grow();
        }
    }

    // Backward-shift deletion: move later entries of the probe run into the hole so no tombstones are needed.
    private void RemoveAt(int hole)
    {
        _positions[hole] = 0;
        Count--;
        for (var slot = (hole + 1) & _mask; _positions[slot] != 0; slot = (slot + 1) & _mask)
        {
            var home = (int)(Mix(_prefixes[slot]) & (uint)_mask);
            // The entry may fill the hole if its home is not cyclically within (hole, slot].
            var distanceToSlot = (slot - home) & _mask;
            var distanceToHole = (hole - home) & _mask;
            if (distanceToHole < distanceToSlot)
            {
                _prefixes[hole] = _prefixes[slot];
                _positions[hole] = _positions[slot];
                _positions[slot] = 0;
                hole = slot;
            }
        }
    }

    // Called a few times in a store's life, each time over millions of slots: compiled optimised at once, not left to a
    // tier-0 body with on-stack replacement (it showed as 4 % of a loaded node's CPU samples that way).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Grow()
    {
        var (prefixes, positions) = (_prefixes, _positions);
        _prefixes = new ulong[prefixes.Length * 2];
        _positions = new long[positions.Length * 2];
        _mask = _positions.Length - 1;
        Count = 0;
        for (var i = 0; i < positions.Length; i++)
        {
            if (positions[i] != 0)
            {
                AddUnchecked(prefixes[i], positions[i]);
            }
        }
    }

    // Hash prefixes are already uniform; the mix only guards against crafted or structured keys clustering.
    private static ulong Mix(ulong value)
    {
        value ^= value >> 33;
        value *= 0xFF51AFD7ED558CCDUL;
        value ^= value >> 33;
        return value;
    }
}
