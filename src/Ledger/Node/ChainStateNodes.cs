using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
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
    // How many entries ahead a loop over a block's nodes asks the cache to load a set.
    private const int PrefetchDistance = 8;

    private readonly InMemoryStateNodeStore? _memory;
    private readonly IStateTreeStore? _store;
    private readonly StateNodeCache? _cache;
    private readonly Lock _pendingGate = new();
    private long _storeReads;

    // Copied on write (one writer), read without a lock: usually one batch, the block being built or validated.
    private volatile PendingStateBatch[] _pending = [];

    private readonly CryptoSuite _suite;

    private ChainStateNodes(InMemoryStateNodeStore? memory, IStateTreeStore? store, int cacheEntries, long cacheLeafValueBytes, CryptoSuite suite)
    {
        _memory = memory;
        _store = store;
        _cache = store is null ? null : new StateNodeCache(cacheEntries, cacheLeafValueBytes);
        _suite = suite;
    }

    public static ChainStateNodes InMemory(CryptoSuite suite) => new(new InMemoryStateNodeStore(), null, 0, 0, suite);

    /// <summary>
    /// Over a store; every node read back is re-hashed in the chain's <paramref name="suite"/>. The cache holds
    /// <paramref name="cacheEntries"/> (see <see cref="StateNodeCache"/>) and at most <paramref name="cacheLeafValueBytes"/>
    /// of leaf values.
    /// </summary>
    public static ChainStateNodes OverStore(IStateTreeStore store, int cacheEntries, CryptoSuite suite, long cacheLeafValueBytes = long.MaxValue) =>
        new(null, store, cacheEntries, cacheLeafValueBytes, suite);

    public bool TryGet(in Hash256 hash, [NotNullWhen(true)] out StateNode? node)
    {
        if (_memory is not null)
        {
            return _memory.TryGet(hash, out node) || TryGetPending(hash, out node);
        }

        return _cache!.TryGet(hash, out node) || TryGetPending(hash, out node) || TryReadStored(hash, out node);
    }

    public bool TryGetLeaf(in Hash256 hash, [NotNullWhen(true)] out StateLeafNode? leaf)
    {
        StateNode? node;
        if (_cache is null)
        {
            if (!TryGet(hash, out node))
            {
                leaf = null;
                return false;
            }
        }
        else if (_cache.TryGetLeaf(hash, out leaf))
        {
            return true; // not asked of the pages and the interior nodes first
        }
        else if (!TryGetPending(hash, out node) && !TryReadStored(hash, out node))
        {
            return false;
        }

        leaf = node as StateLeafNode;
        return leaf is not null;
    }

    public bool TryGetNode(in Hash256 hash, out Hash256 left, out Hash256 right, out StateLeafNode? leaf)
    {
        leaf = null;
        StateNode? node;
        if (_cache is null)
        {
            if (!TryGet(hash, out node))
            {
                (left, right) = (default, default);
                return false;
            }
        }
        else if (_cache.TryGetInterior(hash, out left, out right))
        {
            return true; // the walk's common case: no node object
        }
        else if (TryGetPendingEntry(hash, out var pending)) // before the leaves: a block built ahead walks through its parent's nodes
        {
            if (pending.Page is not null)
            {
                ThrowPageInBinaryWalk(hash);
            }

            (left, right, leaf) = (pending.Left, pending.Right, pending.Leaf);
            return true;
        }
        else if (_cache.TryGetLeaf(hash, out leaf))
        {
            return true; // not asked of the interior nodes a second time
        }
        else if (!TryReadStored(hash, out node))
        {
            return false;
        }

        if (node is StatePageNode)
        {
            ThrowPageInBinaryWalk(hash);
        }

        IStateNodeStore.Split(node, out left, out right, out leaf);
        return true;
    }

    // The binary walk (StateTree's Apply over Binary) cannot write a store that holds pages; the chain writes in pages.
    [DoesNotReturn]
    private static void ThrowPageInBinaryWalk(in Hash256 hash) =>
        throw new InvalidOperationException($"state node {hash} is a page: a tree stored in pages is written a page at a time (StateTreeLayout.Pages)");

    public bool TryReadPage(in Hash256 hash, CryptoSuite suite, Span<Hash256> slots, Span<Hash256> inner, out ushort leaves)
    {
        // The walk's common case: copied from the table, no page object; else the pending batches, then the store.
        return (_cache is not null && _cache.TryReadPage(hash, slots, inner, out leaves))
            || IStateNodeStore.CopyIfPage(TryGet(hash, out var node) ? node : null, suite, slots, inner, out leaves);
    }

    /// <summary>How many nodes the tree's walks read back from the store because the cache and the pending batches missed them.</summary>
    public long StoreReads => Interlocked.Read(ref _storeReads);

    /// <summary>A node read from the store (over a store, after the cache and the pending batches missed), re-hashed and cached.</summary>
    private bool TryReadStored(in Hash256 hash, [NotNullWhen(true)] out StateNode? node)
    {
        node = Decode(hash, _store!.GetStateNode(hash));
        if (node is null)
        {
            return false;
        }

        Interlocked.Increment(ref _storeReads);

        _cache!.Add(hash, node);
        return true;
    }

    /// <summary>Gives the cache a share of what it was made with (<see cref="StateNodeCache.SetShare"/>); nothing without a store.</summary>
    public void SetCacheShare(double share) => _cache?.SetShare(share);

    // The walk's hint for a second child, read much later: the set's metadata line only (see PrefetchMetadata).
    public void Prefetch(in Hash256 hash) => _cache?.PrefetchMetadata(hash);

    // Over a store, the tree's warm-up pass pays: the cache is a table of hundreds of MiB (StateTree.Batch.Warm).
    public bool WarmsAhead => _cache is not null;

    public void PrefetchNode(in Hash256 hash) => _cache?.PrefetchEntry(hash);

    /// <summary>The paged walk's first hint for a child: the metadata line of its set among the pages or the leaves.</summary>
    public void PrefetchChild(in Hash256 hash, bool leaf) => _cache?.PrefetchChild(hash, leaf);

    /// <summary>The paged walk's second hint for a child: the slot that holds it (a page's every line), if one does.</summary>
    public void PrefetchChildNode(in Hash256 hash, bool leaf) => _cache?.PrefetchChildNode(hash, leaf);

    private bool TryGetPending(in Hash256 hash, [NotNullWhen(true)] out StateNode? node)
    {
        if (TryGetPendingEntry(hash, out var entry))
        {
            node = entry.ToNode();
            return true;
        }

        node = null;
        return false;
    }

    private bool TryGetPendingEntry(in Hash256 hash, out NewStateNode entry)
    {
        foreach (var batch in _pending)
        {
            if (batch.TryGetValue(hash, out entry))
            {
                return true;
            }
        }

        entry = default;
        return false;
    }

    public void PutBatch(in Hash256 root, ReadOnlySpan<NewStateNode> nodes, ReadOnlySpan<Hash256> replaced)
    {
        if (nodes.IsEmpty && replaced.IsEmpty)
        {
            return;
        }

        var batch = new PendingStateBatch(root, nodes.ToArray(), replaced.ToArray());
        lock (_pendingGate)
        {
            _pending = [.. _pending.Where(b => b.Root != batch.Root), batch];
        }

        if (_cache is not null)
        {
            // Into the cache at once, not when the block commits: the next block is built on this one before it is
            // durable, and its walk reads these nodes by value from the table (warmed level by level) rather than as
            // objects from the pending batch. The cache is content-addressed, so a node of a candidate that never
            // commits is still the right node for its hash; it only takes a slot until pushed out. Every node stays in
            // its pending batch as well until the commit, so a node pushed out before then is still found.
            // Two steps ahead of each insert: the set's metadata line, then (from it) the one slot the insert writes.
            var built = batch.Nodes;
            for (var i = 0; i < built.Length; i++)
            {
                if (i + (2 * PrefetchDistance) < built.Length)
                {
                    _cache.PrefetchMetadata(built[i + (2 * PrefetchDistance)]);
                }

                if (i + PrefetchDistance < built.Length)
                {
                    _cache.PrefetchSlot(built[i + PrefetchDistance]);
                }

                _cache.Add(built[i]);
            }
        }
    }

    /// <summary>The nodes the tree wrote when it built <paramref name="root"/>, if it did so since the last commit.</summary>
    public PendingStateBatch? PendingBatch(in Hash256 root)
    {
        foreach (var batch in _pending)
        {
            if (batch.Root == root)
            {
                return batch;
            }
        }

        return null;
    }

    /// <summary>
    /// Makes a committed block's nodes part of the committed layer and forgets every other pending batch (candidates
    /// built on the old head can no longer commit) except the one of root <paramref name="keep"/>, when given: a block
    /// built on this one while it was being committed.
    /// </summary>
    public void Commit(PendingStateBatch? batch, in Hash256 keep = default)
    {
        if (batch is not null)
        {
            if (_memory is not null)
            {
                _memory.PutBatch(batch.Root, batch.Nodes, batch.Replaced);
            }
            else
            {
                // The nodes the block replaced leave the cache (its own nodes went in when it was built, PutBatch).
                // Each is asked for ahead of its turn, its set's metadata line and then the slot its tag names, so the
                // misses overlap instead of coming one after another. A node built ahead on this block that hashes the
                // same as one this block replaced (a value set back) loses its slot here: it is read from its pending
                // batch, then from the store.
                var replaced = batch.Replaced;
                for (var i = 0; i < replaced.Length; i++)
                {
                    if (i + (2 * PrefetchDistance) < replaced.Length)
                    {
                        _cache!.PrefetchRemoval(replaced[i + (2 * PrefetchDistance)]);
                    }

                    if (i + PrefetchDistance < replaced.Length)
                    {
                        _cache!.PrefetchRemovalSlot(replaced[i + PrefetchDistance]);
                    }

                    _cache!.Remove(replaced[i]);
                }
            }
        }

        lock (_pendingGate)
        {
            var kept = keep;
            _pending = kept.IsZero ? [] : [.. _pending.Where(b => b.Root == kept && b != batch)];
        }
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
            if (!_cache!.TryGet(hash, out var node) && !TryGetPending(hash, out node))
            {
                node = Decode(hash, await _store!.GetStateNodeAsync(hash, cancellationToken).ConfigureAwait(false));
                if (node is null)
                {
                    return; // the walk that follows reports it
                }

                _cache.Add(hash, node);
            }

            switch (node)
            {
                case StatePageNode page:
                    hash = page.Child(PagedStateTree.Nibble(key, depth));
                    depth += 3; // and one more by the loop: the page's four levels
                    break;
                case StateInternalNode inner:
                    hash = key.Bit(depth) == 0 ? inner.Left : inner.Right;
                    break;
                default:
                    return;
            }
        }
    }

    private StateNode? Decode(in Hash256 hash, byte[]? encoded)
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

        return node.ComputeHash(_suite) == hash ? node : throw new StoreCorruptedException($"state node {hash} in the store hashes to {node.ComputeHash(_suite)}: damaged");
    }
}

