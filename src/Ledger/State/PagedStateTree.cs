using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>
/// The state tree of <see cref="StateTree"/> (the same keys, hashes, roots and proofs) stored a page at a time: the
/// nodes it writes are <see cref="StatePageNode"/>s of four binary levels and leaves, about a quarter as many entries as
/// binary interior nodes (docs/state-pages.md). It reads stores written before pages too: a binary interior node met on
/// a path is read as the page it heads (its four levels of binary nodes gathered into 16 slots) and replaced by a page
/// when a batch changes it, so a store moves to pages as it is written, without a migration.
/// </summary>
/// <remarks>
/// Pages start at depths that are multiples of four; a page is never below a binary node (a batch that reaches a binary
/// node turns it into a page before going further). One writer at a time: Apply calls must not overlap (Get and Prove
/// may run alongside). The chain's tree when its layout is <see cref="StateTreeLayout.Pages"/> (the default).
/// </remarks>
public sealed class PagedStateTree
{
    // Below this many writes the other cores cost more to wake than they save.
    private const int ParallelThreshold = 512;

    private readonly IStateNodeStore _store;

    // Reused by every Apply (one writer): the batch, and one for each slot of the root page updated in parallel.
    private readonly Batch _batch;
    private readonly Batch[] _partBatches;

    public PagedStateTree(IStateNodeStore store, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(suite);
        _store = store;
        Suite = suite;
        _batch = new Batch(store, suite);
        _partBatches = new Batch[StatePageNode.SlotCount];
    }

    public CryptoSuite Suite { get; }

    /// <summary>
    /// Applies a block's writes as one batch on top of the version <paramref name="root"/> and returns the new root (the
    /// root <see cref="StateTree.Apply"/> returns for the same writes). When a key appears more than once, its last write
    /// wins. Value arrays are kept, not copied.
    /// </summary>
    public Hash256 Apply(in Hash256 root, ReadOnlySpan<StateWrite> writes)
    {
        if (writes.IsEmpty)
        {
            return root;
        }

        var buffer = ArrayPool<StateWrite>.Shared.Rent(writes.Length);
        try
        {
            var count = SortLastWriteWins(writes, buffer);
            var newRoot = count >= ParallelThreshold && Environment.ProcessorCount > 1 && !root.IsZero && _store.TryGet(root, out var node) && node is StatePageNode page
                ? UpdateInParallel(root, page, buffer, count)
                : _batch.Resolve(_batch.Update(root.IsZero ? Ref.Empty : Ref.Node(root), 0, buffer.AsSpan(0, count)));
            _store.PutBatch(newRoot, _batch.NewNodes, _batch.Replaced);
            return newRoot;
        }
        finally
        {
            _batch.Reset();
            foreach (var part in _partBatches)
            {
                part?.Reset();
            }

            ArrayPool<StateWrite>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>
    /// A large batch on a root page: the subtrees of its 16 slots updated and hashed on every core (each slot's writes by
    /// the first thread that claims them, the writer among them, so it never waits for a slot no thread has started),
    /// then the root page over them. The same nodes and stale list as the walk in one piece.
    /// </summary>
    private Hash256 UpdateInParallel(in Hash256 root, StatePageNode page, StateWrite[] writes, int count)
    {
        var work = new PartWork(this, page, writes, count);
        for (var helpers = Math.Min(Environment.ProcessorCount, work.Parts) - 1; helpers > 0; helpers--)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static w => w.Run(), work, preferLocal: false);
        }

        work.Run();
        work.WaitForAll();
        foreach (var part in _partBatches)
        {
            if (part is not null)
            {
                _batch.TakeNodesOf(part); // children before the root page
            }
        }

        return _batch.Resolve(_batch.UpdateRootPage(root, page, work.Results, work.Changed));
    }

    /// <summary>One parallel update: the root page's changed slots handed out in order, each to the first thread that asks.</summary>
    private sealed class PartWork
    {
        private readonly PagedStateTree _tree;
        private readonly StatePageNode _page;
        private readonly StateWrite[] _writes;
        private readonly (int Slot, int Start, int Count)[] _parts;
        private readonly object _gate = new();
        private int _next = -1;
        private int _done;
        private Exception? _failure;

