using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node;

/// <summary>
/// A bounded cache of state-tree nodes by hash: a two-way set-associative table of immutable entries. Lookups and
/// inserts take no lock and allocate one small entry per insert (a general LRU took a dictionary node, a queue item and
/// an entry per insert and showed as a tenth of the writer's CPU). Eviction is by position: an insert goes to the
/// emptier or older way of its set, so the hot top of the tree, read on every block, is written back at once
/// if it is ever pushed out. Safe for concurrent readers and writers: a slot holds a reference, swapped atomically.
/// </summary>
internal sealed class StateNodeCache
{
    private readonly Entry?[] _slots;
    private readonly int _setMask;
    private long _clock;

    public StateNodeCache(int capacity)
    {
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(capacity, 1024, 1 << 28));
        _slots = new Entry?[size];
        _setMask = (size >> 1) - 1;
    }

    public bool TryGet(in Hash256 hash, [NotNullWhen(true)] out StateNode? node)
    {
        var set = SetOf(hash);
        var first = Volatile.Read(ref _slots[set]);
        if (first is not null && first.Hash == hash)
        {
            first.Touched = _clock;
            node = first.Node;
            return true;
        }

        var second = Volatile.Read(ref _slots[set + 1]);
        if (second is not null && second.Hash == hash)
        {
            second.Touched = _clock;
            node = second.Node;
            return true;
        }

        node = null;
        return false;
    }

    public void Add(in Hash256 hash, StateNode node)
    {
        var set = SetOf(hash);
        var first = Volatile.Read(ref _slots[set]);
        var second = Volatile.Read(ref _slots[set + 1]);
        if (first?.Hash == hash || second?.Hash == hash)
        {
            return; // content-addressed: the same hash is the same node
        }

        var entry = new Entry(hash, node) { Touched = Interlocked.Increment(ref _clock) };
        var way = first is null ? 0 : second is null ? 1 : first.Touched <= second.Touched ? 0 : 1;
        Volatile.Write(ref _slots[set + way], entry);
    }

    private int SetOf(in Hash256 hash) => (int)(BinaryPrimitives.ReadUInt64LittleEndian(hash.Bytes) & (uint)_setMask) << 1;

    private sealed class Entry(Hash256 hash, StateNode node)
    {
        public Hash256 Hash { get; } = hash;

        public StateNode Node { get; } = node;

        // Last insert or hit (a racy hint for eviction, never for correctness).
        public long Touched { get; set; }
    }
}
