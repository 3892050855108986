using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Memory;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node;

/// <summary>
/// A bounded cache of state-tree nodes by hash: two eight-way set-associative tables, lock-free for readers and writers.
/// Eviction is by position: an insert goes to the empty or oldest way of its set, so the hot top of the tree, read on
/// every block, is written back at once if it is ever pushed out. The live nodes of the head fall into the sets at
/// random, and a set that more of them map to than it has ways pushes one out at every insert, to be read back from the
/// store by the next block that walks there. With two ways a 150,000-transaction load run read ~233,000 interior nodes
/// back although the table was a third full; four ways read ~110,000 nodes back over the same run, eight ways ~29,500
/// with the same memory (docs/benchmarks/2026-12-04-node.md, "Tenth session"). More ways cost a lookup nothing: it
/// reads its set's metadata (one cache line for eight ways) and then only the slot whose tag matches.
/// </summary>
/// <remarks>
/// Interior nodes (nine in ten of a block's new nodes) are held by value, in a struct table the GC never scans:
/// held as objects, every committed node lived long enough to reach gen2 and then died when evicted, and that churn
/// (one entry and one node object per node, ~50 nodes per transaction) made most of the node's gen1 and gen2
/// collections. A hit copies the entry out under a per-slot sequence number (a writer makes it odd while it writes,
/// a reader retries on a change) and hands out a new short-lived node object. Leaves are held the same way: hash and
/// key by value, and beside them a reference to the value array (which the tree and the head state hold anyway).
/// Held as a node object in an entry object, each leaf a block committed (three or four a transaction) was two
/// objects that reached gen2 and died there when evicted.
/// <para>
/// Each set has 32 bytes of <em>metadata</em> in a small table beside it: per way, a 32-bit tag (bits of the hash that
/// do not pick the set; 0 for an empty way) and when it was last inserted or hit. A lookup reads its set's metadata
/// (one cache line) and only the slot whose tag matches; an insert or a removal picks its way from the metadata alone.
/// The walk of a block asks for nodes the cache mostly does not hold where it looks first (every leaf is looked for
/// among the interior nodes first), and the commit inserts and drops ~100 nodes a transaction: without the metadata
/// each of those read all of the set's cache lines, or dereferenced the four leaf entries, far apart in a heap of
/// hundreds of MiB. A tag is a hint: the slot's hash is still compared.
/// </para>
/// </remarks>
internal sealed class StateNodeCache
{
    /// <summary>The least fraction of the page and leaf tables' sets <see cref="SetShare"/> keeps.</summary>
    internal const double MinTableShare = 0.25;

    /// <summary>Slots per set, a power of two (<see cref="WayShift"/> its log).</summary>
    internal const int Ways = 8;
    private const int WayShift = 3;

    // A set's metadata: Ways tags, then Ways last-use stamps (uint each: 64 bytes, one cache line of a line-aligned table).
    private const int MetaShift = 1;
    private const int StampOffset = Ways;

    // Cache lines of a page's slot an insert's prefetch asks for: its version, hash and first hashes.
    private const int PageLinesAhead = 4;

    private readonly LargeTable<InteriorSlot> _interior;
    private readonly LargeTable<uint> _interiorMeta;
    private readonly int _interiorMask;
    private readonly LargeTable<LeafSlot> _leaves;
    private readonly byte[]?[] _leafValues;
    private readonly LargeTable<uint> _leafMeta;
    private readonly int _leafSets; // the table's sets; _leafMask picks among the first of them in use (SetShare)
    private volatile int _leafMask;
    private readonly LargeTable<PageSlot> _pages;
    private readonly LargeTable<uint> _pageMeta;
    private readonly int _pageSets;
    private volatile int _pageMask;
    private readonly Lock _shareGate = new();

    // Whether an interior (binary) node was ever inserted. A tree in pages inserts none (only a store written before
    // pages has them), and then a lookup or a removal does not ask the interior table: each of those asks cost a
    // cache miss on a metadata line that could only say "not here" (a leaf looked for among the interior nodes first,
    // every stale leaf and page of a commit probed there too). Set before the first insert and never cleared: a
    // reader that sees it unset while that insert runs misses, which a cache may.
    private volatile bool _holdsInterior;

    // The bytes of the leaves' value arrays the leaf slots hold, and their bound: a slot is 68 bytes, but the value it
    // keeps alive is as long as the state value (a subject's score index is 1-3 KB), and uncounted they were most of a
    // writing node's heap (~280 MB behind 512 K slots at 1,000,000 transactions). An insert that would pass the bound
    // is skipped; replacing a value with a shorter one always fits.
    private long _leafValueBudget;
    private readonly long _leafValueBudgetWhole;
    private long _leafValueBytes;

