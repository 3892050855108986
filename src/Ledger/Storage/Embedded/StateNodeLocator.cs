using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Memory;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// Where each persisted state-tree node sits in the segments: open-addressing tables (linear probing) from the first
/// 8 bytes of the node's hash to its packed position (<see cref="Pack"/>), 16 bytes per node, so millions of nodes are
/// located without keeping them in memory. Two nodes whose hashes share 8 bytes (about one chance in 10^6 over ten
/// million nodes) are both kept; a reader tells them apart by reading and re-hashing, which it does anyway.
/// A node's position is in the record of the newest block that created it, which is what pruning compares against.
/// Not thread-safe: the store's lock guards it.
/// </summary>
/// <remarks>
/// The entries live in two layers. The <em>base</em> (optional) is the entries as of the last snapshot that wrote a
/// sorted base file, read in place from that file (<see cref="LocatorBase"/>): it is never changed. The tables here hold
/// what changed since: entries added (and moved) since the base, and for each base entry removed since (pruning) a
/// <em>tombstone</em> (its position with <see cref="Tombstone"/> set) that hides it. A node written again while its
/// entry is in the base gets a second entry here instead of moving the base's (finding it in the base would cost a
/// look-up in the file for every node a block writes, and the same node made again is rare): both locate the same bytes,
/// and pruning removes the older one when its version goes. Once the tables hold more than a quarter of the base, the
/// next snapshot freezes them (<see cref="Freeze"/>: a third layer between fresh tables and the base, read-only, which
/// an entry in is treated like one in the base), writes a new sorted base from them, and the locator moves onto it
/// (<see cref="Rebased"/>: the fresh tables are its tables over the new base).
/// <para>
/// The entries are spread over <see cref="ShardCount"/> tables by the top bits of their mixed prefix, and each table
/// doubles on its own, at its own load (from 0.55 for the first to 0.8 for the last): a growth rehashes one table, a
/// sixteenth of the entries, and the tables' growths fall at different moments. One table doubling at once stalled
/// the block append that crossed its threshold for ~270 ms at four million slots (fresh arrays faulted in, every entry
/// moved), which was the p99 of a loaded node.
/// </para>
/// </remarks>
internal sealed class StateNodeLocator
{
    /// <summary>How many tables the entries are spread over.</summary>
    public const int ShardCount = 16;
    private const int ShardShift = 60; // the top 4 bits of the mixed prefix pick the table
    private const int SegmentShift = 40;

    /// <summary>The bit that marks a table entry as a tombstone of the base entry at the rest of its position.</summary>
    internal const long Tombstone = 1L << 62;

    private readonly Shard[] _shards = new Shard[ShardCount];

    // The tables that take the changes after a Freeze start at this many slots' worth each and grow as they fill.
    private const int FreshShardCapacity = 1 << 12;

    // The entries as of the last sorted base (null: every entry is in the tables).
    private LocatorBase? _base;

    // The tables as of a snapshot that is writing a new sorted base from them (Freeze), read-only until the locator
    // moves onto that base (Rebased) or takes them back (Thaw); null otherwise. Between the tables here and the base.
    private StateNodeLocator? _frozen;

    // The changes since the last snapshot's locator run, while one is kept (see StartLog).
    private LocatorChangeLog? _log;

    // The chunks of logs written by snapshots, for the next logs to fill (at most what one log at its limit uses).
    private LocatorChunkPool? _chunkPool;

    public StateNodeLocator(int capacity = 1 << 12)
    {
        for (var i = 0; i < ShardCount; i++)
        {
            _shards[i] = new Shard(capacity / ShardCount, MaxLoadOf(i));
        }
    }

    /// <summary>A locator over <paramref name="base"/>'s entries, with tables sized for <paramref name="capacity"/> changes since it.</summary>
    public StateNodeLocator(LocatorBase @base, int capacity = 1 << 12)
        : this(capacity)
    {
        _base = @base;
        Count = @base.Count;
    }

    private StateNodeLocator(Shard[] shards) => _shards = shards;

    /// <summary>Entries (those of the base that are not removed, and those of the tables).</summary>
    public int Count { get; private set; }

