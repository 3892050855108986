using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using BitFaster.Caching.Lru;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>
/// The chain's state-tree node store. Nodes the tree writes while a block is assembled stay <em>pending</em>, grouped
/// by the root they built, until that block commits: then they go to the store with the block, atomically, and into
/// the committed layer; a candidate that never commits leaves nothing behind. The committed layer is either all in
/// memory (a chain without a store) or a bounded cache over the store (a chain opened from one), read through on a
/// miss, every node read from the store re-hashed against the hash it was asked for.
/// </summary>
internal sealed class ChainStateNodes : IStateNodeStore
{
    private readonly InMemoryStateNodeStore? _memory;
    private readonly IStateTreeStore? _store;
    private readonly ConcurrentLru<Hash256, StateNode>? _cache;
    private readonly ConcurrentDictionary<Hash256, StateNode> _pending = new();
    private readonly ConcurrentDictionary<Hash256, KeyValuePair<Hash256, StateNode>[]> _batches = new();

    private ChainStateNodes(InMemoryStateNodeStore? memory, IStateTreeStore? store, int cacheEntries)
    {
        _memory = memory;
        _store = store;
        _cache = store is null ? null : new ConcurrentLru<Hash256, StateNode>(cacheEntries);
    }

    public static ChainStateNodes InMemory() => new(new InMemoryStateNodeStore(), null, 0);

    public static ChainStateNodes OverStore(IStateTreeStore store, int cacheEntries) => new(null, store, cacheEntries);

    public bool TryGet(in Hash256 hash, [NotNullWhen(true)] out StateNode? node)
    {
        if (_pending.TryGetValue(hash, out node))
        {
            return true;
        }

        if (_memory is not null)
        {
            return _memory.TryGet(hash, out node);
        }

        if (_cache!.TryGet(hash, out node))
        {
            return true;
        }

        node = Decode(hash, _store!.GetStateNode(hash));
        if (node is null)
        {
            return false;
        }

        _cache.AddOrUpdate(hash, node);
        return true;
    }

    public void PutBatch(IReadOnlyList<KeyValuePair<Hash256, StateNode>> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Count == 0)
        {
            return;
        }

        var copy = new KeyValuePair<Hash256, StateNode>[nodes.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = nodes[i];
            _pending[nodes[i].Key] = nodes[i].Value;
        }

        _batches[copy[^1].Key] = copy; // the tree writes the new root last
    }

    /// <summary>The nodes the tree wrote when it built <paramref name="root"/>, if it did so since the last commit.</summary>
    public KeyValuePair<Hash256, StateNode>[]? PendingBatch(in Hash256 root) => _batches.GetValueOrDefault(root);

    /// <summary>
    /// Makes a committed block's nodes part of the committed layer and forgets every other pending batch: candidates
    /// built on the old head can no longer commit.
    /// </summary>
    public void Commit(KeyValuePair<Hash256, StateNode>[]? batch)
    {
        if (batch is not null)
        {
            if (_memory is not null)
            {
                _memory.PutBatch(batch);
            }
            else
            {
                foreach (var (hash, node) in batch)
                {
                    _cache!.AddOrUpdate(hash, node);
                }
            }
        }

        _batches.Clear();
        _pending.Clear();
    }

    /// <summary>
    /// Reads the nodes on <paramref name="key"/>'s path in version <paramref name="root"/> into the cache with
    /// asynchronous store reads, so the synchronous walk that follows (a read or a proof) does not block on the store.
    /// </summary>
    public async ValueTask PrefetchPathAsync(Hash256 root, Hash256 key, CancellationToken cancellationToken)
    {
        if (_memory is not null)
        {
            return;
        }

        var hash = root;
        for (var depth = 0; !hash.IsZero; depth++)
        {
            if (!_pending.TryGetValue(hash, out var node) && !_cache!.TryGet(hash, out node))
            {
                node = Decode(hash, await _store!.GetStateNodeAsync(hash, cancellationToken).ConfigureAwait(false));
                if (node is null)
                {
                    return; // the walk that follows reports it
                }

                _cache.AddOrUpdate(hash, node);
            }

            if (node is not StateInternalNode inner)
            {
                return;
            }

            hash = key.Bit(depth) == 0 ? inner.Left : inner.Right;
        }
    }

    private static StateNode? Decode(in Hash256 hash, byte[]? encoded)
    {
        if (encoded is null)
        {
            return null;
        }

        StateNode node;
        try
        {
            node = StateNode.Decode(encoded);
        }
        catch (FormatException ex)
        {
            throw new StoreCorruptedException($"state node {hash} in the store does not decode: {ex.Message}", ex);
        }

        return node.ComputeHash() == hash ? node : throw new StoreCorruptedException($"state node {hash} in the store hashes to {node.ComputeHash()}: damaged");
    }
}