    // Counts inserts. A stamp is its low 32 bits, so ages are compared modulo 2^32: a way untouched for four billion
    // inserts looks recent (an eviction hint only, never a question of correctness).
    private long _clock;

    /// <param name="capacity">Entries: the interior table's slots; the leaves get as many, the pages a quarter.</param>
    /// <param name="leafValueBytes">The bound on the bytes of the values the leaf slots keep alive.</param>
    public StateNodeCache(int capacity, long leafValueBytes = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(leafValueBytes);
        _leafValueBudget = leafValueBytes;
        _leafValueBudgetWhole = leafValueBytes;
        // Rounded down: the capacity is a memory bound.
        var size = 1 << BitOperations.Log2((uint)Math.Clamp(capacity, 1024, 1 << 28));

        // Sized as the single table was: a tree holds about as many interior nodes as leaves, and the interior entries
        // are the ones walked on every block.
        _interior = new LargeTable<InteriorSlot>(size);
        _interiorMeta = new LargeTable<uint>(size << MetaShift);
        _interiorMask = (size >> WayShift) - 1;
        var leafSize = Math.Max(1024, size);
        _leaves = new LargeTable<LeafSlot>(leafSize);
        _leafValues = new byte[]?[leafSize];
        _leafMeta = new LargeTable<uint>(leafSize << MetaShift);
        _leafSets = leafSize >> WayShift;
        _leafMask = _leafSets - 1;

        // Pages by value, ~1 KB a slot: a tree in pages has about a third as many pages as it had interior nodes, and the
        // interior table then holds only the binary nodes of versions written before pages (its memory untouched, so not
        // resident, when there are none). Held as objects, every page a block made lived to gen2 and died there.
        var pageSize = Math.Max(1024, size >> 2);
        _pages = new LargeTable<PageSlot>(pageSize);
        _pageMeta = new LargeTable<uint>(pageSize << MetaShift);
        _pageSets = pageSize >> WayShift;
        _pageMask = _pageSets - 1;
    }

    /// <summary>
    /// The bytes of the cache's tables in use (outside the GC heap; a table's pages are resident once written, so the
    /// interior table of a tree in pages stays untouched; <see cref="SetShare"/> gives some of the others up), besides
    /// the leaf values it keeps alive.
    /// </summary>
    public long TableBytes
    {
        get
        {
            long leaves = (_leafMask + 1) << WayShift;
            long pages = (_pageMask + 1) << WayShift;
            return (_interior.Length * (long)Unsafe.SizeOf<InteriorSlot>()) + (leaves * (Unsafe.SizeOf<LeafSlot>() + IntPtr.Size)) + (pages * Unsafe.SizeOf<PageSlot>())
                + ((_interiorMeta.Length + ((leaves + pages) << MetaShift)) * sizeof(uint));
        }
    }

    /// <summary>The bytes of the leaf values the cache keeps alive now (see the bound given at construction).</summary>
    public long LeafValueBytes => Interlocked.Read(ref _leafValueBytes);

    /// <summary>The bound on the leaf values' bytes now.</summary>
    public long LeafValueBound => Volatile.Read(ref _leafValueBudget);

    /// <summary>
    /// Bounds the leaf values' bytes at <paramref name="bytes"/> from now on (the node's share of its caches under its
    /// memory budget); when the values held pass it, every leaf goes at once (<see cref="ReleaseLeaves"/>).
    /// </summary>
    public void SetLeafValueBound(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Volatile.Write(ref _leafValueBudget, bytes);
        if (LeafValueBytes > bytes)
        {
            ReleaseLeaves();
        }
    }

    /// <summary>
    /// Gives the cache <paramref name="share"/> (0 to 1) of what it was made with (the node's share of its caches under its
    /// memory budget, <see cref="MemoryGovernor"/>): that share of the leaf values' bound (<see cref="SetLeafValueBound"/>),
    /// and of the page and leaf tables the smallest power-of-two fraction of their sets that holds the share, a quarter
    /// at least. The sets given up go back to the system at once (<see cref="LargeTable{T}.Trim"/>) with the values
    /// they held, and are not taken back: a larger share gives back the values' bound, not the sets (until the node
    /// restarts). The interior table, which a tree in pages never writes, is left as it is.
    /// </summary>
    /// <remarks>
    /// A set's index is the hash's low bits, so the first 2^k sets of a table are a whole table for k bits: a node
    /// whose set is given up is looked for in the set its lower bits pick, and misses there. An insert or a removal
    /// that read the mask before it changed may still write into a set given up, even while its memory is returned
    /// (a slot zeroed under its writer, a page slot across two memory pages zeroed one after the other): that is why
    /// no look-up reads those sets again. Leaf values are counted by the array that holds them
    /// (<see cref="SwapLeafValue"/>), so the count stays true whatever happens to their slots.
    /// </remarks>
    public void SetShare(double share)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(share);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(share, 1);
        lock (_shareGate)
        {
            SetLeafValueBound(share >= 1 || _leafValueBudgetWhole == long.MaxValue ? _leafValueBudgetWhole : (long)(_leafValueBudgetWhole * share));
            var fraction = 1.0;
            while (fraction / 2 >= share && fraction > MinTableShare)
            {
                fraction /= 2;
            }

            var pageSets = Math.Max(1, (int)(_pageSets * fraction));
            var leafSets = Math.Max(1, (int)(_leafSets * fraction));
            if (pageSets - 1 < _pageMask)
            {
                _pageMask = pageSets - 1; // before the trim: new look-ups stay off the sets given up
                _pages.Trim(pageSets << WayShift);
                _pageMeta.Trim(pageSets << WayShift << MetaShift);
            }

            if (leafSets - 1 < _leafMask)
            {
                var inUse = leafSets << WayShift;
                var wasInUse = (_leafMask + 1) << WayShift;
                _leafMask = leafSets - 1;
                ReleaseLeavesIn(inUse, wasInUse - inUse); // their values, counted out
                _leaves.Trim(inUse);
                _leafMeta.Trim(inUse << MetaShift);
                ReleaseLeavesIn(inUse, wasInUse - inUse); // a value a writer that read the old mask put there meanwhile
            }
        }