    /// <summary>The sorted base the locator reads under its tables, if any.</summary>
    public LocatorBase? Base => _base;

    /// <summary>Slots the tables use: the entries since the base and the base's tombstones (what a restart replays, and what memory holds).</summary>
    public long TableEntries => _shards.Sum(shard => (long)shard.Count) + (_frozen?.TableEntries ?? 0);

    /// <summary>Whether a snapshot is writing a new sorted base from this locator's tables (<see cref="Freeze"/>).</summary>
    public bool IsFrozen => _frozen is not null;

    /// <summary>
    /// The tables as they are, handed to a snapshot that writes a new sorted base from them on another thread (the
    /// caller holds the writer): they become a read-only layer between fresh tables, which take the changes from here
    /// on, and the base. O(1): no copy, so the writer neither waits for fresh tables of the whole size (~175 ms at four
    /// million entries) nor holds the entries twice while the base is written. The returned locator (the frozen tables
    /// over the same base) is only read, and stays this locator's to release: <see cref="Rebased"/> once the base is
    /// installed, <see cref="Thaw"/> when it is not.
    /// </summary>
    public StateNodeLocator Freeze()
    {
        if (_frozen is not null)
        {
            throw new InvalidOperationException("the locator's tables are already frozen for a snapshot");
        }

        var frozen = new StateNodeLocator((Shard[])_shards.Clone()) { Count = Count, _base = _base };
        for (var i = 0; i < ShardCount; i++)
        {
            _shards[i] = new Shard(FreshShardCapacity, MaxLoadOf(i));
        }

        _frozen = frozen;
        return frozen;
    }

    /// <summary>
    /// Takes the frozen tables back when the base written from them is not installed (the snapshot failed, or the
    /// changes since were not all recorded): the changes made since <see cref="Freeze"/> are folded into them — entries
    /// added, and tombstones that hide a frozen entry removing it — and they are the tables again. The caller holds the
    /// writer and the readers' lock, and the snapshot no longer reads them.
    /// </summary>
    public void Thaw()
    {
        if (_frozen is not { } frozen)
        {
            return;
        }

        for (var i = 0; i < ShardCount; i++)
        {
            var since = _shards[i];
            var into = frozen._shards[i];
            for (var slot = 0; slot < since.Length; slot++)
            {
                if (since.PositionAt(slot) is not (var position and not 0))
                {
                    continue;
                }

                var prefix = since.PrefixAt(slot);
                var mixed = Mix(prefix);
                var hidden = position & ~Tombstone;
                if ((position & Tombstone) == 0 || into.Remove(prefix, mixed, at => at == hidden) == 0)
                {
                    into.AddUnchecked(prefix, mixed, position); // an entry, or the tombstone of a base entry
                }
            }

            since.Dispose();
            _shards[i] = into;
        }

        _frozen = null;
    }

    /// <summary>
    /// An independent copy (for a snapshot written in the background): two table copies a shard, into
    /// <paramref name="reuse"/>'s tables where they are the size of this locator's (an earlier snapshot's copy, handed
    /// back). Fresh tables of tens of megabytes cost more than their copy: every page is faulted in and zeroed by the
    /// kernel.
    /// </summary>
    public StateNodeLocator Copy(StateNodeLocator? reuse = null)
    {
        ThrowIfFrozen();
        var copy = reuse is null || ReferenceEquals(reuse, this) ? new StateNodeLocator(new Shard[ShardCount]) : reuse;
        for (var i = 0; i < ShardCount; i++)
        {
            copy._shards[i] = _shards[i].CopyInto(copy._shards[i]);
        }

        copy.Count = Count;
        copy._base = _base;
        return copy;
    }