/// <summary>
/// The state-tree nodes one applied batch created (children before parents) for the version <see cref="Root"/>, and the nodes of the
/// version it started from that it replaced (the block's stale list), held until the block commits or is dropped.
/// </summary>
internal sealed class PendingStateBatch
{
    // An open-addressing index over Nodes: slot → position + 1 (0: empty), probed linearly from the hash's low bits.
    // A block makes tens of thousands of nodes; a Dictionary took ~56 bytes a node (a large-object array per block, so
    // gen2 collections) and its inserts showed in the writer's profile; this takes 8 bytes a node and no hashing.
    private readonly int[] _slots;
    private readonly int _mask;

    public PendingStateBatch(Hash256 root, NewStateNode[] nodes, Hash256[] replaced)
    {
        Nodes = nodes;
        Replaced = replaced;
        Root = root;
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(4, nodes.Length * 2));
        _slots = new int[size];
        _mask = size - 1;
        for (var i = 0; i < nodes.Length; i++)
        {
            var slot = SlotOf(nodes[i].Hash);
            while (_slots[slot] != 0)
            {
                if (nodes[_slots[slot] - 1].Hash == nodes[i].Hash)
                {
                    break; // the same hash is the same node: keep the first
                }

                slot = (slot + 1) & _mask;
            }

            if (_slots[slot] == 0)
            {
                _slots[slot] = i + 1;
            }
        }
    }

    public Hash256 Root { get; }

    public NewStateNode[] Nodes { get; }

    public Hash256[] Replaced { get; }

    /// <summary>The node of <paramref name="hash"/> among this batch's. Safe for many readers: the index never changes once built.</summary>
    public bool TryGetValue(in Hash256 hash, out NewStateNode node)
    {
        for (var slot = SlotOf(hash); _slots[slot] != 0; slot = (slot + 1) & _mask)
        {
            ref readonly var entry = ref Nodes[_slots[slot] - 1];
            if (entry.Hash == hash)
            {
                node = entry;
                return true;
            }
        }

        node = default;
        return false;
    }

    // Node hashes are uniform: their first bytes index the table.
    private int SlotOf(in Hash256 hash) => (int)(BinaryPrimitives.ReadUInt32LittleEndian(hash.Bytes) & (uint)_mask);
}