        public PartWork(PagedStateTree tree, StatePageNode page, StateWrite[] writes, int count)
        {
            (_tree, _page, _writes) = (tree, page, writes);
            var parts = new List<(int, int, int)>(StatePageNode.SlotCount);
            for (var start = 0; start < count;)
            {
                var end = GroupEnd(writes.AsSpan(0, count), start, 0, out var slot);
                parts.Add((slot, start, end - start));
                Changed |= (ushort)(1 << slot);
                start = end;
            }

            _parts = [.. parts];
        }

        public int Parts => _parts.Length;

        /// <summary>The slots some write falls under.</summary>
        public ushort Changed { get; }

        /// <summary>Each changed slot's subtree after the batch, hashed (by slot).</summary>
        public Ref[] Results { get; } = new Ref[StatePageNode.SlotCount];

        public void Run()
        {
            for (var part = Interlocked.Increment(ref _next); part < _parts.Length; part = Interlocked.Increment(ref _next))
            {
                try
                {
                    var (slot, start, count) = _parts[part];
                    var batch = _tree._partBatches[slot] ??= new Batch(_tree._store, _tree.Suite);
                    var child = _page.Child(slot);
                    var old = child.IsZero ? Ref.Empty : _page.IsLeaf(slot) ? Ref.Leaf(child) : Ref.Node(child);
                    Results[slot] = batch.ResolveRef(batch.Update(old, 4, _writes.AsSpan(start, count)));
                }
#pragma warning disable CA1031 // any failure (a store that cannot be read) is handed to the writer, which rethrows it
                catch (Exception e)
#pragma warning restore CA1031
                {
                    Interlocked.CompareExchange(ref _failure, e, null);
                }

                if (Interlocked.Increment(ref _done) == _parts.Length)
                {
                    lock (_gate)
                    {
                        Monitor.PulseAll(_gate);
                    }
                }
            }
        }