    /// <summary>
    /// The locator moved onto <paramref name="newBase"/>, the sorted base a snapshot wrote from this locator's frozen
    /// tables (<see cref="Freeze"/>, when the log started): the tables since hold exactly the changes after them, the
    /// log's, so they become the new locator's tables as they are, the log goes on in it (the next snapshot's delta is
    /// relative to the new base), and the frozen tables are released. O(1). The caller holds every reader off and uses
    /// only the new locator from here on.
    /// </summary>
    public StateNodeLocator Rebased(LocatorBase newBase)
    {
        var log = _log ?? throw new InvalidOperationException("the locator is not recording its changes since the tables the base was written from");
        var frozen = _frozen ?? throw new InvalidOperationException("a locator moves onto a new base written from its frozen tables");
        var moved = new StateNodeLocator((Shard[])_shards.Clone()) { Count = Count, _base = newBase, _log = log, _chunkPool = _chunkPool };
        _log = null;
        _frozen = null;
        frozen.Dispose();
        return moved;
    }

    /// <summary>Releases the tables (no reader may use this locator afterwards).</summary>
    public void Dispose()
    {
        _log?.Dispose();
        _log = null;
        _frozen?.Dispose();
        _frozen = null;
        foreach (var shard in _shards)
        {
            shard.Dispose();
        }
    }

    /// <summary>
    /// Whether the changes since <see cref="StartLog"/> (or the last <see cref="TakeLog"/>) are all recorded, so a snapshot
    /// can write just them (<see cref="LocatorRunFile"/>) instead of every entry. False before the first start, and once
    /// more changes piled up than the log's limit allows: the next snapshot then writes every entry.
    /// </summary>
    public bool IsLogging => _log is not null;

    /// <summary>Chunks of written logs held for the next logs to fill.</summary>
    internal int PooledLogChunks => _chunkPool?.Count ?? 0;

    /// <summary>Changes recorded since the log started or was last taken.</summary>
    public int LoggedChanges => _log?.Count ?? 0;

    /// <summary>Starts recording every change (a fresh log, at most <paramref name="limit"/> changes before it gives up).</summary>
    public void StartLog(int limit)
    {
        _log?.Dispose();
        _chunkPool ??= new LocatorChunkPool(Math.Max(1, limit / LocatorChangeLog.ChunkSize));
        _log = new LocatorChangeLog(limit, _chunkPool);
    }

    /// <summary>Hands over the changes recorded so far and goes on recording into a fresh log of the same limit.</summary>
    public LocatorChangeLog TakeLog()
    {
        var taken = _log ?? throw new InvalidOperationException("the locator is not recording its changes");
        _log = new LocatorChangeLog(taken.Limit, _chunkPool);
        return taken;
    }

    /// <summary>Stops recording (a snapshot that wrote the changes failed, or too many piled up): the next one writes every entry.</summary>
    public void StopLog()
    {
        _log?.Dispose();
        _log = null;
    }

    /// <summary>
    /// Replays one recorded change (loading a snapshot's runs, or moving onto a new base): an addition, a move of the
    /// entry at <see cref="LocatorChange.Previous"/>, or its removal. Throws <see cref="StoreCorruptedException"/> when a
    /// move or a removal finds no such entry.
    /// </summary>
    public void Replay(in LocatorChange change)
    {
        ThrowIfFrozen();
        if (change.Previous == 0)
        {
            AddUnchecked(change.Prefix, change.Position);
            return;
        }

        var mixed = Mix(change.Prefix);
        var shard = _shards[ShardOf(mixed)];
        if (!shard.Replace(change.Prefix, mixed, change.Previous, change.Position))
        {
            // The entry may be the base's: hidden by a tombstone, and the moved entry (if it moved) kept in the tables.
            if (_base is null || !_base.Contains(change.Prefix, change.Previous) || shard.HasTombstone(change.Prefix, mixed, change.Previous))
            {
                throw new StoreCorruptedException($"a state-node locator change names an entry ({change.Prefix:x16} at {change.Previous}) that is not there");
            }

            shard.AddUnchecked(change.Prefix, mixed, change.Previous | Tombstone);
            if (change.Position != 0)
            {
                shard.AddUnchecked(change.Prefix, mixed, change.Position);
                return;
            }
        }

        if (change.Position == 0)
        {
            Count--;
        }
    }

    public static long Pack(int segment, long offset) => ((long)segment << SegmentShift) | offset;

    public static (int Segment, long Offset) Unpack(long position) => ((int)(position >> SegmentShift), position & ((1L << SegmentShift) - 1));

    public static ulong PrefixOf(in Hash256 hash) => BinaryPrimitives.ReadUInt64LittleEndian(hash.Bytes);

