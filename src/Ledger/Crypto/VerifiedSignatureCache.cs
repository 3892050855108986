using System.Numerics;
using System.Runtime.InteropServices;
using SmartCity.Ledger.Memory;

namespace SmartCity.Ledger.Crypto;

/// <summary>
/// A bounded, thread-safe memory of signatures already recovered: (digest, signature) → signer. A transaction
/// checked when it arrives by gossip is then not checked again when it comes back inside a block. Only valid
/// signatures are remembered, so a hit is as good as a recovery. Four-way set-associative: a per-process randomised
/// hash picks a set of four slots, and a full set evicts its slots in turn. Memory is fixed at start (about 128 bytes
/// a slot); a lookup takes one striped lock, reads at most four slots and allocates nothing.
/// </summary>
public sealed class VerifiedSignatureCache
{
    private const int Stripes = 64;
    private const int Ways = 4;

    private readonly LargeTable<Entry> _entries; // outside the GC heap, on huge pages where the kernel gives them
    private readonly byte[] _nextVictim;
    private readonly Lock[] _locks;
    private readonly int _setMask;
    private long _hits;
    private long _misses;

    /// <param name="capacity">Slots, rounded up to a power of two (at least four); 65,536 by default (8 MB).</param>
    public VerifiedSignatureCache(int capacity = 1 << 16)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1 << 26);
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, Ways));
        _entries = new LargeTable<Entry>(size);
        _nextVictim = new byte[size / Ways];
        _setMask = (size / Ways) - 1;
        _locks = new Lock[Stripes];
        for (var i = 0; i < _locks.Length; i++)
        {
            _locks[i] = new Lock();
        }
    }

    public int Capacity => _entries.Length;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public bool TryGet(in Hash256 digest, in Signature signature, out Address signer)
    {
        var set = SetOf(digest, signature);
        lock (_locks[set & (Stripes - 1)])
        {
            foreach (ref readonly var entry in _entries.Slice(set * Ways, Ways))
            {
                if (entry.Occupied && entry.Digest == digest && entry.Signature == signature)
                {
                    signer = entry.Signer;
                    Interlocked.Increment(ref _hits);
                    return true;
                }
            }
        }

        signer = default;
        Interlocked.Increment(ref _misses);
        return false;
    }

    /// <summary>Remembers a signature that recovered to <paramref name="signer"/>.</summary>
    public void Add(in Hash256 digest, in Signature signature, in Address signer)
    {
        var set = SetOf(digest, signature);
        lock (_locks[set & (Stripes - 1)])
        {
            var ways = _entries.Slice(set * Ways, Ways);
            var slot = -1;
            for (var i = 0; i < Ways && slot < 0; i++)
            {
                if (!ways[i].Occupied || (ways[i].Digest == digest && ways[i].Signature == signature))
                {
                    slot = i;
                }
            }

            if (slot < 0)
            {
                slot = _nextVictim[set];
                _nextVictim[set] = (byte)((slot + 1) % Ways);
            }

            ways[slot] = new Entry(digest, signature, signer);
        }

        GC.KeepAlive(this); // the table's memory is released by its finalizer: keep it reachable until written
    }

    public void Clear()
    {
        foreach (var stripe in _locks)
        {
            stripe.Enter();
        }

        _entries.Slice(0, _entries.Length).Clear();
        Array.Clear(_nextVictim); // also keeps the cache, and so its table, reachable until the table is cleared
        for (var i = _locks.Length - 1; i >= 0; i--)
        {
            _locks[i].Exit();
        }
    }

    /// <summary>HashCode is seeded per process, so nobody can grind digests that all land in one slot.</summary>
    private int SetOf(in Hash256 digest, in Signature signature) => HashCode.Combine(digest, signature) & _setMask;

    [StructLayout(LayoutKind.Auto)]
    private readonly struct Entry(Hash256 digest, Signature signature, Address signer)
    {
        public readonly Hash256 Digest = digest;
        public readonly Signature Signature = signature;
        public readonly Address Signer = signer;
        public readonly bool Occupied = true;
    }
}