        /// <summary>Waits for the parts other threads are still updating; rethrows the first failure.</summary>
        public void WaitForAll()
        {
            if (Volatile.Read(ref _done) < _parts.Length)
            {
                lock (_gate)
                {
                    while (Volatile.Read(ref _done) < _parts.Length)
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

    /// <summary>The value of <paramref name="key"/> in the version <paramref name="root"/>, or null when absent.</summary>
    public byte[]? Get(in Hash256 root, in Hash256 key)
    {
        Span<Hash256> slots = stackalloc Hash256[StatePageNode.SlotCount];
        Span<Hash256> inner = stackalloc Hash256[StatePageNode.SlotCount];
        var hash = root;
        var leafHere = false; // the page above said this slot is a single key
        for (var depth = 0; !hash.IsZero;)
        {
            if (!leafHere && _store.TryReadPage(hash, Suite, slots, inner, out var leaves))
            {
                var slot = Nibble(key, depth);
                (hash, leafHere) = (slots[slot], ((leaves >> slot) & 1) != 0);
                depth += 4;
                continue;
            }

            switch (Load(_store, hash))
            {
                case StateLeafNode leaf:
                    return leaf.Key == key ? leaf.Value : null;
                case StatePageNode page:
                    hash = page.Child(Nibble(key, depth));
                    depth += 4;
                    break;
                case StateInternalNode binary:
                    hash = key.Bit(depth) == 0 ? binary.Left : binary.Right;
                    depth++;
                    break;
            }
        }

        return null;
    }

    /// <summary>
    /// A proof of the value of <paramref name="key"/> in the version <paramref name="root"/>, or of its absence, byte for
    /// byte what <see cref="StateTree.Prove"/> gives: within a page the path descends its four binary levels (the sibling
    /// at each the page's inner hash of the other half) until a level holds one key, none, or the slot's subtree.
    /// </summary>
    public StateProof Prove(in Hash256 root, in Hash256 key)
    {
        var siblings = new List<Hash256>(64);
        var hash = root;
        for (var depth = 0; !hash.IsZero;)
        {
            switch (Load(_store, hash))
            {
                case StateLeafNode leaf:
                    return LeafProof(leaf, siblings);
                case StateInternalNode inner:
                    var goRight = key.Bit(depth) == 1;
                    siblings.Add(goRight ? inner.Left : inner.Right);
                    hash = goRight ? inner.Right : inner.Left;
                    depth++;
                    break;
                case StatePageNode page:
                    var node = 1;
                    for (var level = 0; level < 4; level++, depth++)
                    {
                        var bit = key.Bit(depth);
                        var sibling = (2 * node) + (1 - bit);
                        node = (2 * node) + bit;
                        siblings.Add(page.Inner(sibling, Suite));
                        var kind = node >= StatePageNode.SlotCount
                            ? SlotKind(page, node - StatePageNode.SlotCount)
                            : StatePageNode.Collapsed(node, page.Occupied, page.Leaves, out _);
                        if (kind == StatePageNode.InnerKind.Empty)
                        {
                            return new StateProof(null, [.. siblings]);
                        }

                        if (kind == StatePageNode.InnerKind.SingleLeaf)
                        {
                            var slot = node >= StatePageNode.SlotCount ? node - StatePageNode.SlotCount : BitOperations.TrailingZeroCount(page.Occupied & StatePageNode.SlotMask(node));
                            return LeafProof(LoadLeaf(_store, page.Child(slot)), siblings);
                        }
                    }

                    hash = page.Child(node - StatePageNode.SlotCount);
                    break;
            }
        }

        return new StateProof(null, [.. siblings]);
    }

    private static StatePageNode.InnerKind SlotKind(StatePageNode page, int slot) =>
        !page.IsOccupied(slot) ? StatePageNode.InnerKind.Empty : page.IsLeaf(slot) ? StatePageNode.InnerKind.SingleLeaf : StatePageNode.InnerKind.Internal;

    private StateProof LeafProof(StateLeafNode leaf, List<Hash256> siblings) =>
        new(new StateProofLeaf(leaf.Key, StateHashing.ValueHash(Suite, leaf.Value)), [.. siblings]);

    /// <summary>
    /// Where the run of sorted <paramref name="writes"/> from <paramref name="start"/> that falls in one slot of the page
    /// at <paramref name="depth"/> ends; <paramref name="nibble"/> is that slot.
    /// </summary>
    private static int GroupEnd(ReadOnlySpan<StateWrite> writes, int start, int depth, out int nibble)
    {
        nibble = Nibble(writes[start].Key, depth);
        var end = start + 1;
        while (end < writes.Length && Nibble(writes[end].Key, depth) == nibble)
        {
            end++;
        }

        return end;
    }

    /// <summary>The four key bits from <paramref name="depth"/>: the slot a key takes in the page at that depth.</summary>
    internal static int Nibble(in Hash256 key, int depth)
    {
        var b = key.Bytes[depth >> 3];
        return (depth & 4) == 0 ? b >> 4 : b & 0x0F;
    }

    private static int SortLastWriteWins(ReadOnlySpan<StateWrite> writes, StateWrite[] buffer)
    {
        var ascending = true;
        for (var i = 0; i < writes.Length; i++)
        {
            buffer[i] = writes[i];
            ascending &= i == 0 || writes[i - 1].Key.CompareTo(writes[i].Key) < 0;
        }

        if (ascending)
        {
            return writes.Length;
        }

        // A stable sort by key: the last write of a key is the last of its run.
        var order = new int[writes.Length];
        var keys = new Hash256[writes.Length];
        for (var i = 0; i < writes.Length; i++)
        {
            order[i] = i;
            keys[i] = writes[i].Key;
        }

        Array.Sort(order, (x, y) => keys[x].CompareTo(keys[y]) is var c and not 0 ? c : x.CompareTo(y));
        var count = 0;
        for (var i = 0; i < order.Length; i++)
        {
            if (i + 1 < order.Length && keys[order[i + 1]] == keys[order[i]])
            {
                continue;
            }

            buffer[count++] = writes[order[i]];
        }

        return count;
    }

    private static StateNode Load(IStateNodeStore store, in Hash256 hash)
    {
        if (!store.TryGet(hash, out var node))
        {
            ThrowMissing(hash);
        }

        return node;
    }

    private static StateLeafNode LoadLeaf(IStateNodeStore store, in Hash256 hash) =>
        store.TryGetLeaf(hash, out var leaf) ? leaf
            : Load(store, hash) as StateLeafNode ?? throw new InvalidDataException($"state node {hash} is marked a leaf by its page but is not one");

    [DoesNotReturn]
    private static void ThrowMissing(in Hash256 hash) => throw new KeyNotFoundException($"state node {hash} is not in the store");

    private enum RefKind : byte
    {
        Empty,
        Leaf,

        /// <summary>Two or more keys: a page, or a binary interior node of a store written before pages.</summary>
        Node,
    }

    /// <summary>A subtree during a batch: a stored node by hash, or one the batch made (<see cref="Pending"/> 1 + its index, hashed at the end).</summary>
    private readonly record struct Ref(Hash256 Hash, RefKind Kind, int Pending)
    {
        public static Ref Empty => default;

        public static Ref Node(in Hash256 hash) => new(hash, RefKind.Node, 0);

        public static Ref Leaf(in Hash256 hash) => new(hash, RefKind.Leaf, 0);
    }

    private sealed class PendingPage
    {
        public readonly Ref[] Slots = new Ref[StatePageNode.SlotCount];
        public readonly Hash256[] SlotHashes = new Hash256[StatePageNode.SlotCount];
        public readonly Hash256[] Inner = new Hash256[StatePageNode.SlotCount];
        public ushort Occupied;
        public ushort Leaves;
        public ushort Dirty;
        public int Height;
    }

    private sealed class Batch(IStateNodeStore store, CryptoSuite suite)
    {
        private const int Preimage = 1 + (2 * Hash256.Size);

        // Pending pages kept between batches: enough for a block of several thousand writes.
        private const int RetainedPages = 1 << 14;

        private readonly List<StateLeafNode> _leaves = [];
        private readonly List<Hash256> _leafHashes = [];
        // The batch's pages: the first _pageCount are this batch's, the objects (and their arrays) reused by the next.
        private readonly List<PendingPage> _pages = [];
        private int _pageCount;
        private readonly List<(Hash256 Old, Ref Now)> _replaced = [];
        private readonly List<NewStateNode> _newNodes = [];
        private readonly List<Hash256> _replacedOut = [];
        private readonly List<Hash256> _band = [];
        private byte[] _preimages = new byte[64 * Preimage];
        private int[] _starts = new int[64];
        private int[] _lengths = new int[64];
        private Hash256[] _hashes = new Hash256[64];
        private (PendingPage Page, int Node)[] _jobs = new (PendingPage, int)[64];

        public ReadOnlySpan<NewStateNode> NewNodes => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_newNodes);

        public ReadOnlySpan<Hash256> Replaced => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_replacedOut);

        public void Reset()
        {
            _leaves.Clear();
            _leafHashes.Clear();
            _pageCount = 0;
            if (_pages.Count > RetainedPages)
            {
                _pages.RemoveRange(RetainedPages, _pages.Count - RetainedPages); // a bulk load's many are let go
            }
            _replaced.Clear();
            _newNodes.Clear();
            _replacedOut.Clear();
        }

        /// <summary>The subtree <paramref name="slot"/> at <paramref name="depth"/> after <paramref name="writes"/> (sorted, one a key).</summary>
        public Ref Update(Ref slot, int depth, ReadOnlySpan<StateWrite> writes)
        {
            if (writes.IsEmpty)
            {
                return slot;
            }

            switch (slot.Kind)
            {
                case RefKind.Empty:
                    return Build(depth, writes, null, default);
                case RefKind.Leaf:
                    return UpdateLeaf(LoadLeaf(store, slot.Hash), slot, depth, writes);
            }

            Span<Hash256> children = stackalloc Hash256[StatePageNode.SlotCount];
            Span<Hash256> inner = stackalloc Hash256[StatePageNode.SlotCount];
            if (store.TryReadPage(slot.Hash, suite, children, inner, out var pageLeaves))
            {
                return UpdatePage(slot.Hash, pageLeaves, children, inner, depth, writes); // copied out, no page object
            }

            if (Load(store, slot.Hash) is var node && node is StateLeafNode leaf)
            {
                return UpdateLeaf(leaf, Ref.Leaf(slot.Hash), depth, writes); // the root, whose kind its hash does not say
            }

            if (node is StatePageNode page)
            {
                page.CopyTo(suite, children, inner);
                return UpdatePage(slot.Hash, page.Leaves, children, inner, depth, writes);
            }

            // A binary node a store wrote before pages: the page it heads, gathered from its four levels. Once the batch
            // changes it, no later version holds the binary nodes below its top (the top is replaced as a page would be).
            _band.Clear();
            ushort leaves = 0;
            Gather(slot.Hash, depth, 0, 0, StatePageNode.SlotCount, children, ref leaves);
            var band = _band.ToArray();
            var result = UpdatePage(slot.Hash, leaves, children, default, depth, writes);
            if (result != Ref.Node(slot.Hash))
            {
                foreach (var below in band.AsSpan(1))
                {
                    _replaced.Add((below, Ref.Empty));
                }
            }

            return result;
        }

        /// <summary>The binary subtree of <paramref name="hash"/> at <paramref name="depth"/> + <paramref name="level"/> into its slots.</summary>
        private void Gather(in Hash256 hash, int depth, int level, int start, int width, Span<Hash256> slots, ref ushort leaves)
        {
            var node = Load(store, hash);
            if (node is StateLeafNode leaf)
            {
                var at = Nibble(leaf.Key, depth);
                slots[at] = hash;
                leaves |= (ushort)(1 << at);
                return;
            }

            if (level == 4)
            {
                slots[start] = hash; // a subtree of two or more keys at the page's slot depth
                return;
            }

            if (node is not StateInternalNode inner)
            {
                throw new InvalidDataException($"state node {hash} is a page at depth {depth + level}, below a binary node: pages start at multiples of four");
            }

            _band.Add(hash);
            var half = width / 2;
            if (!inner.Left.IsZero)
            {
                Gather(inner.Left, depth, level + 1, start, half, slots, ref leaves);
            }

            if (!inner.Right.IsZero)
            {
                Gather(inner.Right, depth, level + 1, start + half, half, slots, ref leaves);
            }
        }

        private Ref UpdateLeaf(StateLeafNode leaf, Ref slot, int depth, ReadOnlySpan<StateWrite> writes)
        {
            var at = IndexOf(writes, leaf.Key);
            if (at >= 0 && (writes[at].Value is not { } value || !value.AsSpan().SequenceEqual(leaf.Value)))
            {
                _replaced.Add((slot.Hash, Ref.Empty)); // deleted, or a new value: the old leaf leaves this version
                return Build(depth, writes, null, default);
            }

            return Build(depth, writes, leaf, slot.Hash);
        }

        /// <summary>A page (<paramref name="oldInner"/>: its inner hashes, empty for a binary node read as a page) after <paramref name="writes"/>.</summary>
        private Ref UpdatePage(in Hash256 hash, ushort leaves, ReadOnlySpan<Hash256> children, ReadOnlySpan<Hash256> oldInner, int depth, ReadOnlySpan<StateWrite> writes)
        {
            Span<Ref> slots = stackalloc Ref[StatePageNode.SlotCount];
            for (var i = 0; i < StatePageNode.SlotCount; i++)
            {
                slots[i] = children[i].IsZero ? Ref.Empty : ((leaves >> i) & 1) != 0 ? Ref.Leaf(children[i]) : Ref.Node(children[i]);
            }

            // The slots the writes fall in, each named to the store before the walk descends into the first (its set's
            // metadata), and each one's node asked for while the walk is in the one before it: the misses on a page's
            // children (pages and leaves at random places in a large cache) overlap instead of following one another.
            Span<int> ends = stackalloc int[StatePageNode.SlotCount];
            Span<int> nibbles = stackalloc int[StatePageNode.SlotCount];
            var groups = 0;
            for (var start = 0; start < writes.Length; groups++)
            {
                start = ends[groups] = GroupEnd(writes, start, depth, out nibbles[groups]);
                if (slots[nibbles[groups]] is { Kind: not RefKind.Empty } child)
                {
                    store.PrefetchChild(child.Hash, child.Kind == RefKind.Leaf);
                }
            }

            ushort dirty = 0;
            for (int g = 0, start = 0; g < groups; start = ends[g++])
            {
                if (g + 1 < groups && slots[nibbles[g + 1]] is { Kind: not RefKind.Empty } next)
                {
                    store.PrefetchChildNode(next.Hash, next.Kind == RefKind.Leaf);
                }

                var nibble = nibbles[g];
                var updated = Update(slots[nibble], depth + 4, writes[start..ends[g]]);
                if (updated != slots[nibble])
                {
                    slots[nibble] = updated;
                    dirty |= (ushort)(1 << nibble);
                }
            }

            if (dirty == 0)
            {
                return Ref.Node(hash);
            }

            var result = MakePage(slots, dirty, oldInner);
            _replaced.Add((hash, result));
            return result;
        }

        /// <summary>The subtree at <paramref name="depth"/> of the batch's puts and, unless overwritten, the one leaf that was there.</summary>
        private Ref Build(int depth, ReadOnlySpan<StateWrite> writes, StateLeafNode? existing, Hash256 existingHash)
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

            var at = existing is null ? -1 : IndexOf(writes, existing.Key);
            var keepExisting = existing is not null && (at < 0 || writes[at].Value is { } v && v.AsSpan().SequenceEqual(existing.Value));
            if (keepExisting && at >= 0)
            {
                puts--; // the write sets the value the leaf holds: the leaf stays as it is
            }

            var total = puts + (keepExisting ? 1 : 0);
            if (total == 0)
            {
                return Ref.Empty;
            }

            if (total == 1)
            {
                return keepExisting ? Ref.Leaf(existingHash) : NewLeaf(writes[lastPut].Key, writes[lastPut].Value!);
            }

            Span<Ref> slots = stackalloc Ref[StatePageNode.SlotCount];
            var existingNibble = keepExisting ? Nibble(existing!.Key, depth) : -1;
            var handledExisting = false;
            for (var start = 0; start < writes.Length;)
            {
                var end = GroupEnd(writes, start, depth, out var nibble);
                var withExisting = nibble == existingNibble;
                handledExisting |= withExisting;
                slots[nibble] = Build(depth + 4, writes[start..end], withExisting ? existing : null, withExisting ? existingHash : default);
                start = end;
            }

            if (keepExisting && !handledExisting)
            {
                slots[existingNibble] = Ref.Leaf(existingHash);
            }

            return MakePage(slots, ushort.MaxValue, default);
        }

        /// <summary>A page over <paramref name="slots"/>, or what it collapses to: nothing, or a lone leaf lifted to this depth.</summary>
        private Ref MakePage(ReadOnlySpan<Ref> slots, ushort dirty, ReadOnlySpan<Hash256> oldInner)
        {
            ushort occupied = 0;
            ushort leaves = 0;
            var height = 0;
            for (var i = 0; i < StatePageNode.SlotCount; i++)
            {
                if (slots[i].Kind != RefKind.Empty)
                {
                    occupied |= (ushort)(1 << i);
                }

                if (slots[i].Kind == RefKind.Leaf)
                {
                    leaves |= (ushort)(1 << i);
                }

                if (slots[i].Kind == RefKind.Node && slots[i].Pending != 0)
                {
                    height = Math.Max(height, _pages[slots[i].Pending - 1].Height + 1);
                }
            }

            if (occupied == 0)
            {
                return Ref.Empty;
            }

            if (BitOperations.IsPow2((uint)occupied) && leaves == occupied)
            {
                return slots[BitOperations.TrailingZeroCount((uint)occupied)];
            }

            var page = NextPage();
            (page.Occupied, page.Leaves, page.Dirty, page.Height) = (occupied, leaves, oldInner.IsEmpty ? ushort.MaxValue : dirty, height);
            slots.CopyTo(page.Slots);
            oldInner.CopyTo(page.Inner); // the hashes of the inner nodes no change lies under stand
            return new Ref(default, RefKind.Node, _pageCount);
        }

        private PendingPage NextPage()
        {
            if (_pageCount == _pages.Count)
            {
                _pages.Add(new PendingPage());
            }

            return _pages[_pageCount++];
        }

        private Ref NewLeaf(in Hash256 key, byte[] value)
        {
            _leaves.Add(new StateLeafNode(key, value));
            return new Ref(default, RefKind.Leaf, -_leaves.Count);
        }

        /// <summary>Hashes what the batch made (leaves, then pages from the bottom up) and lists the nodes for the store; returns the root.</summary>
        public Hash256 Resolve(Ref root)
        {
            HashLeaves();
            var order = new int[_pageCount];
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }

            var heights = new int[_pageCount];
            for (var i = 0; i < heights.Length; i++)
            {
                heights[i] = _pages[i].Height;
            }

            Array.Sort(heights, order); // children before parents
            for (int from = 0, to; from < order.Length; from = to)
            {
                var height = _pages[order[from]].Height;
                for (to = from; to < order.Length && _pages[order[to]].Height == height; to++)
                {
                    var page = _pages[order[to]];
                    for (var i = 0; i < StatePageNode.SlotCount; i++)
                    {
                        page.SlotHashes[i] = HashOf(page.Slots[i]);
                    }
                }

                for (var level = 3; level >= 0; level--)
                {
                    HashLevel(order.AsSpan(from, to - from), level);
                }
            }

            foreach (var i in order)
            {
                var page = _pages[i];
                var children = new Hash256[BitOperations.PopCount((uint)page.Occupied)];
                for (int slot = 0, k = 0; slot < StatePageNode.SlotCount; slot++)
                {
                    if (!page.SlotHashes[slot].IsZero)
                    {
                        children[k++] = page.SlotHashes[slot];
                    }
                }

                _newNodes.Add(NewStateNode.OfPage(page.Inner[1], StatePageNode.FromTree(page.Occupied, page.Leaves, children, page.Inner)));
                page.Slots.AsSpan().Clear(); // nothing of this batch kept alive by the reused page
            }

            foreach (var (old, now) in _replaced)
            {
                if (HashOf(now) != old)
                {
                    _replacedOut.Add(old);
                }
            }

            return HashOf(root);
        }