    /// <summary>Every position stored under <paramref name="hash"/>'s prefix (almost always zero or one).</summary>
    public int Candidates(in Hash256 hash, Span<long> found)
    {
        var prefix = PrefixOf(hash);
        var mixed = Mix(prefix);
        var shard = _shards[ShardOf(mixed)];
        var count = CandidatesBelow(prefix, mixed, shard, found, shard.Candidates(prefix, mixed, found));
        GC.KeepAlive(this); // a copy's tables are released by their finalizers: keep them reachable until read
        return count;
    }

    // Adds to found (from count) the positions of prefix's entries in the layers below the tables — the frozen tables
    // while a snapshot writes a base from them, then the base — that no layer above hides with a tombstone.
    private int CandidatesBelow(ulong prefix, ulong mixed, Shard shard, Span<long> found, int count)
    {
        if (_frozen is { } frozen)
        {
            var under = frozen._shards[ShardOf(mixed)];
            count = under.Candidates(prefix, mixed, found, count, shard);
            return _base is { } frozenBase
                ? frozenBase.Candidates(prefix, found, count, (Shard: shard, Under: under, Mixed: mixed),
                    static (s, p, at) => s.Shard.HasTombstone(p, s.Mixed, at) || s.Under.HasTombstone(p, s.Mixed, at))
                : count;
        }

        return _base is { } @base
            ? @base.Candidates(prefix, found, count, (Shard: shard, Mixed: mixed), static (s, p, at) => s.Shard.HasTombstone(p, s.Mixed, at))
            : count;
    }

    /// <summary>
    /// Records that node <paramref name="hash"/> is at <paramref name="position"/>. If a node with the same hash is
    /// already located (<paramref name="isSameNode"/> says, given its position), its position moves to the newer one.
    /// </summary>
    public void Put(in Hash256 hash, long position, Func<long, bool> isSameNode) => Put(hash, position, isSameNode, static (same, at) => same(at));

    /// <summary>
    /// As above, with the comparison's state passed in rather than captured: a block appends ~50 nodes per transaction,
    /// and a closure and a delegate each were ~4 KB of garbage per transaction.
    /// </summary>
    public void Put<TState>(in Hash256 hash, long position, TState state, Func<TState, long, bool> isSameNode)
    {
        var prefix = PrefixOf(hash);
        var mixed = Mix(prefix);
        var previous = _shards[ShardOf(mixed)].Put(prefix, mixed, position, state, isSameNode);
        if (previous == 0)
        {
            Count++;
        }

        Record(prefix, position, previous);
    }

    /// <summary>Starts loading the slot <paramref name="hash"/> probes first into the CPU cache (a hint: a loop over a block's nodes asks a few ahead, so the misses overlap).</summary>
    public void Prefetch(in Hash256 hash)
    {
        var mixed = Mix(PrefixOf(hash));
        _shards[ShardOf(mixed)].Prefetch(mixed);
    }

    /// <summary>Adds an entry known to be new (snapshot loading): no comparison with existing entries.</summary>
    public void AddUnchecked(ulong prefix, long position)
    {
        var mixed = Mix(prefix);
        _shards[ShardOf(mixed)].AddUnchecked(prefix, mixed, position);
        Count++;
    }

    /// <summary>Removes the entry of <paramref name="hash"/> whose position <paramref name="select"/> picks; returns whether one was removed.</summary>
    public bool Remove(in Hash256 hash, Func<long, bool> select)
    {
        var prefix = PrefixOf(hash);
        var mixed = Mix(prefix);
        var shard = _shards[ShardOf(mixed)];
        var removed = shard.Remove(prefix, mixed, select);
        if (removed == 0)
        {
            // One of the frozen tables' or the base's, if any (the tables hold none of them): hidden by a tombstone here.
            Span<long> below = stackalloc long[8];
            foreach (var position in below[..CandidatesBelow(prefix, mixed, shard, below, 0)])
            {
                if (select(position))
                {
                    shard.AddUnchecked(prefix, mixed, position | Tombstone);
                    removed = position;
                    break;
                }
            }
        }

        if (removed == 0)
        {
            return false;
        }

        Count--;
        Record(prefix, 0, removed);
        return true;
    }

