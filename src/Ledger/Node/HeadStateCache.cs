using System.Runtime.InteropServices;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node;

/// <summary>
/// Values of the state at the head, read through to the state tree and kept up to date by each committed block's
/// writes, so that building and validating the next block reads a hot key (a member, its nonce, the chain
/// parameters) in one lookup instead of a walk of the tree. It answers only for the head's root: a reader asked at
/// any other version goes to the tree. Bounded: when full it starts again empty.
/// </summary>
/// <remarks>
/// Beside the values it keeps a <see cref="StateKeyFilter"/> of every key written since the head it started from.
/// Once it holds every key of that head too (the genesis state, or the keys a reopened store enumerated), a key the
/// filter never saw is absent at the head and is answered without walking the tree: most keys a block reads for the
/// first time (a new record, a subject's first index entry) are new.
/// </remarks>
internal sealed class HeadStateCache(StateTree tree, int capacity, long maxBytes = long.MaxValue)
{
    private readonly Lock _gate = new();
    // Grows as values arrive (a small chain never holds the bound's worth); Clear keeps the room it grew to, a smaller
    // bound (SetMaxBytes) gives it back.
    private readonly Dictionary<Hash256, byte[]?> _values = [];

    // The values' bytes as LedgerChainOptions.HeadStateCacheBytes counts them (length plus a fixed cost an entry).
    private long _bytes;
    private long _maxBytes = maxBytes;
    private readonly StateKeyFilter _keys = new();
    private Hash256 _root;
    private bool _keysComplete;

    // Bumped whenever the filter stops covering the head (a head move this cache did not see): a fill started
    // before it cannot complete the filter.
    private int _generation;

    /// <summary>Starts at a head whose every key is in <paramref name="keys"/> (the genesis state): the filter is complete.</summary>
    public void Start(in Hash256 root, IEnumerable<Hash256> keys)
    {
        lock (_gate)
        {
            ClearValues();
            foreach (var key in keys)
            {
                _keys.Add(key);
            }

            _root = root;
            _keysComplete = true;
        }
    }

    /// <summary>Starts at a head whose keys are not known yet (a reopened store); returns the token for <see cref="CompleteKeys"/>.</summary>
    public int StartUnknown(in Hash256 root)
    {
        lock (_gate)
        {
            ClearValues();
            _root = root;
            _keysComplete = false;
            return ++_generation;
        }
    }

    /// <summary>Adds keys of the head this cache started from (<see cref="StartUnknown"/>), in batches.</summary>
    public void AddKeys(ReadOnlySpan<Hash256> keys)
    {
        lock (_gate)
        {
            foreach (var key in keys)
            {
                _keys.Add(key);
            }
        }
    }

    /// <summary>Every key of the start head has been added (<see cref="AddKeys"/>): absent keys may be answered from the filter.</summary>
    public void CompleteKeys(int generation)
    {
        lock (_gate)
        {
            _keysComplete = generation == _generation;
        }
    }

    /// <summary>Whether a key the filter never saw is answered as absent without the tree (tests).</summary>
    public bool KeysComplete
    {
        get
        {
            lock (_gate)
            {
                return _keysComplete;
            }
        }
    }

    /// <summary>A reader of version <paramref name="root"/>: through this cache when it is the head's.</summary>
    public IStateReader ReaderAt(in Hash256 root)
    {
        lock (_gate)
        {
            return root == _root ? new Reader(this, root) : new StateTreeReader(tree, root);
        }
    }

    /// <summary>The head moved from <paramref name="parentRoot"/> to <paramref name="newRoot"/> by <paramref name="writes"/>.</summary>
    public void Advance(in Hash256 parentRoot, in Hash256 newRoot, IReadOnlyList<StateWrite> writes)
    {
        lock (_gate)
        {
            if (_root != parentRoot)
            {
                _keysComplete = false;
                _generation++;
            }

            var keepValues = _root == parentRoot && _values.Count + writes.Count <= capacity && _bytes <= _maxBytes;
            if (!keepValues)
            {
                ClearValues();
            }

            foreach (var write in writes)
            {
                if (write.Value is not null)
                {
                    _keys.Add(write.Key);
                }

                if (keepValues)
                {
                    Put(write.Key, write.Value); // in order: the last write to a key wins, as in the tree
                }
            }

            _root = newRoot;
        }
    }

    private byte[]? Get(in Hash256 root, in Hash256 key)
    {
        lock (_gate)
        {
            if (root == _root)
            {
                if (_values.TryGetValue(key, out var cached))
                {
                    return cached;
                }

                if (_keysComplete && !_keys.MayContain(key))
                {
                    return null; // never written since a head whose every key the filter holds: absent
                }
            }
        }

        var value = tree.Get(root, key);
        lock (_gate)
        {
            if (root == _root)
            {
                if (_values.Count >= capacity || _bytes > _maxBytes)
                {
                    ClearValues();
                }

                Put(key, value);
            }
        }

        return value;
    }

    /// <summary>
    /// Bounds the values' bytes at <paramref name="maxBytes"/> from now on (the node's share of its caches under its memory
    /// budget, <see cref="MemoryGovernor"/>). Held past it, every value goes at once, to be read again from the tree;
    /// the key filter stays, so absent keys are still answered.
    /// </summary>
    public void SetMaxBytes(long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        lock (_gate)
        {
            var smaller = maxBytes < _maxBytes;
            _maxBytes = maxBytes;
            if (_bytes > maxBytes)
            {
                ClearValues();
                if (smaller)
                {
                    _values.TrimExcess(); // the room it grew to as well (~25 MB at the default entries); it grows again as values arrive
                }
            }
        }
    }

    /// <summary>The bytes the cached values count for now (tests).</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    // Under the gate.
    private void Put(in Hash256 key, byte[]? value)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_values, key, out var existed);
        _bytes += existed ? (value?.Length ?? 0) - (slot?.Length ?? 0) : (value?.Length ?? 0) + LedgerChainOptions.HeadStateCacheEntryOverhead;
        slot = value;
    }

    // Under the gate.
    private void ClearValues()
    {
        _values.Clear();
        _bytes = 0;
    }

    /// <summary>The chain's crypto suite (the tree's).</summary>
    public CryptoSuite Suite => tree.Suite;

    private sealed class Reader(HeadStateCache cache, Hash256 root) : IStateReader
    {
        public CryptoSuite Suite => cache.Suite;

        public byte[]? Get(Hash256 key) => cache.Get(root, key);
    }
}