        /// <summary><see cref="Resolve"/> for a part: its subtree as a stored reference (its kind kept, its hash known).</summary>
        public Ref ResolveRef(Ref subtree)
        {
            var hash = Resolve(subtree);
            return subtree.Kind == RefKind.Empty ? Ref.Empty : new Ref(hash, subtree.Kind, 0);
        }

        /// <summary>Takes over a part's new nodes and stale list, which come before this batch's own.</summary>
        public void TakeNodesOf(Batch part)
        {
            _newNodes.AddRange(part._newNodes);
            _replacedOut.AddRange(part._replacedOut);
            part._newNodes.Clear();
            part._replacedOut.Clear();
        }

        /// <summary>The root page over the parts' results (<paramref name="changed"/>: the slots they updated), as <see cref="Update"/> makes it.</summary>
        public Ref UpdateRootPage(in Hash256 root, StatePageNode page, Ref[] results, ushort changed)
        {
            Span<Hash256> children = stackalloc Hash256[StatePageNode.SlotCount];
            Span<Hash256> inner = stackalloc Hash256[StatePageNode.SlotCount];
            page.CopyTo(suite, children, inner);
            Span<Ref> slots = stackalloc Ref[StatePageNode.SlotCount];
            ushort dirty = 0;
            for (var i = 0; i < StatePageNode.SlotCount; i++)
            {
                slots[i] = children[i].IsZero ? Ref.Empty : page.IsLeaf(i) ? Ref.Leaf(children[i]) : Ref.Node(children[i]);
                if (((changed >> i) & 1) != 0 && results[i] != slots[i])
                {
                    slots[i] = results[i];
                    dirty |= (ushort)(1 << i);
                }
            }

            if (dirty == 0)
            {
                return Ref.Node(root);
            }

            var result = MakePage(slots, dirty, inner);
            _replaced.Add((root, result));
            return result;
        }

