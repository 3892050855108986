using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>
/// The state commitment: a sparse Merkle tree over 256-bit keys (the chain suite's hash of the state key: Keccak-256
/// for eth, SM3 for gm; <see cref="StateHashing"/> for the node hashes), compressed as in
/// Diem's Jellyfish Merkle tree. Over a set S of keys at depth d the subtree hash is
/// <list type="bullet">
/// <item>S empty: <see cref="StateHashing.Empty"/> (32 zero bytes);</item>
/// <item>S = {k}: the leaf hash H(0x00 ‖ k ‖ H(value)), whatever the depth;</item>
/// <item>otherwise: H(0x01 ‖ left ‖ right) over the keys whose bit d (most significant first) is 0, and 1.</item>
/// </list>
/// So a path is as long as the key's longest common prefix with another key, about log₂ n, not 256.
/// </summary>
/// <remarks>
/// Versions are root hashes: <see cref="Apply"/> never changes a stored node, it returns the root of a new version
/// that shares every untouched subtree with the old one, so readers at older roots are never disturbed.
/// </remarks>
public sealed class StateTree
{
    // Below this many writes the other cores cost more to wake than they save.
    private const int ParallelThreshold = 512;

    // A large batch is cut into 2^PartDepth subtrees (the old tree's nodes at this depth): small enough pieces that the
    // writer, which hashes any piece no other core has claimed, is never left long waiting for one that another has.
    private const int PartDepth = 3;
    private const int Parts = 1 << PartDepth;

    private readonly IStateNodeStore _store;

    // Reads (Get, Prove) of every layout, a store's mix of binary nodes and pages included, and Apply in pages.
    private readonly PagedStateTree _pages;

    // Reused by every Apply (there is one writer): a block's new nodes, and those of each part hashed in parallel.
    private readonly Batch _batch;
    private readonly Batch[] _partBatches;

