using System.Buffers.Binary;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Node;

/// <summary>
/// The keys the head's state may hold, as 64-bit fingerprints (the first 8 bytes of the key hash, itself a Keccak
/// digest) in an open-addressed table: a key whose fingerprint is not here is certainly absent, so a read of a new
/// key (a new record, a subject's first index entry) needs no walk of the state tree. Keys are only added, never
/// removed: a deleted key stays "maybe present" and is read from the tree, which is always right. 8 bytes per key at
/// most half full: ~16 MiB for 1,000,000 keys. Not thread-safe: the owner locks.
/// </summary>
internal sealed class StateKeyFilter
{
    private const int InitialCapacity = 1 << 12;

    private long[] _slots = new long[InitialCapacity];
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
        var mask = _slots.Length - 1;
        for (var i = (int)fingerprint & mask; ; i = (i + 1) & mask)
        {
            var slot = _slots[i];
            if (slot == fingerprint)
            {
                return true;
            }

            if (slot == 0)
            {
                return false;
            }
        }
    }

    private static long Fingerprint(in Hash256 key)
    {
        var value = BinaryPrimitives.ReadInt64LittleEndian(key.Bytes);
        return value == 0 ? 1 : value; // 0 marks an empty slot
    }

    private static bool Insert(long[] slots, long fingerprint)
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
        var larger = new long[_slots.Length * 2];
        foreach (var slot in _slots)
        {
            if (slot != 0)
            {
                Insert(larger, slot);
            }
        }

        _slots = larger;
    }
}