        private Hash256 HashOf(in Ref subtree) => subtree.Pending switch
        {
            0 => subtree.Hash,
            > 0 => _pages[subtree.Pending - 1].Inner[1],
            _ => _leafHashes[-subtree.Pending - 1],
        };

        private void HashLeaves()
        {
            if (_leaves.Count == 0)
            {
                return;
            }

            var bytes = 0;
            foreach (var leaf in _leaves)
            {
                bytes += leaf.Value.Length;
            }

            EnsureScratch(_leaves.Count, Math.Max(bytes, _leaves.Count * Preimage));
            var at = 0;
            for (var k = 0; k < _leaves.Count; k++)
            {
                _leaves[k].Value.CopyTo(_preimages.AsSpan(at));
                (_starts[k], _lengths[k]) = (at, _leaves[k].Value.Length);
                at += _leaves[k].Value.Length;
            }

            suite.HashMany(_preimages.AsSpan(0, at), _starts.AsSpan(0, _leaves.Count), _lengths.AsSpan(0, _leaves.Count), _hashes);
            for (var k = 0; k < _leaves.Count; k++)
            {
                var preimage = _preimages.AsSpan(k * Preimage, Preimage);
                var valueHash = _hashes[k];
                preimage[0] = StateHashing.LeafPrefix;
                _leaves[k].Key.CopyTo(preimage[1..]);
                valueHash.CopyTo(preimage[(1 + Hash256.Size)..]);
                (_starts[k], _lengths[k]) = (k * Preimage, Preimage);
            }

            suite.HashMany(_preimages.AsSpan(0, _leaves.Count * Preimage), _starts.AsSpan(0, _leaves.Count), _lengths.AsSpan(0, _leaves.Count), _hashes);
            for (var k = 0; k < _leaves.Count; k++)
            {
                _leafHashes.Add(_hashes[k]);
                _newNodes.Add(NewStateNode.OfLeaf(_hashes[k], _leaves[k]));
            }
        }