    private void Record(ulong prefix, long position, long previous)
    {
        if (_log is not null && !_log.TryAdd(new LocatorChange(prefix, position, previous)))
        {
            StopLog(); // more changes than a run of them is worth: the next snapshot writes every entry
        }
    }

    /// <summary>Every entry, the tables' in table order, then the base's that are not removed.</summary>
    public IEnumerable<(ulong Prefix, long Position)> Entries()
    {
        ThrowIfFrozen();
        foreach (var shard in _shards)
        {
            for (var slot = 0; slot < shard.Length; slot++)
            {
                if (shard.PositionAt(slot) is var position and not 0 && (position & Tombstone) == 0)
                {
                    yield return (shard.PrefixAt(slot), position);
                }
            }
        }

        if (_base is { } @base)
        {
            foreach (var (prefix, position) in @base.ReadAll())
            {
                var mixed = Mix(prefix);
                if (!_shards[ShardOf(mixed)].HasTombstone(prefix, mixed, position))
                {
                    yield return (prefix, position);
                }
            }
        }
    }

    /// <summary>
    /// Every entry in (prefix, position) order, for a sorted base: the tables' entries sorted (a few million at most:
    /// a new base is written once they pass a quarter of the base) merged with the base's, read from its file in order,
    /// less those the tombstones (sorted too) hide.
    /// </summary>
    public IEnumerable<(ulong Prefix, long Position)> SortedEntries()
    {
        ThrowIfFrozen();
        var (addedPrefixes, addedPositions, gone) = SortedTableEntries();
        var next = 0;
        var hidden = 0;
        if (_base is { } @base)
        {
            foreach (var (prefix, position) in @base.ReadAll())
            {
                for (; next < addedPrefixes.Length && IsBefore(addedPrefixes[next], addedPositions[next], prefix, position); next++)
                {
                    yield return (addedPrefixes[next], addedPositions[next]);
                }

                while (hidden < gone.Count && IsBefore(gone[hidden].Prefix, gone[hidden].Position, prefix, position))
                {
                    hidden++;
                }

                if (hidden < gone.Count && gone[hidden] == (prefix, position))
                {
                    continue; // removed since the base
                }

                yield return (prefix, position);
            }
        }

        for (; next < addedPrefixes.Length; next++)
        {
            yield return (addedPrefixes[next], addedPositions[next]);
        }
    }

    // Replaying, enumerating and copying read the tables as the whole set of changes since the base: not while some of
    // them are frozen for a snapshot (the store does none of these then; Thaw or Rebased end it).
    private void ThrowIfFrozen()
    {
        if (_frozen is not null)
        {
            throw new InvalidOperationException("the locator's tables are frozen for a snapshot writing a new base");
        }
    }

    private static bool IsBefore(ulong prefix, long position, ulong otherPrefix, long otherPosition) => prefix < otherPrefix || (prefix == otherPrefix && position < otherPosition);

