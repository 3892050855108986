using System.Buffers.Binary;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Memory;

namespace SmartCity.Ledger.Node;

/// <summary>
/// The keys the head's state may hold, as 64-bit fingerprints (the first 8 bytes of the key hash, itself a Keccak
/// digest) in an open-addressed table: a key whose fingerprint is not here is certainly absent, so a read of a new
/// key (a new record, a subject's first index entry) needs no walk of the state tree. Keys are only added, never
/// removed: a deleted key stays "maybe present" and is read from the tree, which is always right. 8 bytes per key at
/// most half full: ~16 MiB for 1,000,000 keys, in a <see cref="LargeTable{T}"/> outside the GC heap (as an array it
/// was one of a writing node's largest objects, and each doubling left the old one behind in the large-object heap
/// until a full collection). Not thread-safe: the owner locks.
/// </summary>
internal sealed class StateKeyFilter
{
    private const int InitialCapacity = 1 << 12;

    private LargeTable<long> _slots = new(InitialCapacity);
    private int _count;

    public int Count => _count;

    public void Add(in Hash256 key)
    {
        if ((_count + 1) * 2 > _slots.Length)
        {
            Grow();
        }

        if (Insert(_slots, Fingerprint(key)))
        {
            _count++;
        }
    }

    /// <summary>False only when the key was never added.</summary>
    public bool MayContain(in Hash256 key)
    {
        var fingerprint = Fingerprint(key);
        var slots = _slots;
        var mask = slots.Length - 1;
        var i = (int)fingerprint & mask;
        while (slots[i] != fingerprint && slots[i] != 0)
        {
            i = (i + 1) & mask;
        }

        var found = slots[i] != 0;
        GC.KeepAlive(slots); // the table is released by its finalizer: keep it reachable until read
        return found;
    }

    private static long Fingerprint(in Hash256 key)
    {
        var value = BinaryPrimitives.ReadInt64LittleEndian(key.Bytes);
        return value == 0 ? 1 : value; // 0 marks an empty slot
    }

    private static bool Insert(LargeTable<long> slots, long fingerprint)
    {
        var mask = slots.Length - 1;
        for (var i = (int)fingerprint & mask; ; i = (i + 1) & mask)
        {
            if (slots[i] == fingerprint)
            {
                return false;
            }

            if (slots[i] == 0)
            {
                slots[i] = fingerprint;
                return true;
            }
        }
    }

    private void Grow()
    {
        var larger = new LargeTable<long>(_slots.Length * 2);
        for (var i = 0; i < _slots.Length; i++)
        {
            if (_slots[i] != 0)
            {
                Insert(larger, _slots[i]);
            }
        }

        var old = _slots;
        _slots = larger;
        old.Dispose(); // only the owner, under its lock, ever reads it
    }
}