        GC.KeepAlive(this); // the table's memory is released by its finalizer: keep it reachable until trimmed
    }

    /// <summary>The fraction of the page and leaf tables' sets in use (<see cref="SetShare"/>; tests).</summary>
    public double TableShare => (_pageMask + 1) / (double)_pageSets;

    public bool TryGet(in Hash256 hash, [NotNullWhen(true)] out StateNode? node)
    {
        if (TryGetPageIn(hash, out var page))
        {
            node = page;
            GC.KeepAlive(this); // the table's memory is released by its finalizer: keep it reachable until read
            return true;
        }

        if (TryGetInterior(hash, out var left, out var right))
        {
            node = new StateInternalNode(left, right);
            return true;
        }

        var found = TryGetLeafIn(hash, out var leaf);
        GC.KeepAlive(this); // the table's memory is released by its finalizer: keep it reachable until read
        node = leaf;
        return found;
    }

    /// <summary>A leaf, asked of the leaves only (a caller that already missed among the interior nodes).</summary>
    public bool TryGetLeaf(in Hash256 hash, [NotNullWhen(true)] out StateLeafNode? leaf)
    {
        var found = TryGetLeafIn(hash, out leaf);
        GC.KeepAlive(this); // the table's memory is released by its finalizer: keep it reachable until read
        return found;
    }

    private bool TryGetLeafIn(in Hash256 hash, [NotNullWhen(true)] out StateLeafNode? leaf)
    {
        var set = SetOf(hash, _leafMask);
        var meta = set << MetaShift;
        var tag = TagOf(hash);
        for (var way = 0; way < Ways; way++)
        {
            if (Volatile.Read(ref _leafMeta[meta + way]) != tag)
            {
                continue;
            }

            ref var slot = ref _leaves[set + way];
            for (var attempt = 0; attempt < 4; attempt++)
            {
                var version = Volatile.Read(ref slot.Version);
                if ((version & 1) != 0)
                {
                    continue; // being written
                }

                var key = slot.Hash;
                var leafKey = slot.Key;
                var value = Volatile.Read(ref _leafValues[set + way]);
                Volatile.ReadBarrier();
                if (Volatile.Read(ref slot.Version) != version)
                {
                    continue; // overwritten while copied: read again
                }

                if (key != hash || version == 0 || value is null)
                {
                    break; // not here: the other way
                }

                _leafMeta[meta + StampOffset + way] = (uint)_clock;
                leaf = new StateLeafNode(leafKey, value);
                return true;
            }
        }

        leaf = null;
        return false;
    }

    /// <summary>Adds a node a batch created, by value (<see cref="Add(in Hash256, StateNode)"/>).</summary>
    public void Add(in NewStateNode node)
    {
        if (node.Leaf is { } leaf)
        {
            AddLeaf(node.Hash, leaf);
        }
        else if (node.Page is { } page)
        {
            AddPage(node.Hash, page);
        }
        else
        {
            AddInterior(node.Hash, node.Left, node.Right);
        }

        GC.KeepAlive(this); // the table's memory is released by its finalizer: keep it reachable until written
    }

    public void Add(in Hash256 hash, StateNode node)
    {
        switch (node)
        {
            case StateInternalNode inner:
                AddInterior(hash, inner.Left, inner.Right);
                GC.KeepAlive(this); // the table's memory is released by its finalizer: keep it reachable until written
                break;
            case StateLeafNode leaf:
                AddLeaf(hash, leaf);
                GC.KeepAlive(this);
                break;
            case StatePageNode page:
                AddPage(hash, page);
                GC.KeepAlive(this);
                break;
        }
    }

    /// <summary>
    /// Drops the node of <paramref name="hash"/> if it is held, and makes its slot the first one an insert takes. The
    /// chain drops the nodes a committed block replaced: they belong only to older versions, and left in place they
    /// push out live nodes of the head (an untouched live node lost its slot to two newer dead ones, and the next
    /// block read it back from the store). A reader of an older version still finds them in the store.
    /// </summary>
    public void Remove(in Hash256 hash)
    {
        RemoveFrom(hash);
        GC.KeepAlive(this); // the table's memory is released by its finalizer: keep it reachable until written
    }

    private void RemoveFrom(in Hash256 hash)
    {
        _ = RemovePage(hash) || (_holdsInterior && RemoveInterior(hash)) || RemoveLeaf(hash);
    }

    private bool RemoveInterior(in Hash256 hash)
    {
        var tag = TagOf(hash);
        var set = SetOf(hash, _interiorMask);
        var meta = set << MetaShift;
        for (var way = 0; way < Ways; way++)
        {
            if (Volatile.Read(ref _interiorMeta[meta + way]) != tag)
            {
                continue;
            }

            ref var slot = ref _interior[set + way];
            var version = Volatile.Read(ref slot.Version);
            if (version == 0 || (version & 1) != 0 || slot.Hash != hash)
            {
                continue;
            }

            if (Interlocked.CompareExchange(ref slot.Version, version + 1, version) != version)
            {
                continue; // another thread writes this slot now: it no longer holds this node, or will be evicted later
            }

            slot.Hash = default; // no lookup asks for the zero hash (the empty subtree is never loaded)
            slot.Left = default;
            slot.Right = default;
            _interiorMeta[meta + way] = 0; // empty: the next insert into the set takes it first
            Volatile.Write(ref slot.Version, version + 2);
            return true;
        }


        return false;
    }

    private bool RemoveLeaf(in Hash256 hash)
    {
        var tag = TagOf(hash);
        var leafSet = SetOf(hash, _leafMask);
        var leafMeta = leafSet << MetaShift;
        for (var way = 0; way < Ways; way++)
        {
            if (Volatile.Read(ref _leafMeta[leafMeta + way]) != tag)
            {
                continue;
            }

            ref var slot = ref _leaves[leafSet + way];
            var version = Volatile.Read(ref slot.Version);
            if (version == 0 || (version & 1) != 0 || slot.Hash != hash)
            {
                continue;
            }

            if (Interlocked.CompareExchange(ref slot.Version, version + 1, version) != version)
            {
                continue; // another thread writes this slot now
            }

            slot.Hash = default;
            slot.Key = default;
            SwapLeafValue(leafSet + way, null);
            _leafMeta[leafMeta + way] = 0; // empty: the next insert into the set takes it first
            Volatile.Write(ref slot.Version, version + 2);
            return true;
        }

        return false;
    }

    /// <summary>
    /// Empties every leaf slot that holds a value, so that the values it kept alive can be collected (the node is over
    /// its memory budget). Slots being written meanwhile are skipped; safe beside readers and writers on other threads.
    /// </summary>
    public void ReleaseLeaves() => ReleaseLeavesIn(0, _leaves.Length);

    // Every change of a leaf value goes through here: the count of their bytes is the sum of the values the array
    // holds, whatever happened to the slot beside it (a trim zeroes slots under a writer that read the old mask).
    private void SwapLeafValue(int index, byte[]? value)
    {
        var old = Interlocked.Exchange(ref _leafValues[index], value);
        Interlocked.Add(ref _leafValueBytes, (value?.Length ?? 0) - (old?.Length ?? 0));
    }

    private void ReleaseLeavesIn(int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            if (Volatile.Read(ref _leafValues[i]) is null)
            {
                continue;
            }

            ref var slot = ref _leaves[i];
            var version = Volatile.Read(ref slot.Version);
            if ((version & 1) != 0 || Interlocked.CompareExchange(ref slot.Version, version + 1, version) != version)
            {
                continue; // being written: that writer's value stays, within the bound it checked
            }

            slot.Hash = default;
            slot.Key = default;
            SwapLeafValue(i, null);
            _leafMeta[((i & ~(Ways - 1)) << MetaShift) + (i & (Ways - 1))] = 0;
            Volatile.Write(ref slot.Version, version + 2);
        }

        GC.KeepAlive(this); // the table's memory is released by its finalizer: keep it reachable until written
    }

    /// <summary>
    /// The first step of a prefetch for an insert soon after (a loop over a block's new nodes): starts loading the
    /// metadata line of the set <paramref name="node"/> maps to in its kind's table. A set of interior slots is
    /// thirteen cache lines (8 × 104 bytes), a set of pages ~130, of tables far larger than the CPU's caches, and a miss
    /// costs ~100 ns; an insert needs only the metadata and one slot, which <see cref="PrefetchSlot"/> then asks for.
    /// </summary>
    public void PrefetchMetadata(in NewStateNode node) => PrefetchSet(node.Hash, KindOf(node));

    /// <summary>
    /// The second step of an insert's prefetch, a little after <see cref="PrefetchMetadata(in NewStateNode)"/>: reads
    /// the set's metadata and starts loading the slot an insert of <paramref name="node"/> would write (the way holding
    /// it, else the way <see cref="Victim"/> picks): a leaf's or an interior node's whole slot, a page's first
    /// <see cref="PageLinesAhead"/> lines (its copy runs on through the rest, which the CPU then streams in).
    /// </summary>
    public void PrefetchSlot(in NewStateNode node)
    {
        var kind = KindOf(node);
        PrefetchSlotAt(kind, SlotOf(node.Hash, kind, orVictim: true), PageLinesAhead);
    }

    /// <summary>
    /// The first step of a prefetch for a removal soon after (the commit's loop over the nodes a block replaced, whose
    /// kinds it does not know): starts loading the metadata lines of the sets <paramref name="hash"/> maps to among the
    /// pages and the leaves, and among the interior nodes when the table holds any.
    /// </summary>
    public void PrefetchRemoval(in Hash256 hash)
    {
        PrefetchSet(hash, Kind.Page);
        PrefetchSet(hash, Kind.Leaf);
        if (_holdsInterior)
        {
            PrefetchSet(hash, Kind.Interior);
        }
    }

    /// <summary>
    /// The second step of a removal's prefetch, a little after <see cref="PrefetchRemoval"/>: reads the metadata and
    /// starts loading the slot whose tag matches (of a page, only the first line: the version and hash the removal
    /// checks and clears).
    /// </summary>
    public void PrefetchRemovalSlot(in Hash256 hash)
    {
        foreach (var kind in (ReadOnlySpan<Kind>)[Kind.Page, Kind.Leaf, Kind.Interior])
        {
            if ((kind != Kind.Interior || _holdsInterior) && SlotOf(hash, kind, orVictim: false) is >= 0 and var index)
            {
                PrefetchSlotAt(kind, index, pageLines: 1);
                return;
            }
        }
    }

    /// <summary>
    /// The paged walk's first hint for a page's child, read soon after (<see cref="IStateNodeStore.PrefetchChild"/>):
    /// starts loading the metadata line of its set among the pages, or the leaves when <paramref name="leaf"/>.
    /// </summary>
    public void PrefetchChild(in Hash256 hash, bool leaf) => PrefetchSet(hash, leaf ? Kind.Leaf : Kind.Page);

    /// <summary>
    /// The second hint, a little after <see cref="PrefetchChild"/>: reads the metadata and starts loading the slot whose
    /// tag matches, all of it (a page is read whole), if one does.
    /// </summary>
    public void PrefetchChildNode(in Hash256 hash, bool leaf)
    {
        var kind = leaf ? Kind.Leaf : Kind.Page;
        PrefetchSlotAt(kind, SlotOf(hash, kind, orVictim: false), pageLines: null);
    }

    // The tables a node of each kind lives in.
    private enum Kind
    {
        Interior,
        Leaf,
        Page,
    }

    private static Kind KindOf(in NewStateNode node) => node.Leaf is not null ? Kind.Leaf : node.Page is not null ? Kind.Page : Kind.Interior;

    private (LargeTable<uint> Meta, int Mask) SetsOf(Kind kind) => kind switch
    {
        Kind.Leaf => (_leafMeta, _leafMask),
        Kind.Page => (_pageMeta, _pageMask),
        _ => (_interiorMeta, _interiorMask),
    };

    // Starts loading the metadata line of hash's set in kind's table.
    private void PrefetchSet(in Hash256 hash, Kind kind)
    {
        var (meta, mask) = SetsOf(kind);
        meta.Prefetch(SetOf(hash, mask) << MetaShift, 1);
        GC.KeepAlive(this); // the table's memory is released by its finalizer: keep it reachable until asked
    }

    // The slot of kind's table whose tag is hash's (else, when orVictim, the one an insert would take), or -1.
    private int SlotOf(in Hash256 hash, Kind kind, bool orVictim)
    {
        var (meta, mask) = SetsOf(kind);
        var set = SetOf(hash, mask);
        ref var ways = ref meta[set << MetaShift];
        var way = WayOf(ref ways, TagOf(hash));
        if (way < 0 && orVictim)
        {
            way = Victim(ref ways);
        }

        GC.KeepAlive(this);
        return way < 0 ? -1 : set + way;
    }

    // Starts loading slot index of kind's table (none when -1): all of it, or of a page the first pageLines lines.
    private void PrefetchSlotAt(Kind kind, int index, int? pageLines)
    {
        if (index < 0)
        {
            return;
        }

        switch (kind)
        {
            case Kind.Leaf:
                _leaves.PrefetchEntry(index);
                break;
            case Kind.Page when pageLines is { } lines:
                _pages.Prefetch(index, lines);
                break;
            case Kind.Page:
                _pages.PrefetchEntry(index);
                break;
            default:
                _interior.PrefetchEntry(index);
                break;
        }

        GC.KeepAlive(this);
    }

    // The first way of a set whose tag is tag, or -1.
    private static int WayOf(ref uint meta, uint tag)
    {
        for (var w = 0; w < Ways; w++)
        {
            if (Unsafe.Add(ref meta, w) == tag)
            {
                return w;
            }
        }

        return -1;
    }

    /// <summary>
    /// Starts loading only the metadata line of <paramref name="hash"/>'s set: for a lookup that comes much later (the
    /// tree walk names a node's second child long before it descends into it). The lookup then misses on one slot at
    /// most. Loading the whole set too, nine lines for each second child, took ~7 % more build time a transaction in six
    /// alternating runs, each scaled by its run's verify ceiling (docs/benchmarks/2026-12-03-node.md, "Fifth session");
    /// nine prefetches outstanding per branch plausibly crowd out the walk's own misses.
    /// </summary>
    public void PrefetchMetadata(in Hash256 hash) => PrefetchSet(hash, Kind.Interior);

    /// <summary>
    /// The second step of a prefetch, for a hash whose metadata line <see cref="PrefetchMetadata(in Hash256)"/> asked for a little
    /// earlier: reads the set's tags and starts loading the slot whose tag matches, or, when no interior way matches
    /// (most likely a leaf), the metadata line of the leaf set. A lookup that follows then misses on nothing, or on one
    /// line of a leaf.
    /// </summary>
    public void PrefetchEntry(in Hash256 hash)
    {
        if (SlotOf(hash, Kind.Interior, orVictim: false) is >= 0 and var index)
        {
            PrefetchSlotAt(Kind.Interior, index, pageLines: null);
        }
        else
        {
            PrefetchSet(hash, Kind.Leaf);
        }
    }

    /// <summary>An interior node's children, copied out of the table (no node object).</summary>
    public bool TryGetInterior(in Hash256 hash, out Hash256 left, out Hash256 right)
    {
        var found = TryGetInteriorIn(hash, out left, out right);
        GC.KeepAlive(this); // the table's memory is released by its finalizer: keep it reachable until read
        return found;
    }

    private bool TryGetInteriorIn(in Hash256 hash, out Hash256 left, out Hash256 right)
    {
        if (!_holdsInterior)
        {
            (left, right) = (default, default);
            return false;
        }

        var set = SetOf(hash, _interiorMask);
        var meta = set << MetaShift;
        var tag = TagOf(hash);
        for (var way = 0; way < Ways; way++)
        {
            if (Volatile.Read(ref _interiorMeta[meta + way]) != tag)
            {
                continue; // not this way's node (or being written: a cache may miss)
            }

            ref var slot = ref _interior[set + way];
            for (var attempt = 0; attempt < 4; attempt++)
            {
                var version = Volatile.Read(ref slot.Version);
                if ((version & 1) != 0)
                {
                    continue; // being written
                }

                var key = slot.Hash;
                left = slot.Left;
                right = slot.Right;

                // The copy is read before the version is read again: a read barrier is all a reader needs (on x86 no
                // instruction; the full fence it replaces was a locked instruction on every way read).
                Volatile.ReadBarrier();
                if (Volatile.Read(ref slot.Version) != version)
                {
                    continue; // overwritten while copied: read again
                }

                if (key != hash || version == 0)
                {
                    break; // not here: the other way
                }

                _interiorMeta[meta + StampOffset + way] = (uint)_clock;
                return true;
            }
        }

        left = default;
        right = default;
        return false;
    }

    private void AddInterior(in Hash256 hash, in Hash256 left, in Hash256 right)
    {
        if (!_holdsInterior)
        {
            _holdsInterior = true;
        }

        var set = SetOf(hash, _interiorMask);
        var meta = set << MetaShift;
        var tag = TagOf(hash);
        for (var w = 0; w < Ways; w++)
        {
            if (Volatile.Read(ref _interiorMeta[meta + w]) == tag && Volatile.Read(ref _interior[set + w].Version) != 0 && _interior[set + w].Hash == hash)
            {
                return; // content-addressed: the same hash is the same node (a torn read here only costs a second insert)
            }
        }

        var way = Victim(ref _interiorMeta[meta]);
        ref var slot = ref _interior[set + way];
        var version = Volatile.Read(ref slot.Version);
        if ((version & 1) != 0 || Interlocked.CompareExchange(ref slot.Version, version + 1, version) != version)
        {
            return; // another thread writes this slot now: a cache may skip an insert
        }

        slot.Hash = hash;
        slot.Left = left;
        slot.Right = right;
        _interiorMeta[meta + way] = tag;
        _interiorMeta[meta + StampOffset + way] = (uint)Interlocked.Increment(ref _clock);
        Volatile.Write(ref slot.Version, version + 2);
    }

    private void AddLeaf(in Hash256 hash, StateLeafNode node)
    {
        var set = SetOf(hash, _leafMask);
        var meta = set << MetaShift;
        var tag = TagOf(hash);
        for (var w = 0; w < Ways; w++)
        {
            if (Volatile.Read(ref _leafMeta[meta + w]) == tag && Volatile.Read(ref _leaves[set + w].Version) != 0 && _leaves[set + w].Hash == hash)
            {
                return; // content-addressed: the same hash is the same node (a torn read here only costs a second insert)
            }
        }

        var way = Victim(ref _leafMeta[meta]);
        ref var slot = ref _leaves[set + way];
        var version = Volatile.Read(ref slot.Version);
        if ((version & 1) != 0 || Interlocked.CompareExchange(ref slot.Version, version + 1, version) != version)
        {
            return; // another thread writes this slot now: a cache may skip an insert
        }

        var grows = (long)node.Value.Length - (Volatile.Read(ref _leafValues[set + way])?.Length ?? 0);
        if (grows > 0 && Interlocked.Read(ref _leafValueBytes) + grows > Volatile.Read(ref _leafValueBudget))
        {
            Volatile.Write(ref slot.Version, version); // nothing written: the slot as it was
            return; // the values are at their bound: this leaf is read from its batch or the store
        }

        slot.Hash = hash;
        slot.Key = node.Key;
        SwapLeafValue(set + way, node.Value);
        _leafMeta[meta + way] = tag;
        _leafMeta[meta + StampOffset + way] = (uint)Interlocked.Increment(ref _clock);
        Volatile.Write(ref slot.Version, version + 2);
    }

    /// <summary>A page copied out of its slot as a new (short-lived) page object.</summary>
    private bool TryGetPageIn(in Hash256 hash, [NotNullWhen(true)] out StatePageNode? page)
    {
        Span<Hash256> hashes = stackalloc Hash256[StatePageNode.SlotCount + StatePageNode.SlotCount - 1];
        if (!TryCopyPage(hash, hashes, out var occupied, out var leaves, out var interiorMask, out var childCount, out var count))
        {
            page = null;
            return false;
        }

        page = StatePageNode.FromParts(occupied, leaves, interiorMask, hashes[..childCount].ToArray(), hashes[childCount..count].ToArray());
        return true;
    }

    /// <summary>A page spread from its slot into the caller's buffers (<see cref="IStateNodeStore.TryReadPage"/>), no object made.</summary>
    public bool TryReadPage(in Hash256 hash, Span<Hash256> slots, Span<Hash256> inner, out ushort leaves)
    {
        Span<Hash256> hashes = stackalloc Hash256[StatePageNode.SlotCount + StatePageNode.SlotCount - 1];
        var found = TryCopyPage(hash, hashes, out var occupied, out leaves, out var interiorMask, out var childCount, out var count);
        if (found)
        {
            StatePageNode.Expand(occupied, interiorMask, hashes[..childCount], hashes[childCount..count], slots, inner);
        }

        GC.KeepAlive(this); // the table's memory is released by its finalizer: keep it reachable until read
        return found;
    }

    /// <summary>
    /// The stored form of the page of <paramref name="hash"/> (its occupied slots' hashes, then its kept interior hashes)
    /// copied out of its slot under the slot's version: a copy a writer overwrote meanwhile is read again.
    /// </summary>
    private bool TryCopyPage(in Hash256 hash, Span<Hash256> hashes, out ushort occupied, out ushort leaves, out int interiorMask, out int childCount, out int count)
    {
        var set = SetOf(hash, _pageMask);
        var meta = set << MetaShift;
        var tag = TagOf(hash);
        for (var way = 0; way < Ways; way++)
        {
            if (Volatile.Read(ref _pageMeta[meta + way]) != tag)
            {
                continue;
            }

            ref var slot = ref _pages[set + way];
            for (var attempt = 0; attempt < 4; attempt++)
            {
                var version = Volatile.Read(ref slot.Version);
                if ((version & 1) != 0)
                {
                    continue; // being written
                }

                var key = slot.Hash;
                (occupied, leaves) = (slot.Occupied, slot.Leaves);
                interiorMask = StatePageNode.InteriorMask(occupied, leaves);
                childCount = BitOperations.PopCount(occupied);
                count = childCount + BitOperations.PopCount((uint)interiorMask);
                if (key != hash || version == 0 || count > hashes.Length)
                {
                    if (Volatile.Read(ref slot.Version) != version)
                    {
                        continue; // torn: read again
                    }

                    break; // not here: the other way
                }

                ((ReadOnlySpan<Hash256>)slot.Hashes)[..count].CopyTo(hashes);
                Volatile.ReadBarrier();
                if (Volatile.Read(ref slot.Version) != version)
                {
                    continue; // overwritten while copied: read again
                }

                _pageMeta[meta + StampOffset + way] = (uint)_clock;
                return true;
            }
        }

        (occupied, leaves, interiorMask, childCount, count) = (0, 0, 0, 0, 0);
        return false;
    }

    private void AddPage(in Hash256 hash, StatePageNode page)
    {
        if (!page.HasInterior)
        {
            return; // a page whose inner hashes were never computed is not worth a slot (the store's copy is checked when read)
        }

        var set = SetOf(hash, _pageMask);
        var meta = set << MetaShift;
        var tag = TagOf(hash);
        for (var w = 0; w < Ways; w++)
        {
            if (Volatile.Read(ref _pageMeta[meta + w]) == tag && Volatile.Read(ref _pages[set + w].Version) != 0 && _pages[set + w].Hash == hash)
            {
                return; // content-addressed: the same hash is the same node
            }
        }

        var way = Victim(ref _pageMeta[meta]);
        ref var slot = ref _pages[set + way];
        var version = Volatile.Read(ref slot.Version);
        if ((version & 1) != 0 || Interlocked.CompareExchange(ref slot.Version, version + 1, version) != version)
        {
            return; // another thread writes this slot now: a cache may skip an insert
        }

        slot.Hash = hash;
        (slot.Occupied, slot.Leaves) = (page.Occupied, page.Leaves);
        page.CopyHashesTo(slot.Hashes);
        _pageMeta[meta + way] = tag;
        _pageMeta[meta + StampOffset + way] = (uint)Interlocked.Increment(ref _clock);
        Volatile.Write(ref slot.Version, version + 2);
    }

    private bool RemovePage(in Hash256 hash)
    {
        var set = SetOf(hash, _pageMask);
        var meta = set << MetaShift;
        var tag = TagOf(hash);
        for (var way = 0; way < Ways; way++)
        {
            if (Volatile.Read(ref _pageMeta[meta + way]) != tag)
            {
                continue;
            }

            ref var slot = ref _pages[set + way];
            var version = Volatile.Read(ref slot.Version);
            if (version == 0 || (version & 1) != 0 || slot.Hash != hash || Interlocked.CompareExchange(ref slot.Version, version + 1, version) != version)
            {
                continue;
            }

            slot.Hash = default;
            _pageMeta[meta + way] = 0; // empty: the next insert into the set takes it first
            Volatile.Write(ref slot.Version, version + 2);
            return true;
        }

        return false;
    }

    /// <summary>The way an insert takes, from the set's metadata: the first empty one, else the one unused longest.</summary>
    private int Victim(ref uint meta)
    {
        var now = (uint)Volatile.Read(ref _clock);
        var way = 0;
        var oldest = 0u;
        for (var w = 0; w < Ways; w++)
        {
            if (Unsafe.Add(ref meta, w) == 0)
            {
                return w;
            }

            var age = now - Unsafe.Add(ref meta, StampOffset + w);
            if (age > oldest)
            {
                (oldest, way) = (age, w);
            }
        }

        return way;
    }

    private static int SetOf(in Hash256 hash, int mask) => (int)(BinaryPrimitives.ReadUInt64LittleEndian(hash.Bytes) & (uint)mask) << WayShift;

    // Bits the set index never uses (it takes at most 28 bits of the first eight bytes); never 0, which marks an empty way.
    private static uint TagOf(in Hash256 hash) => BinaryPrimitives.ReadUInt32LittleEndian(hash.Bytes[8..]) | 1;

    /// <summary>An interior node by value. Version: 0 never written, odd while being written, even and non-zero when whole.</summary>
    private struct InteriorSlot
    {
        public int Version;
        public Hash256 Hash;
        public Hash256 Left;
        public Hash256 Right;
    }

    /// <summary>A page by value: its slots' hashes then its kept interior hashes (31 at most); Version as for <see cref="InteriorSlot"/>.</summary>
    private struct PageSlot
    {
        public int Version;
        public ushort Occupied;
        public ushort Leaves;
        public Hash256 Hash;
        public PageHashes Hashes;
    }

    [InlineArray(StatePageNode.SlotCount + StatePageNode.SlotCount - 1)]
    private struct PageHashes
    {
        private Hash256 _element;
    }

    /// <summary>A leaf's hash and key by value (its value array is in the table beside); Version as for <see cref="InteriorSlot"/>.</summary>
    private struct LeafSlot
    {
        public int Version;
        public Hash256 Hash;
        public Hash256 Key;
    }
}