    // The tables' entries and their tombstones (as the base positions they hide), each in (prefix, position) order, in two
    // passes over the tables (a count, then a fill). The entries are spread into 2^16 buckets by the prefix's top bits
    // (hash prefixes are uniform: ~70 a bucket at 4.5 million) and each bucket sorted on its own by prefix (a primitive
    // sort of two arrays), then the rare runs of one prefix by position; the tombstones (none where nothing is pruned)
    // are sorted as they are. One sort of 4.5 million entries, and a count and fill pass each for entries and
    // tombstones, took ~0.6 s of the snapshot thread beside a loaded node.
    private (ulong[] Prefixes, long[] Positions, List<(ulong Prefix, long Position)> Tombstones) SortedTableEntries()
    {
        const int BucketShift = 48;
        var starts = new int[(1 << (64 - BucketShift)) + 1];
        foreach (var shard in _shards)
        {
            for (var slot = 0; slot < shard.Length; slot++)
            {
                if (shard.PositionAt(slot) is var position and not 0 && (position & Tombstone) == 0)
                {
                    starts[(int)(shard.PrefixAt(slot) >> BucketShift) + 1]++;
                }
            }
        }

        for (var b = 1; b < starts.Length; b++)
        {
            starts[b] += starts[b - 1];
        }

        var count = starts[^1];
        var prefixes = GC.AllocateUninitializedArray<ulong>(count);
        var positions = GC.AllocateUninitializedArray<long>(count);
        var tombstones = new List<(ulong Prefix, long Position)>();
        var next = starts[..^1];
        foreach (var shard in _shards)
        {
            for (var slot = 0; slot < shard.Length; slot++)
            {
                if (shard.PositionAt(slot) is not (var position and not 0))
                {
                    continue;
                }

                var prefix = shard.PrefixAt(slot);
                if ((position & Tombstone) != 0)
                {
                    tombstones.Add((prefix, position & ~Tombstone));
                    continue;
                }

                var at = next[(int)(prefix >> BucketShift)]++;
                prefixes[at] = prefix;
                positions[at] = position;
            }
        }

        GC.KeepAlive(this);
        for (var b = 0; b + 1 < starts.Length; b++)
        {
            if (starts[b + 1] - starts[b] > 1)
            {
                Array.Sort(prefixes, positions, starts[b], starts[b + 1] - starts[b]);
            }
        }

        for (var run = 0; run < count;)
        {
            var end = run + 1;
            while (end < count && prefixes[end] == prefixes[run])
            {
                end++;
            }

            if (end - run > 1)
            {
                Array.Sort(positions, run, end - run);
            }

            run = end;
        }

        tombstones.Sort();
        return (prefixes, positions, tombstones);
    }

    // The first table doubles at 0.55 of its slots, the last at 0.8 (0.675 on average): uniform hashes fill the tables
    // evenly, so equal thresholds would make them all double within the same few blocks.
    private static double MaxLoadOf(int shard) => 0.55 + (0.25 * shard / (ShardCount - 1));

    private static int ShardOf(ulong mixed) => (int)(mixed >> ShardShift);

    // Hash prefixes are already uniform; the mix only guards against crafted or structured keys clustering.
    private static ulong Mix(ulong value)
    {
        value ^= value >> 33;
        value *= 0xFF51AFD7ED558CCDUL;
        value ^= value >> 33;
        return value;
    }

    /// <summary>One open-addressing table, probed linearly from the mixed prefix's low bits.</summary>
    private sealed class Shard
    {
        private readonly double _maxLoad;

        // Outside the GC heap (LargeTable): a table of tens of MB as a large-object array brought the next full
        // collection closer at every growth and every snapshot copy; these are mapped, zero-filled by the kernel, and
        // the grown-out ones unmapped at once. A slot holds its prefix and position side by side (16 bytes, four to a
        // cache line): a probe reads one line, where two tables of prefixes and positions read two far apart.
        private LargeTable<Slot> _slots;
        private int _mask;
        private int _count;

        public Shard(int capacity, double maxLoad)
        {
            _maxLoad = maxLoad;
            var size = 1 << Math.Max(4, (int)Math.Ceiling(Math.Log2(Math.Max(16, capacity / maxLoad))));
            _slots = NewTable(size);
            _mask = size - 1;
        }

        private Shard(Shard other)
        {
            _maxLoad = other._maxLoad;
            _slots = CopyTable(other._slots.Length);
            other.CopyInto(this);
        }

        public int Length => _slots.Length;

        /// <summary>Slots in use (entries and tombstones).</summary>
        public int Count => _count;

        public long PositionAt(int slot) => _slots[slot].Position;

        public ulong PrefixAt(int slot) => _slots[slot].Prefix;

        public Shard CopyInto(Shard? reuse)
        {
            if (reuse is null || reuse._slots.Length != _slots.Length || reuse._maxLoad != _maxLoad)
            {
                return new Shard(this);
            }

            All(_slots).CopyTo(All(reuse._slots));
            reuse._mask = _mask;
            reuse._count = _count;
            return reuse;
        }

        public void Prefetch(ulong mixed) => _slots.Prefetch((int)(mixed & (uint)_mask), 1);

