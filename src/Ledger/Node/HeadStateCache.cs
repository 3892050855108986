using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node;

/// <summary>
/// Values of the state at the head, read through to the state tree and kept up to date by each committed block's
/// writes, so that building and validating the next block reads a hot key (a member, its nonce, the chain
/// parameters) in one lookup instead of a walk of the tree. It answers only for the head's root: a reader asked at
/// any other version goes to the tree. Bounded: when full it starts again empty.
/// </summary>
internal sealed class HeadStateCache(StateTree tree, int capacity)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Hash256, byte[]?> _values = new(capacity);
    private Hash256 _root;

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
            if (_root != parentRoot || _values.Count + writes.Count > capacity)
            {
                _values.Clear();
            }
            else
            {
                foreach (var write in writes)
                {
                    _values[write.Key] = write.Value; // in order: the last write to a key wins, as in the tree
                }
            }

            _root = newRoot;
        }
    }

    private byte[]? Get(in Hash256 root, in Hash256 key)
    {
        lock (_gate)
        {
            if (root == _root && _values.TryGetValue(key, out var cached))
            {
                return cached;
            }
        }

        var value = tree.Get(root, key);
        lock (_gate)
        {
            if (root == _root)
            {
                if (_values.Count >= capacity)
                {
                    _values.Clear();
                }

                _values[key] = value;
            }
        }

        return value;
    }

    /// <summary>The chain's crypto suite (the tree's).</summary>
    public CryptoSuite Suite => tree.Suite;

    private sealed class Reader(HeadStateCache cache, Hash256 root) : IStateReader
    {
        public CryptoSuite Suite => cache.Suite;

        public byte[]? Get(Hash256 key) => cache.Get(root, key);
    }
}