        /// <summary>The inner nodes at <paramref name="level"/> (0 the page's own hash, 3 the pairs of slots) of the given pages that a change lies under, hashed together.</summary>
        private void HashLevel(ReadOnlySpan<int> pages, int level)
        {
            var jobs = 0;
            foreach (var index in pages)
            {
                var page = _pages[index];
                for (var node = 1 << level; node < 2 << level; node++)
                {
                    if ((page.Dirty & StatePageNode.SlotMask(node)) == 0)
                    {
                        continue; // nothing changed under it: the old page's hash stands
                    }

                    switch (StatePageNode.Collapsed(node, page.Occupied, page.Leaves, out var slot))
                    {
                        case StatePageNode.InnerKind.Empty:
                            page.Inner[node] = Hash256.Zero;
                            break;
                        case StatePageNode.InnerKind.SingleLeaf:
                            page.Inner[node] = page.SlotHashes[slot];
                            break;
                        default:
                            if (jobs == _jobs.Length)
                            {
                                Array.Resize(ref _jobs, jobs * 2);
                            }

                            _jobs[jobs++] = (page, node);
                            break;
                    }
                }
            }

            if (jobs == 0)
            {
                return;
            }

            EnsureScratch(jobs, jobs * Preimage);
            for (var k = 0; k < jobs; k++)
            {
                var (page, node) = _jobs[k];
                var preimage = _preimages.AsSpan(k * Preimage, Preimage);
                preimage[0] = StateHashing.InternalPrefix;
                StatePageNode.Value(page.Inner, page.SlotHashes, 2 * node).CopyTo(preimage[1..]);
                StatePageNode.Value(page.Inner, page.SlotHashes, (2 * node) + 1).CopyTo(preimage[(1 + Hash256.Size)..]);
                (_starts[k], _lengths[k]) = (k * Preimage, Preimage);
            }

            suite.HashMany(_preimages.AsSpan(0, jobs * Preimage), _starts.AsSpan(0, jobs), _lengths.AsSpan(0, jobs), _hashes);
            for (var k = 0; k < jobs; k++)
            {
                _jobs[k].Page.Inner[_jobs[k].Node] = _hashes[k];
                _jobs[k] = default;
            }
        }

        private void EnsureScratch(int count, int bytes)
        {
            if (_starts.Length < count)
            {
                var size = Math.Max(count, _starts.Length * 2);
                (_starts, _lengths, _hashes) = (new int[size], new int[size], new Hash256[size]);
            }

            if (_preimages.Length < bytes)
            {
                _preimages = new byte[Math.Max(bytes, _preimages.Length * 2)];
            }
        }

        private static int IndexOf(ReadOnlySpan<StateWrite> writes, in Hash256 key)
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

                (low, high) = order < 0 ? (mid + 1, high) : (low, mid - 1);
            }

            return -1;
        }
    }
}