        public int Candidates(ulong prefix, ulong mixed, Span<long> found)
        {
            var count = 0;
            for (var slot = (int)(mixed & (uint)_mask); _slots[slot].Position is var position and not 0; slot = (slot + 1) & _mask)
            {
                if (_slots[slot].Prefix == prefix && (position & Tombstone) == 0 && count < found.Length)
                {
                    found[count++] = position;
                }
            }

            return count;
        }

        /// <summary>
        /// Adds to <paramref name="found"/> (from <paramref name="start"/>) the positions of <paramref name="prefix"/>'s
        /// entries here that <paramref name="over"/> (the tables above these frozen ones) does not hide with a tombstone.
        /// </summary>
        public int Candidates(ulong prefix, ulong mixed, Span<long> found, int start, Shard over)
        {
            var count = start;
            for (var slot = (int)(mixed & (uint)_mask); _slots[slot].Position is var position and not 0; slot = (slot + 1) & _mask)
            {
                if (_slots[slot].Prefix == prefix && (position & Tombstone) == 0 && count < found.Length && !over.HasTombstone(prefix, mixed, position))
                {
                    found[count++] = position;
                }
            }

            return count;
        }

        /// <summary>Whether the base entry (<paramref name="prefix"/>, <paramref name="position"/>) is hidden by a tombstone here.</summary>
        public bool HasTombstone(ulong prefix, ulong mixed, long position)
        {
            var tombstone = position | Tombstone;
            for (var slot = (int)(mixed & (uint)_mask); _slots[slot].Position is var at and not 0; slot = (slot + 1) & _mask)
            {
                if (_slots[slot].Prefix == prefix && at == tombstone)
                {
                    return true;
                }
            }

            return false;
        }

        public void Dispose() => _slots.Dispose();

        /// <summary>Puts an entry; returns 0 when it was added, or the old position of the same node's entry it moved.</summary>
        public long Put<TState>(ulong prefix, ulong mixed, long position, TState state, Func<TState, long, bool> isSameNode)
        {
            var slot = (int)(mixed & (uint)_mask);
            for (; _slots[slot].Position is var existing and not 0; slot = (slot + 1) & _mask)
            {
                if (_slots[slot].Prefix == prefix && (existing & Tombstone) == 0 && isSameNode(state, existing))
                {
                    _slots[slot].Position = position;
                    return existing;
                }
            }

            _slots[slot] = new Slot(prefix, position);
            if (++_count > _slots.Length * _maxLoad)
            {
                Grow();
            }

            return 0;
        }

        public void AddUnchecked(ulong prefix, ulong mixed, long position)
        {
            var slot = (int)(mixed & (uint)_mask);
            while (_slots[slot].Position != 0)
            {
                slot = (slot + 1) & _mask;
            }

            _slots[slot] = new Slot(prefix, position);
            if (++_count > _slots.Length * _maxLoad)
            {
                Grow();
            }
        }

        /// <summary>Removes the entry <paramref name="select"/> picks; returns its position, or 0 when none was picked.</summary>
        public long Remove(ulong prefix, ulong mixed, Func<long, bool> select)
        {
            for (var slot = (int)(mixed & (uint)_mask); _slots[slot].Position is var position and not 0; slot = (slot + 1) & _mask)
            {
                if (_slots[slot].Prefix == prefix && (position & Tombstone) == 0 && select(position))
                {
                    RemoveAt(slot);
                    return position;
                }
            }

            return 0;
        }

        /// <summary>Moves the entry of <paramref name="prefix"/> at <paramref name="from"/> to <paramref name="to"/> (0: removes it); false when there is none.</summary>
        public bool Replace(ulong prefix, ulong mixed, long from, long to)
        {
            for (var slot = (int)(mixed & (uint)_mask); _slots[slot].Position != 0; slot = (slot + 1) & _mask)
            {
                if (_slots[slot].Prefix == prefix && _slots[slot].Position == from)
                {
                    if (to == 0)
                    {
                        RemoveAt(slot);
                    }
                    else
                    {
                        _slots[slot].Position = to;
                    }

                    return true;
                }
            }

            return false;
        }