    public StateTree(IStateNodeStore store, CryptoSuite suite, StateTreeLayout layout = StateTreeLayout.Binary)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(suite);
        _store = store;
        Suite = suite;
        Layout = layout;
        _pages = new PagedStateTree(store, suite);
        _batch = new Batch(store, suite);
        _partBatches = new Batch[Parts];
        for (var i = 0; i < Parts; i++)
        {
            _partBatches[i] = new Batch(store, suite);
        }
    }

    /// <summary>The chain's crypto suite: the hash of every node and of every state key.</summary>
    public CryptoSuite Suite { get; }

    /// <summary>The nodes <see cref="Apply"/> writes: binary interior nodes, or pages of four levels. Reads take either.</summary>
    public StateTreeLayout Layout { get; }

    /// <summary>The root of the empty state.</summary>
    public static Hash256 EmptyRoot => StateHashing.Empty;

    /// <summary>
    /// Applies a block's writes as one batch on top of the version <paramref name="root"/> and returns the new root.
    /// Keys are sorted and the tree is walked once, so each touched interior node is hashed once per batch. When a key
    /// appears more than once, its last write wins. Value arrays are kept, not copied: do not change them afterwards.
    /// One writer at a time: Apply calls must not overlap (Get and Prove may run alongside).
    /// </summary>
    public Hash256 Apply(in Hash256 root, ReadOnlySpan<StateWrite> writes)
    {
        if (writes.IsEmpty)
        {
            return root;
        }

        if (Layout == StateTreeLayout.Pages)
        {
            return _pages.Apply(root, writes);
        }

        var buffer = ArrayPool<OrderedWrite>.Shared.Rent(writes.Length);
        try
        {
            var count = SortLastWriteWins(writes, buffer);
            var newRoot = count >= ParallelThreshold && Environment.ProcessorCount > 1 && TryPartition(root, buffer.AsSpan(0, count), out var parts)
                ? UpdateInParallel(parts, buffer)
                : _batch.Resolve(_batch.WarmThenUpdate(root, 0, buffer.AsSpan(0, count)));

            _store.PutBatch(newRoot.Hash, CollectionsMarshal.AsSpan(_batch.NewNodes), CollectionsMarshal.AsSpan(_batch.Replaced));
            return newRoot.Hash;
        }
        finally
        {
            _batch.Reset();
            foreach (var part in _partBatches)
            {
                part.Reset();
            }

            ArrayPool<OrderedWrite>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>The value of <paramref name="key"/> in the version <paramref name="root"/>, or null when absent.</summary>
    public byte[]? Get(in Hash256 root, in Hash256 key) => _pages.Get(root, key);

    /// <summary>
    /// A proof of the value of <paramref name="key"/> in the version <paramref name="root"/>, or of its absence: the
    /// siblings along its path down to the leaf or empty subtree where the path ends (read from binary nodes or pages
    /// alike: the same proof).
    /// </summary>
    public StateProof Prove(in Hash256 root, in Hash256 key) => _pages.Prove(root, key);

    /// <summary>
    /// The old tree's nodes at <see cref="PartDepth"/> and the range of the sorted writes under each, with the nodes
    /// above them (level by level, in key order): false when a node above that depth is not an interior node (a
    /// small or lopsided tree), which is then updated in one piece.
    /// </summary>
    private bool TryPartition(in Hash256 root, ReadOnlySpan<OrderedWrite> writes, out Partition partition)
    {
        partition = new Partition();
        partition.Hashes[0][0] = root;
        partition.Starts[0][0] = 0;
        partition.Counts[0][0] = writes.Length;
        for (var depth = 0; depth < PartDepth; depth++)
        {
            for (var i = 0; i < 1 << depth; i++)
            {
                var hash = partition.Hashes[depth][i];
                if (hash.IsZero || LoadNode(_store, hash, out var left, out var right) is not null)
                {
                    return false;
                }

                var start = partition.Starts[depth][i];
                var range = writes.Slice(start, partition.Counts[depth][i]);
                var split = Batch.SplitPoint(range, depth);
                (partition.Hashes[depth + 1][2 * i], partition.Hashes[depth + 1][(2 * i) + 1]) = (left, right);
                (partition.Starts[depth + 1][2 * i], partition.Starts[depth + 1][(2 * i) + 1]) = (start, start + split);
                (partition.Counts[depth + 1][2 * i], partition.Counts[depth + 1][(2 * i) + 1]) = (split, range.Length - split);
            }
        }

        return true;
    }

    /// <summary>
    /// Updates the parts of <paramref name="partition"/> on every core, then combines them upwards as
    /// <see cref="Batch.Update"/> would have. The parts are claimed one at a time, by thread-pool threads and by this
    /// one: the writer never waits for a part no other thread has started, only for parts already being hashed.
    /// </summary>
    private Subtree UpdateInParallel(Partition partition, OrderedWrite[] writes)
    {
        var work = new PartWork(this, partition, writes);
        for (var helpers = Math.Min(Environment.ProcessorCount, Parts) - 1; helpers > 0; helpers--)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static w => w.Run(), work, preferLocal: false);
        }

        work.Run();
        work.WaitForAll();

        var results = work.Results;
        for (var depth = PartDepth - 1; depth >= 0; depth--)
        {
            for (var i = 0; i < 1 << depth; i++)
            {
                var old = partition.Hashes[depth][i];
                results[i] = partition.Counts[depth][i] == 0
                    ? new Subtree(old, SubtreeKind.Unchanged) // untouched: kept as it is, as Update would
                    : _batch.Combine(results[2 * i], results[(2 * i) + 1]);
                _batch.ReplacedUnlessSame(old, results[i]);
            }
        }

        var root = _batch.Resolve(results[0]);
        foreach (var part in _partBatches)
        {
            _batch.NewNodes.AddRange(part.NewNodes);
            _batch.Replaced.AddRange(part.Replaced);
        }

        return root;
    }

    /// <summary>The old tree's nodes in the top <see cref="PartDepth"/> levels, and which sorted writes fall under each.</summary>
    private sealed class Partition
    {
        public Hash256[][] Hashes { get; } = Levels<Hash256>();

        public int[][] Starts { get; } = Levels<int>();

        public int[][] Counts { get; } = Levels<int>();

        private static T[][] Levels<T>()
        {
            var levels = new T[PartDepth + 1][];
            for (var depth = 0; depth <= PartDepth; depth++)
            {
                levels[depth] = new T[1 << depth];
            }

            return levels;
        }
    }

    /// <summary>One parallel update: the parts handed out in order, each to the first thread that asks.</summary>
    private sealed class PartWork(StateTree tree, Partition partition, OrderedWrite[] writes)
    {
        private readonly object _gate = new();
        private int _next = -1;
        private int _done;
        private Exception? _failure;

        public Subtree[] Results { get; } = new Subtree[Parts];

        public void Run()
        {
            for (var part = Interlocked.Increment(ref _next); part < Parts; part = Interlocked.Increment(ref _next))
            {
                try
                {
                    var start = partition.Starts[PartDepth][part];
                    var batch = tree._partBatches[part];
                    Results[part] = batch.Resolve(batch.WarmThenUpdate(partition.Hashes[PartDepth][part], PartDepth, writes.AsSpan(start, partition.Counts[PartDepth][part])));
                }
#pragma warning disable CA1031 // any failure (a store that cannot be read) is handed to the writer, which rethrows it
                catch (Exception e)
#pragma warning restore CA1031
                {
                    Interlocked.CompareExchange(ref _failure, e, null);
                }

                if (Interlocked.Increment(ref _done) == Parts)
                {
                    lock (_gate)
                    {
                        Monitor.PulseAll(_gate);
                    }
                }
            }
        }

        /// <summary>Waits for the parts other threads are still hashing; rethrows the first failure.</summary>
        public void WaitForAll()
        {
            if (Volatile.Read(ref _done) < Parts)
            {
                lock (_gate)
                {
                    while (Volatile.Read(ref _done) < Parts)
                    {
                        Monitor.Wait(_gate);
                    }
                }
            }

            if (_failure is { } failure)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
        }
    }

    /// <summary>Sorts by key, keeping only the last write to each key; returns how many remain.</summary>
    private static int SortLastWriteWins(ReadOnlySpan<StateWrite> writes, OrderedWrite[] buffer)
    {
        for (var i = 0; i < writes.Length; i++)
        {
            buffer[i] = new OrderedWrite(writes[i].Key, writes[i].Value, i);
        }

        var span = buffer.AsSpan(0, writes.Length);
        if (!StrictlyAscending(span))
        {
            span.Sort(default(KeyThenOrder));
        }

        var count = 0;
        for (var i = 0; i < span.Length; i++)
        {
            if (i + 1 < span.Length && span[i + 1].Key == span[i].Key)
            {
                continue;
            }

            span[count++] = span[i];
        }

        return count;
    }

    /// <summary>Whether the keys already ascend with no repeats (a block's writes come sorted): then sorting changes nothing.</summary>
    private static bool StrictlyAscending(ReadOnlySpan<OrderedWrite> writes)
    {
        for (var i = 1; i < writes.Length; i++)
        {
            if (writes[i - 1].Key.CompareTo(writes[i].Key) >= 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The leaf of <paramref name="hash"/>, or null with the interior node's children.</summary>
    private static StateLeafNode? LoadNode(IStateNodeStore store, in Hash256 hash, out Hash256 left, out Hash256 right)
    {
        if (!store.TryGetNode(hash, out left, out right, out var leaf))
        {
            ThrowMissingNode(hash);
        }

        return leaf;
    }

    [DoesNotReturn]
    private static void ThrowMissingNode(in Hash256 hash) => throw new KeyNotFoundException($"state node {hash} is not in the store");

    private readonly record struct OrderedWrite(Hash256 Key, byte[]? Value, int Order);

    private readonly struct KeyThenOrder : IComparer<OrderedWrite>
    {
        public int Compare(OrderedWrite x, OrderedWrite y)
        {
            var byKey = x.Key.CompareTo(y.Key);
            return byKey != 0 ? byKey : x.Order.CompareTo(y.Order);
        }
    }

    private enum SubtreeKind
    {
        Empty,
        Leaf,
        Internal,

        /// <summary>Untouched by the batch: a stored node of either kind.</summary>
        Unchanged,
    }

    /// <summary>
    /// A subtree after the batch: its hash, and what it is where the collapsing rule needs to know. A node the batch
    /// made has no hash until <see cref="Batch.Resolve"/>: <see cref="Pending"/> is then 1 + its index in the batch.
    /// </summary>
    private readonly record struct Subtree(Hash256 Hash, SubtreeKind Kind, int Pending = 0)
    {
        public static Subtree Empty => default;

        public bool IsEmpty => Kind == SubtreeKind.Empty;

        public bool IsPending => Pending != 0;
    }

    /// <summary>
    /// One walk of the tree for a sorted batch, then the hashes of the nodes it made. The walk only shapes the new
    /// nodes; <see cref="Resolve"/> hashes them level by level from the leaves up, every node of a level in one
    /// <see cref="CryptoSuite.HashMany"/> call (the nodes of a level are independent, so the suite may hash several side
    /// by side: eight at a time with AVX-512 Keccak).
    /// </summary>
    private sealed class Batch(IStateNodeStore store, CryptoSuite suite)
    {
        // Enough for a block of ~8,000 writes without growing; a bulk load's larger list is let go afterwards.
        private const int RetainedCapacity = 1 << 17;

        // The widest warm-up level kept between batches (a block's is a few thousand nodes at most).
        private const int RetainedFrontier = 1 << 14;

        // An interior or leaf node's preimage: a prefix byte and two 32-byte hashes.
        private const int NodePreimage = 1 + (2 * Hash256.Size);

        private PendingNode[] _nodes = new PendingNode[256];
        private int _count;
        private int _maxHeight;
        private ReplacedNode[] _replaced = new ReplacedNode[256];
        private int _replacedCount;

        // Scratch for the hashing: preimages (or leaf values) side by side, where each starts, how long, their hashes.
        private byte[] _preimages = new byte[256 * NodePreimage];
        private int[] _starts = new int[256];
        private int[] _lengths = new int[256];
        private Hash256[] _hashes = new Hash256[256];
        private int[] _byHeight = new int[256];
        private int[] _heightStarts = new int[64];

        // The warm-up's frontier, this level's and the next (reused).
        private WarmNode[] _frontier = new WarmNode[64];
        private WarmNode[] _nextFrontier = new WarmNode[64];

        public List<NewStateNode> NewNodes { get; } = [];

        /// <summary>
        /// The stored nodes on the batch's paths that the new version no longer holds (what pruning may delete once
        /// the old version leaves retention): an interior node whose subtree changed, a leaf deleted or given another
        /// value. A node's hash fixes the keys under it and so its place in the tree, so a replaced node cannot
        /// reappear elsewhere in the new version; a leaf pushed deeper or pulled up keeps its hash and stays.
        /// </summary>
        public List<Hash256> Replaced { get; } = [];

        public void Reset()
        {
            ForgetPending();
            NewNodes.Clear();
            Replaced.Clear();
            if (_frontier.Length > RetainedFrontier || _nextFrontier.Length > RetainedFrontier)
            {
                (_frontier, _nextFrontier) = (new WarmNode[64], new WarmNode[64]); // a bulk load's wide levels are let go
            }

            if (NewNodes.Capacity > RetainedCapacity)
            {
                NewNodes.Capacity = RetainedCapacity;
                Replaced.Capacity = Math.Min(Replaced.Capacity, RetainedCapacity);
            }
        }

        /// <summary><see cref="Update"/>, after <see cref="Warm"/> when the store gains by it.</summary>
        public Subtree WarmThenUpdate(in Hash256 hash, int depth, ReadOnlySpan<OrderedWrite> writes)
        {
            if (store.WarmsAhead)
            {
                Warm(hash, depth, writes);
            }

            return Update(hash, depth, writes);
        }

        /// <summary>
        /// Reads the stored nodes <see cref="Update"/> will visit, a level at a time, so that the walk finds them in the
        /// CPU's cache. The walk goes depth first: each node it reads names the next, so on a node store far larger than
        /// the CPU's caches it waited for one memory miss (or two: an index line, then the entry) per node, one after
        /// another. Here each level's nodes are hinted to the store all together, then their entries, then read: the
        /// misses of a level overlap. Nothing is decided here; a node the store lacks is left for the walk to report.
        /// </summary>
        private void Warm(in Hash256 hash, int depth, ReadOnlySpan<OrderedWrite> writes)
        {
            if (hash.IsZero || writes.IsEmpty)
            {
                return;
            }

            var level = 1;
            _frontier[0] = new WarmNode(hash, 0, writes.Length);
            for (; level > 0 && depth < Hash256.Size * 8; depth++)
            {
                var frontier = _frontier.AsSpan(0, level);
                foreach (ref readonly var node in frontier)
                {
                    store.Prefetch(node.Hash);
                }

                foreach (ref readonly var node in frontier)
                {
                    store.PrefetchNode(node.Hash);
                }

                var next = 0;
                foreach (ref readonly var node in frontier)
                {
                    if (!store.TryGetNode(node.Hash, out var left, out var right, out var leaf) || leaf is not null)
                    {
                        continue; // a leaf ends its path; a missing node is the walk's to report
                    }

                    var under = writes.Slice(node.Start, node.Count);
                    var split = SplitPoint(under, depth);
                    if (next + 2 > _nextFrontier.Length)
                    {
                        Array.Resize(ref _nextFrontier, _nextFrontier.Length * 2);
                    }

                    if (split > 0 && !left.IsZero)
                    {
                        _nextFrontier[next++] = new WarmNode(left, node.Start, split);
                    }

                    if (split < under.Length && !right.IsZero)
                    {
                        _nextFrontier[next++] = new WarmNode(right, node.Start + split, under.Length - split);
                    }
                }

                (_frontier, _nextFrontier) = (_nextFrontier, _frontier);
                level = next;
            }
        }

        public Subtree Update(in Hash256 hash, int depth, ReadOnlySpan<OrderedWrite> writes)
        {
            if (writes.IsEmpty)
            {
                return new Subtree(hash, hash.IsZero ? SubtreeKind.Empty : SubtreeKind.Unchanged);
            }

            if (hash.IsZero)
            {
                return Build(depth, writes, existing: null, existingHash: default);
            }

            if (LoadNode(store, hash, out var leftChild, out var rightChild) is { } leaf)
            {
                var at = IndexOf(writes, leaf.Key);
                if (at < 0)
                {
                    return Build(depth, writes, leaf, hash);
                }

                if (writes[at].Value is not { } value || !value.AsSpan().SequenceEqual(leaf.Value))
                {
                    AddReplaced(hash, pending: 0); // deleted, or a new value: the old leaf leaves this version
                }

                return Build(depth, writes, null, default);
            }

            var split = SplitPoint(writes, depth);
            if (split < writes.Length && !rightChild.IsZero)
            {
                store.Prefetch(rightChild); // read after the whole left side: by then it is in the CPU's cache
            }

            var left = Update(leftChild, depth + 1, writes[..split]);
            var right = Update(rightChild, depth + 1, writes[split..]);
            var combined = Combine(left, right);
            ReplacedUnlessSame(hash, combined);
            return combined;
        }

        /// <summary>The parent of two updated subtrees, collapsing it when all that is left under it is one leaf.</summary>
        public Subtree Combine(in Subtree left, in Subtree right)
        {
            if (left.IsEmpty && right.IsEmpty)
            {
                return Subtree.Empty;
            }

            if (left.IsEmpty && IsLeaf(right))
            {
                return right with { Kind = SubtreeKind.Leaf };
            }

            if (right.IsEmpty && IsLeaf(left))
            {
                return left with { Kind = SubtreeKind.Leaf };
            }

            return NewInternal(left, right);
        }

        /// <summary>Notes that the stored node <paramref name="old"/> leaves this version unless <paramref name="now"/>, what replaces it, hashes the same.</summary>
        public void ReplacedUnlessSame(in Hash256 old, in Subtree now)
        {
            if (now.IsPending)
            {
                AddReplaced(old, now.Pending); // decided once the new node is hashed
            }
            else if (now.Hash != old)
            {
                AddReplaced(old, pending: 0);
            }
        }

        /// <summary>
        /// Hashes every node the walk made, from the leaves up, lists them in <see cref="NewNodes"/> (children before
        /// parents, in the order the walk made them) and the nodes they replace in <see cref="Replaced"/>; returns
        /// <paramref name="root"/> with its hash.
        /// </summary>
        public Subtree Resolve(in Subtree root)
        {
            if (_count > 0)
            {
                HashLeafValues();
                SortByHeight();
                for (var height = 0; height <= _maxHeight; height++)
                {
                    HashLevel(_byHeight.AsSpan(_heightStarts[height], _heightStarts[height + 1] - _heightStarts[height]));
                }

                for (var i = 0; i < _count; i++)
                {
                    ref var node = ref _nodes[i];
                    NewNodes.Add(node.Leaf is { } leaf ? NewStateNode.OfLeaf(node.Hash, leaf) : NewStateNode.Interior(node.Hash, node.Left, node.Right));
                }
            }

            for (var i = 0; i < _replacedCount; i++)
            {
                ref var replaced = ref _replaced[i];
                if (replaced.Pending == 0 || _nodes[replaced.Pending - 1].Hash != replaced.Hash)
                {
                    Replaced.Add(replaced.Hash);
                }
            }

            var result = root.IsPending ? new Subtree(_nodes[root.Pending - 1].Hash, root.Kind) : root;
            ForgetPending();
            return result;
        }

        /// <summary>Drops the walk's unhashed nodes and replaced candidates (and the leaves they held).</summary>
        private void ForgetPending()
        {
            Array.Clear(_nodes, 0, _count);
            _count = 0;
            _maxHeight = 0;
            _replacedCount = 0;
        }

        /// <summary>H(value) of every new leaf, kept in its <see cref="PendingNode.Right"/> until the leaf is hashed.</summary>
        private void HashLeafValues()
        {
            var leaves = 0;
            var bytes = 0;
            for (var i = 0; i < _count; i++)
            {
                if (_nodes[i].Leaf is { } leaf)
                {
                    leaves++;
                    bytes += leaf.Value.Length;
                }
            }

            if (leaves == 0)
            {
                return;
            }

            EnsureScratch(leaves, bytes);
            var at = 0;
            var k = 0;
            for (var i = 0; i < _count; i++)
            {
                if (_nodes[i].Leaf is { } leaf)
                {
                    leaf.Value.CopyTo(_preimages.AsSpan(at));
                    _starts[k] = at;
                    _lengths[k] = leaf.Value.Length;
                    at += leaf.Value.Length;
                    k++;
                }
            }

            suite.HashMany(_preimages.AsSpan(0, at), _starts.AsSpan(0, leaves), _lengths.AsSpan(0, leaves), _hashes);
            k = 0;
            for (var i = 0; i < _count; i++)
            {
                if (_nodes[i].Leaf is not null)
                {
                    _nodes[i].Right = _hashes[k++];
                }
            }
        }

        /// <summary>The nodes' indices ordered by height (a counting sort): a level only needs the levels below it.</summary>
        private void SortByHeight()
        {
            if (_heightStarts.Length < _maxHeight + 2)
            {
                _heightStarts = new int[_maxHeight + 2];
            }

            if (_byHeight.Length < _count)
            {
                _byHeight = new int[Math.Max(_count, _byHeight.Length * 2)];
            }

            var starts = _heightStarts.AsSpan(0, _maxHeight + 2);
            starts.Clear();
            for (var i = 0; i < _count; i++)
            {
                starts[_nodes[i].Height + 1]++;
            }

            for (var height = 1; height < starts.Length; height++)
            {
                starts[height] += starts[height - 1];
            }

            Span<int> next = stackalloc int[starts.Length];
            starts.CopyTo(next);
            for (var i = 0; i < _count; i++)
            {
                _byHeight[next[_nodes[i].Height]++] = i;
            }
        }

        /// <summary>Hashes the nodes of one level, whose children are all hashed.</summary>
        private void HashLevel(ReadOnlySpan<int> level)
        {
            EnsureScratch(level.Length, level.Length * NodePreimage);
            var preimages = _preimages.AsSpan();
            for (var k = 0; k < level.Length; k++)
            {
                ref var node = ref _nodes[level[k]];
                var preimage = preimages.Slice(k * NodePreimage, NodePreimage);
                if (node.Leaf is { } leaf)
                {
                    preimage[0] = StateHashing.LeafPrefix;
                    leaf.Key.CopyTo(preimage[1..]);
                    node.Right.CopyTo(preimage[(1 + Hash256.Size)..]); // H(value)
                }
                else
                {
                    if (node.LeftPending != 0)
                    {
                        node.Left = _nodes[node.LeftPending - 1].Hash;
                    }

                    if (node.RightPending != 0)
                    {
                        node.Right = _nodes[node.RightPending - 1].Hash;
                    }

                    preimage[0] = StateHashing.InternalPrefix;
                    node.Left.CopyTo(preimage[1..]);
                    node.Right.CopyTo(preimage[(1 + Hash256.Size)..]);
                }

                _starts[k] = k * NodePreimage;
                _lengths[k] = NodePreimage;
            }

            suite.HashMany(preimages[..(level.Length * NodePreimage)], _starts.AsSpan(0, level.Length), _lengths.AsSpan(0, level.Length), _hashes);
            for (var k = 0; k < level.Length; k++)
            {
                _nodes[level[k]].Hash = _hashes[k];
            }
        }

        private void EnsureScratch(int count, int bytes)
        {
            if (_starts.Length < count)
            {
                var size = Math.Max(count, _starts.Length * 2);
                _starts = new int[size];
                _lengths = new int[size];
                _hashes = new Hash256[size];
            }

            if (_preimages.Length < bytes)
            {
                _preimages = new byte[Math.Max(bytes, _preimages.Length * 2)];
            }
        }

        /// <summary>
        /// The subtree at <paramref name="depth"/> holding the batch's puts and, unless the batch overwrote it, the
        /// one leaf that was there before (a leaf keeps its hash at any depth, so it is never rehashed).
        /// </summary>
        private Subtree Build(int depth, ReadOnlySpan<OrderedWrite> writes, StateLeafNode? existing, Hash256 existingHash)
        {
            var puts = 0;
            var lastPut = -1;
            for (var i = 0; i < writes.Length; i++)
            {
                if (writes[i].Value is not null)
                {
                    puts++;
                    lastPut = i;
                }
            }

            var total = puts + (existing is null ? 0 : 1);
            if (total == 0)
            {
                return Subtree.Empty;
            }

            if (total == 1)
            {
                return existing is null ? NewLeaf(writes[lastPut].Key, writes[lastPut].Value!) : new Subtree(existingHash, SubtreeKind.Leaf);
            }

            Debug.Assert(depth < 256, "distinct keys part before their last bit");
            var split = SplitPoint(writes, depth);
            var existingGoesRight = existing is not null && existing.Key.Bit(depth) == 1;
            var left = Build(depth + 1, writes[..split], existingGoesRight ? null : existing, existingHash);
            var right = Build(depth + 1, writes[split..], existingGoesRight ? existing : null, existingHash);
            return NewInternal(left, right);
        }

        private bool IsLeaf(in Subtree subtree) => subtree.Kind switch
        {
            SubtreeKind.Leaf => true,
            SubtreeKind.Unchanged => LoadNode(store, subtree.Hash, out _, out _) is not null,
            _ => false,
        };

        private Subtree NewLeaf(in Hash256 key, byte[] value)
        {
            ref var node = ref NextNode();
            node.Leaf = new StateLeafNode(key, value);
            return new Subtree(default, SubtreeKind.Leaf, _count);
        }

        private Subtree NewInternal(in Subtree left, in Subtree right)
        {
            var height = Math.Max(HeightAbove(left), HeightAbove(right));
            ref var node = ref NextNode();
            node.Left = left.Hash;
            node.Right = right.Hash;
            node.LeftPending = left.Pending;
            node.RightPending = right.Pending;
            node.Height = height;
            _maxHeight = Math.Max(_maxHeight, height);
            return new Subtree(default, SubtreeKind.Internal, _count);
        }

        /// <summary>The lowest level a parent of <paramref name="child"/> can be hashed at: above a new node, else the first.</summary>
        private int HeightAbove(in Subtree child) => child.IsPending ? _nodes[child.Pending - 1].Height + 1 : 0;

        private ref PendingNode NextNode()
        {
            if (_count == _nodes.Length)
            {
                Array.Resize(ref _nodes, _nodes.Length * 2);
            }

            return ref _nodes[_count++];
        }

        private void AddReplaced(in Hash256 hash, int pending)
        {
            if (_replacedCount == _replaced.Length)
            {
                Array.Resize(ref _replaced, _replaced.Length * 2);
            }

            _replaced[_replacedCount++] = new ReplacedNode(hash, pending);
        }

        /// <summary>The first write whose key has bit <paramref name="depth"/> set (sorted keys: all 0s, then 1s).</summary>
        public static int SplitPoint(ReadOnlySpan<OrderedWrite> writes, int depth)
        {
            int low = 0, high = writes.Length;
            while (low < high)
            {
                var mid = (low + high) >>> 1;
                if (writes[mid].Key.Bit(depth) == 0)
                {
                    low = mid + 1;
                }
                else
                {
                    high = mid;
                }
            }

            return low;
        }

        private static int IndexOf(ReadOnlySpan<OrderedWrite> writes, in Hash256 key)
        {
            int low = 0, high = writes.Length - 1;
            while (low <= high)
            {
                var mid = (low + high) >>> 1;
                var order = writes[mid].Key.CompareTo(key);
                if (order == 0)
                {
                    return mid;
                }

                if (order < 0)
                {
                    low = mid + 1;
                }
                else
                {
                    high = mid - 1;
                }
            }

            return -1;
        }

        /// <summary>
        /// A node the walk made, not yet hashed. A leaf carries its node (and, once hashed, H(value) in
        /// <see cref="Right"/>); an interior node its children: a hash, or 1 + the index of a new child.
        /// </summary>
        private struct PendingNode
        {
            public Hash256 Hash;
            public Hash256 Left;
            public Hash256 Right;
            public int LeftPending;
            public int RightPending;
            public int Height;
            public StateLeafNode? Leaf;
        }

        /// <summary>A stored node the warm-up will read, with the range of the sorted writes under it.</summary>
        private readonly record struct WarmNode(Hash256 Hash, int Start, int Count);

        /// <summary>A stored node the new version drops: at once, or when <see cref="Pending"/> (1 + index) hashes differently.</summary>
        private readonly record struct ReplacedNode(Hash256 Hash, int Pending);
    }
}

/// <summary>What a state tree's <see cref="StateTree.Apply"/> stores (the hashes, roots and proofs are the same).</summary>
public enum StateTreeLayout
{
    /// <summary>Every interior node on its own (the layout of stores written before 2026-12-05).</summary>
    Binary,

    /// <summary>Pages of four binary levels (<see cref="StatePageNode"/>), a quarter as many entries; binary nodes already stored are read and replaced as they change.</summary>
    Pages,
}