        // Backward-shift deletion: move later entries of the probe run into the hole so no tombstones are needed.
        private void RemoveAt(int hole)
        {
            _slots[hole].Position = 0;
            _count--;
            for (var slot = (hole + 1) & _mask; _slots[slot].Position != 0; slot = (slot + 1) & _mask)
            {
                var home = (int)(Mix(_slots[slot].Prefix) & (uint)_mask);
                // The entry may fill the hole if its home is not cyclically within (hole, slot].
                var distanceToSlot = (slot - home) & _mask;
                var distanceToHole = (hole - home) & _mask;
                if (distanceToHole < distanceToSlot)
                {
                    _slots[hole] = _slots[slot];
                    _slots[slot].Position = 0;
                    hole = slot;
                }
            }
        }

        // Called a few times in a store's life, each time over millions of slots: compiled optimised at once, not left to a
        // tier-0 body with on-stack replacement (it showed as 4 % of a loaded node's CPU samples that way).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Grow()
        {
            var oldLength = _slots.Length;
            if (_slots.TryGrow(oldLength * 2))
            {
                SplitInPlace(oldLength);
                return;
            }

            // Past the table's reserve (or without one): a new table with a reserve of its own, every entry moved. The
            // old table is read in slot order, so each entry lands near its old slot or its old slot plus the old
            // length: the new table is written in two nearly sequential streams, not at random.
            var old = _slots;
            _slots = NewTable(old.Length * 2);
            _mask = _slots.Length - 1;
            var from = All(old);
            var to = All(_slots);
            var mask = (uint)_mask;
            for (var i = 0; i < from.Length; i++)
            {
                if (from[i].Position != 0)
                {
                    Place(to, from[i], mask); // the count stays: the same entries, in a table of twice the room
                }
            }

            // Only this shard reached it (every reader holds the store's lock, as this growth does).
            old.Dispose();
        }

        /// <summary>
        /// Re-homes the entries of a table just doubled in place (its first <paramref name="oldLength"/> slots hold them,
        /// the rest is empty): each entry stays in its slot or moves to a slot of the new half. Entries are taken out
        /// and placed again in slot order, starting after an empty slot, so an entry never lands past its old slot in
        /// the old half, and no probe run passes over a slot that is emptied later. The run at the very start of the
        /// table may continue a run that wrapped around the old end (its entries' homes are near the old end, now
        /// followed by the new half): it is set aside first and placed last.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void SplitInPlace(int oldLength)
        {
            _mask = _slots.Length - 1;
            var mask = (uint)_mask;
            var table = All(_slots);
            var firstEmpty = 0;
            while (table[firstEmpty].Position != 0)
            {
                firstEmpty++; // there is an empty slot: the load stays below 1
            }

            var setAside = table[..firstEmpty].ToArray();
            table[..firstEmpty].Clear();
            for (var slot = firstEmpty + 1; slot < oldLength; slot++)
            {
                var entry = table[slot];
                if (entry.Position == 0)
                {
                    continue;
                }

                table[slot] = default;
                Place(table, entry, mask);
            }

            foreach (var entry in setAside)
            {
                Place(table, entry, mask);
            }
        }

        private static void Place(Span<Slot> table, in Slot entry, uint mask)
        {
            var slot = (int)(Mix(entry.Prefix) & mask);
            while (table[slot].Position != 0)
            {
                slot = (int)((uint)(slot + 1) & mask);
            }

            table[slot] = entry;
        }

        // Address space for 64 times the slots (at most 2^27 slots, 2 GiB of address space a table, no memory until
        // used): six doublings grow in place before a table is moved.
        private static LargeTable<Slot> NewTable(int length) => new(length, releasedByOwner: true, reserve: (int)Math.Min(1L << 27, (long)length << 6));

        // A snapshot's copy never grows.
        private static LargeTable<Slot> CopyTable(int length) => new(length, releasedByOwner: true);

        private static Span<Slot> All(LargeTable<Slot> table) => table.Slice(0, table.Length);
    }

    /// <summary>An entry: a node hash's first eight bytes and where the node is (0: an empty slot; no record starts at offset 0, a segment begins with its file header).</summary>
    private struct Slot(ulong prefix, long position)
    {
        public ulong Prefix = prefix;
        public long Position = position;
    }
}
