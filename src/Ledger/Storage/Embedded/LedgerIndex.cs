using System.Buffers.Binary;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>Where a committed block's record is and what the store answers about it without reading it.</summary>
internal readonly record struct BlockEntry(
    RecordPosition Record,
    int RecordLength,
    Hash256 Hash,
    Hash256 Parent,
    long Timestamp,
    int TransactionCount,
    long FirstHistoryIndex,
    BlockLayout Layout)
{
    public RecordPosition End => Record with { Offset = Record.Offset + RecordLength };
}

/// <summary>Reads the store's segments for the index: what pruning and node de-duplication need from disk.</summary>
internal interface IIndexDiskReader
{
    /// <summary>The hash stored just before the state node at <paramref name="position"/> (see <see cref="StateNodeLocator.Pack"/>).</summary>
    Hash256 StateNodeHashAt(long position);

    /// <summary>The stale-node list of the committed block at <paramref name="entry"/>.</summary>
    Hash256[] StaleNodesOf(BlockEntry entry);
}

/// <summary>Where a committed transaction's bytes are.</summary>
internal readonly record struct TxEntry(long Height, int IndexInBlock, long HistoryIndex, int Segment, long Offset, int Length);

/// <summary>
/// Everything the embedded store answers without scanning the segments: the block list and the state-node locator in
/// memory; the transaction index, the state at the head, the history-tree nodes and the projections in on-disk
/// <see cref="IndexTable"/>s (sorted runs written at snapshot time, plus the changes since in memory). It is derived
/// data: replaying the segments rebuilds it, and a snapshot saves it so that only the tail needs replaying. Not
/// thread-safe; the store serialises access.
/// </summary>
internal sealed partial class LedgerIndex
{
    // How many nodes ahead the block's locator puts ask for their slot (a random line of a table of tens of MB each).
    private const int LocatorPrefetchDistance = 8;

    private readonly BlockList _blocks = new();
    private readonly Dictionary<Hash256, long> _heightByHash = [];
    private readonly IndexTable _transactions = new("transactions");
    private readonly IndexTable _state = new("state");
    private readonly IndexTable _historyNodes = new("history");

    public LedgerIndex()
    {
        CreditRecords = CreditRecordTable(new IndexTable("credit-records"));
        LicenceVersions = new(new IndexTable("licence-versions"), r => LicenceVersionKey(r.Identifier, r.Version), ProjectionCodec.Write, ProjectionCodec.ReadLicence, r => r.Identifier);
        LatestLicences = new(new IndexTable("latest-licences"), r => r.Identifier, ProjectionCodec.Write, ProjectionCodec.ReadLicence, r => r.HolderCode);
        ListEntries = new(new IndexTable("list-entries"), r => r.EntryId, ProjectionCodec.Write, ProjectionCodec.ReadListEntry, r => r.Subject);
        Memoranda = new(new IndexTable("memoranda"), r => r.MemorandumId, ProjectionCodec.Write, ProjectionCodec.ReadMemorandum);
        MeasureApplications = new(new IndexTable("measure-applications"), r => r.ApplicationId, ProjectionCodec.Write, ProjectionCodec.ReadMeasureApplication,
            r => r.Subject, r => r.MemorandumId);
        Tables = [_transactions, _state, _historyNodes, CreditRecords.Table, LicenceVersions.Table, LatestLicences.Table, ListEntries.Table,
            Memoranda.Table, MeasureApplications.Table];
    }

    /// <summary>The credit-record projection over <paramref name="table"/>: rows by record id, secondary key 0 the subject.</summary>
    internal static ProjectionTable<CreditRecordRow> CreditRecordTable(IndexTable table) =>
        new(table, r => r.RecordId, ProjectionCodec.Write, ProjectionCodec.ReadCreditRecord, r => r.Subject);

    /// <summary>The on-disk tables, in the order a snapshot lists them.</summary>
    public IReadOnlyList<IndexTable> Tables { get; }

    public ProjectionTable<CreditRecordRow> CreditRecords { get; }

    /// <summary>Every licence version, by "identifier\nversion"; secondary key 0 is the identifier.</summary>
    public ProjectionTable<LicenceRow> LicenceVersions { get; }

    /// <summary>The latest version of each licence, by identifier; secondary key 0 is the holder.</summary>
    public ProjectionTable<LicenceRow> LatestLicences { get; }

    public ProjectionTable<ListEntryRow> ListEntries { get; }

    public ProjectionTable<MemorandumRow> Memoranda { get; }

    /// <summary>Secondary key 0 is the subject, 1 the memorandum.</summary>
    public ProjectionTable<MeasureApplicationRow> MeasureApplications { get; }

    public StoreHead? Head { get; private set; }

    // A manifest names at most this many locator files (one base and the deltas after it).
    private const int MaxLocatorRuns = 64;

    /// <summary>
    /// A store that keeps every state version reads its locator from a sorted base once it holds more entries than this
    /// (below, the whole locator in memory costs less than 100 MB); and below this many changes since the sorted base, the
    /// next snapshot writes a delta whatever the base's size: a new base rewrites every entry (on the load tool's chain,
    /// ~1 s of the snapshot thread for 4.5 million entries beside a loaded node), a delta only the changes. A restart
    /// replays at most this many changes beyond a quarter of the base.
    /// </summary>
    internal const int DefaultChangesBeforeNewBase = 1 << 22;

    // The locator's change log holds at most this many changes (24 bytes each, 96 MiB): far more than a snapshot
    // interval's (a state node takes ~100 bytes of segment, so 256 MB of segments hold ~2.7 million at most).
    private const int LocatorLogLimit = 1 << 22;

    private StateNodeLocator? _spareLocator;

    // The locator files of the installed snapshot, base first (none: the next snapshot writes a base).
    private IReadOnlyList<LocatorRunFile.Reference> _locatorRuns = [];

    /// <summary>See <see cref="DefaultChangesBeforeNewBase"/> (the store sets it from its options).</summary>
    public int ChangesBeforeNewBase { get; set; } = DefaultChangesBeforeNewBase;

    /// <summary>Where every retained state-tree node is in the segments.</summary>
    public StateNodeLocator StateNodes { get; private set; } = new();

    /// <summary>State versions below this height have been pruned (0: none).</summary>
    public long StateRetainedFrom { get; private set; }

    public int BlockCount => _blocks.Count;

    /// <summary>
    /// What a manifest at the head needs besides the tables' runs, captured for a snapshot written in the background
    /// (the caller holds the writer, so the index does not move): the block entries are shared (they are appended to,
    /// never changed); of the state-node locator, the changes since the last snapshot when the locator recorded them all
    /// (<see cref="LocatorRunFile"/>: a delta), else the locator's tables from which the snapshot writes a new base: for
    /// a sorted base the tables themselves, frozen (<see cref="StateNodeLocator.Freeze"/>; the writer goes on in fresh
    /// ones), for a base in table order a copy (sharing the base, if any; into the previous copy when
    /// <see cref="ReturnLocatorCopy"/> handed it back and the tables have not grown since). Also a base when there are too
    /// many deltas, or the log was not kept.
    /// <para>
    /// Which base, and when: a store that keeps every state version and whose locator holds more than
    /// <see cref="ChangesBeforeNewBase"/> entries writes <em>sorted</em> bases, read in place (<see cref="LocatorBase"/>),
    /// and its locator moves onto each (<see cref="MoveLocatorOnto"/>), keeping in memory only the changes since. A new one
    /// is written when those changes (the deltas' and the log's) pass a quarter of the base and at least
    /// <see cref="ChangesBeforeNewBase"/>: the tables and a restart's replay stay a fraction of the base, and each entry is
    /// rewritten a bounded number of times as the locator grows. Any other store (a small one, or one that prunes: its
    /// retention floor has moved) keeps its whole locator in memory and writes bases in table order
    /// (<see cref="LocatorRunKind.Base"/>, loaded into memory at a restart) once the files since the last one would
    /// replay more than twice the entries the locator holds. Pruning removes most stale nodes from the base, and a
    /// look-up in a file for each (~2 µs) would cost more than the memory of its live set (a few million entries).
    /// </para>
    /// </summary>
    public ManifestParts CaptureManifest()
    {
        var head = Head ?? throw new InvalidOperationException("an empty store has no snapshot");
        var sorted = StateRetainedFrom == 0 && StateNodes.Count > ChangesBeforeNewBase;
        var changes = _locatorRuns.Where(run => !run.IsBase).Sum(run => run.Count) + StateNodes.LoggedChanges;
        var baseEntries = _locatorRuns.Count > 0 && _locatorRuns[0].IsBase ? _locatorRuns[0].Count : 0;
        var deltaWillDo = sorted
            ? _locatorRuns.Count > 0 && _locatorRuns[0].Kind == LocatorRunKind.SortedBase && changes <= Math.Max(ChangesBeforeNewBase, baseEntries / 4)
            : baseEntries + changes <= 2L * Math.Max(StateNodes.Count, 1);
        LocatorCapture locator;
        if (StateNodes.IsLogging && _locatorRuns.Count is > 0 and < MaxLocatorRuns && deltaWillDo)
        {
            locator = new LocatorCapture(null, StateNodes.TakeLog(), _locatorRuns, Sorted: false);
        }
        else
        {
            // A sorted base is written from the tables frozen as they are (the writer goes on in fresh ones); a base in
            // table order, which a small or pruning store writes often, from a copy (into the previous one, kept).
            locator = sorted
                ? new LocatorCapture(StateNodes.Freeze(), null, [], Sorted: true)
                : new LocatorCapture(StateNodes.Copy(Interlocked.Exchange(ref _spareLocator, null)), null, [], Sorted: false);
            StateNodes.StartLog(LocatorLogLimit);
        }

        return new(head, _blocks.Frozen(), StateRetainedFrom, locator);
    }

    /// <summary>
    /// The locator files of an installed snapshot (the caller holds the writer and the readers' lock): the next snapshot
    /// writes the changes after them.
    /// </summary>
    public void InstallLocatorRuns(IReadOnlyList<LocatorRunFile.Reference> runs) => _locatorRuns = runs;

    /// <summary>
    /// Moves the locator onto the sorted base an installed snapshot wrote (the caller holds the writer and the readers'
    /// lock): its tables then hold only the changes since that snapshot. False (the locator takes its frozen tables back)
    /// when it did not keep its changes since the snapshot froze them; it then goes on over its old base, and the next
    /// snapshot writes a base.
    /// </summary>
    public bool MoveLocatorOnto(LocatorBase newBase)
    {
        if (!StateNodes.IsLogging)
        {
            StateNodes.Thaw();
            return false;
        }

        StateNodes = StateNodes.Rebased(newBase);
        return true;
    }

    /// <summary>
    /// A snapshot whose locator file was not installed (the caller holds the writer and the readers' lock): the changes it
    /// took are not on disk, so the next snapshot writes every entry again.
    /// </summary>
    public void ForgetLocatorChanges()
    {
        StateNodes.StopLog();
        StateNodes.Thaw();
    }

    /// <summary>
    /// Hands back a capture's locator copy, if it took one, once its manifest is written (from the snapshot's thread).
    /// A copy a table-order base was written from is kept for the next capture to copy into: such a store writes bases
    /// often, and a fresh copy faults in and zeroes every page of its tables (tables that have grown since get new
    /// arrays). A sorted base is written from the locator's frozen tables, not a copy: they stay the locator's, read by it
    /// until it moves onto the new base (<see cref="MoveLocatorOnto"/>) or takes them back (<see cref="ForgetLocatorChanges"/>).
    /// Until 2026-12-05 a sorted base was written from a copy too, ~130 MiB beside the tables of a writing
    /// 1,000,000-transaction node while the base was written, and the copy into fresh tables stalled the writer ~175 ms
    /// (docs/node.md, "Memory").
    /// </summary>
    public void ReturnLocatorCopy(LocatorCapture capture)
    {
        if (capture.Base is { } copy && !capture.Sorted)
        {
            Volatile.Write(ref _spareLocator, copy);
        }
    }

    /// <summary>Whether a captured locator copy was handed back for the next capture to copy into.</summary>
    public bool HasSpareLocatorCopy => Volatile.Read(ref _spareLocator) is not null;

    public BlockEntry? Block(long height) => height >= 0 && height < _blocks.Count ? _blocks[(int)height] : null;

    public long? HeightOf(Hash256 blockHash) => _heightByHash.TryGetValue(blockHash, out var height) ? height : null;

    public TxEntry? Transaction(Hash256 txHash) => _transactions.Get(txHash) is { } bytes ? DecodeTx(bytes) : null;

    public bool ContainsTransaction(Hash256 txHash) => _transactions.Contains(txHash);

    /// <summary>The <c>state</c> table's entry for <paramref name="key"/>: a <see cref="StoredStateValue"/> to resolve, or null when absent.</summary>
    public byte[]? State(Hash256 key) => _state.Get(key);

    /// <summary>The state at this moment, in key order, as <see cref="StoredStateValue"/>s, to enumerate outside the store's lock (dispose it after).</summary>
    public TableView StateView() => _state.View();

    public Hash256? HistoryNode(int level, long index) =>
        level is >= 0 and < 64 && index >= 0 && _historyNodes.Get(NodeKey(level, index)) is { Length: Hash256.Size } hash ? new Hash256(hash) : null;

    /// <summary>Releases the tables' files.</summary>
    public void Close()
    {
        foreach (var table in Tables)
        {
            table.Close();
        }
    }

    /// <summary>
    /// Adds a committed block whose record sits at <paramref name="record"/>; <paramref name="txByteOffsets"/> say where
    /// each transaction's bytes start in the record's payload, <paramref name="valueOffsets"/> where each state write's
    /// value does (the <c>state</c> table keeps a reference to it, see <see cref="StoredStateValue"/>).
    /// </summary>
    public void Apply(BlockCommit block, RecordPosition record, int recordLength, BlockLayout layout, ReadOnlySpan<int> txByteOffsets,
        ReadOnlySpan<int> valueOffsets, ReadOnlySpan<int> nodeOffsets, IIndexDiskReader disk)
    {
        var firstHistoryIndex = Head?.HistorySize ?? 0;
        _blocks.Add(new BlockEntry(record, recordLength, block.BlockHash, block.ParentHash, block.Timestamp,
            block.Transactions.Count, firstHistoryIndex, layout));
        _heightByHash[block.BlockHash] = block.Height;

        var payloadStart = record.Offset + RecordFraming.HeaderSize;
        for (var i = 0; i < block.Transactions.Count; i++)
        {
            var tx = block.Transactions[i];
            _transactions.Put(tx.TxHash, EncodeTx(new TxEntry(block.Height, i, tx.HistoryIndex, record.Segment, payloadStart + txByteOffsets[i], tx.Bytes.Length)));
        }

        for (var i = 0; i < block.StateWrites.Count; i++)
        {
            var write = block.StateWrites[i];
            _state.Put(write.Key, StoredStateValue.Of(write.Value, record.Segment, payloadStart + valueOffsets[i]));
        }

        foreach (var node in block.HistoryNodes)
        {
            _historyNodes.Put(NodeKey(node.Level, node.Index), node.Hash.ToArray());
        }

        ApplyProjections(block.Projections);
        Head = BlockCommitRules.HeadAfter(block, Head);

        for (var i = 0; i < block.StateNodes.Count; i++)
        {
            if (i + LocatorPrefetchDistance < block.StateNodes.Count)
            {
                StateNodes.Prefetch(block.StateNodes[i + LocatorPrefetchDistance].Hash);
            }

            var node = block.StateNodes[i];
            StateNodes.Put(node.Hash, StateNodeLocator.Pack(record.Segment, payloadStart + nodeOffsets[i]), (Disk: disk, node.Hash), static (s, at) => s.Disk.StateNodeHashAt(at) == s.Hash);
        }

        Prune(block, disk);
    }

    /// <summary>
    /// Drops from the locator the nodes of state versions below the block's retention floor: every node a block in
    /// (old floor, new floor] made stale, unless a block at or after that one created it again. The bytes stay in the
    /// segments (they are never rewritten); only the versions stop being readable.
    /// </summary>
    private void Prune(BlockCommit block, IIndexDiskReader disk)
    {
        var floor = Math.Min(block.StateRetainedFrom, block.Height);
        for (var height = StateRetainedFrom + 1; height <= floor; height++)
        {
            var stale = height == block.Height ? [.. block.StaleStateNodes] : disk.StaleNodesOf(_blocks[(int)height]);
            var staleAt = height;
            foreach (var hash in stale)
            {
                StateNodes.Remove(hash, at => HeightOfPosition(at) < staleAt && (StateNodeCandidates(hash) == 1 || disk.StateNodeHashAt(at) == hash));
            }
        }

        StateRetainedFrom = Math.Max(StateRetainedFrom, floor);
    }

    private int StateNodeCandidates(in Hash256 hash)
    {
        Span<long> found = stackalloc long[4];
        return StateNodes.Candidates(hash, found);
    }

    /// <summary>The height of the block whose record holds <paramref name="position"/>.</summary>
    public long HeightOfPosition(long position)
    {
        var (segment, offset) = StateNodeLocator.Unpack(position);
        int low = 0, high = _blocks.Count - 1;
        while (low < high)
        {
            var mid = (low + high + 1) >>> 1;
            var record = _blocks[mid].Record;
            if (record.Segment < segment || (record.Segment == segment && record.Offset <= offset))
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }

        return low;
    }

    private void ApplyProjections(ProjectionRows rows)
    {
        foreach (var row in rows.CreditRecords)
        {
            CreditRecords.Upsert(row);
        }

        foreach (var row in rows.Licences)
        {
            UpsertLicence(row);
        }

        foreach (var row in rows.ListEntries)
        {
            ListEntries.Upsert(row);
        }

        foreach (var row in rows.Memoranda)
        {
            Memoranda.Upsert(row);
        }

        foreach (var row in rows.MeasureApplications)
        {
            MeasureApplications.Upsert(row);
        }
    }

    private void UpsertLicence(LicenceRow row)
    {
        LicenceVersions.Upsert(row);
        if (LatestLicences.Get(row.Identifier) is not { } latest || row.Version >= latest.Version)
        {
            LatestLicences.Upsert(row);
        }
    }

    private static string LicenceVersionKey(string identifier, int version) => string.Concat(identifier, "\n", version.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// Level in the low 6 bits, index above (unique for every node of a tree with fewer than 2^57 leaves), big-endian
    /// in the key's first 8 bytes so that nodes sort by position.
    /// </summary>
    private static Hash256 NodeKey(int level, long index)
    {
        Span<byte> key = stackalloc byte[Hash256.Size];
        key.Clear();
        BinaryPrimitives.WriteInt64BigEndian(key, (index << 6) | (uint)level);
        return new Hash256(key);
    }

    private static byte[] EncodeTx(in TxEntry tx)
    {
        var bytes = new byte[36];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt64LittleEndian(span, tx.Height);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], tx.IndexInBlock);
        BinaryPrimitives.WriteInt64LittleEndian(span[12..], tx.HistoryIndex);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], tx.Segment);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], tx.Offset);
        BinaryPrimitives.WriteInt32LittleEndian(span[32..], tx.Length);
        return bytes;
    }

    private static TxEntry DecodeTx(byte[] bytes)
    {
        if (bytes.Length != 36)
        {
            throw new StoreCorruptedException($"a transaction index entry has {bytes.Length} bytes, not 36");
        }

        var span = bytes.AsSpan();
        return new TxEntry(BinaryPrimitives.ReadInt64LittleEndian(span), BinaryPrimitives.ReadInt32LittleEndian(span[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[12..]), BinaryPrimitives.ReadInt32LittleEndian(span[20..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[24..]), BinaryPrimitives.ReadInt32LittleEndian(span[32..]));
    }
}

/// <summary>The parts of a snapshot manifest other than the tables' run lists, as of one head.</summary>
internal sealed record ManifestParts(StoreHead Head, ArraySegment<BlockEntry> Blocks, long StateRetainedFrom, LocatorCapture Locator);

/// <summary>
/// The state-node locator as a snapshot captured it: every entry (<paramref name="Base"/>: a copy for a base in table
/// order, the locator's frozen tables for a <paramref name="Sorted"/> one), or the changes since the installed
/// snapshot's locator files <paramref name="Chain"/> (<paramref name="Delta"/>).
/// </summary>
internal sealed record LocatorCapture(StateNodeLocator? Base, LocatorChangeLog? Delta, IReadOnlyList<LocatorRunFile.Reference> Chain, bool Sorted);

/// <summary>
/// The block entries: an array that only grows (a bigger copy replaces it), so a snapshot in the background can keep
/// reading the entries it captured while blocks are appended.
/// </summary>
internal sealed class BlockList
{
    private BlockEntry[] _items = new BlockEntry[64];

    public int Count { get; private set; }

    public BlockEntry this[int index] => (uint)index < (uint)Count ? _items[index] : throw new ArgumentOutOfRangeException(nameof(index));

    public void Add(in BlockEntry entry)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[Count++] = entry;
    }

    public void EnsureCapacity(int capacity)
    {
        if (capacity > _items.Length)
        {
            Array.Resize(ref _items, capacity);
        }
    }

    /// <summary>The entries so far; later appends never write to them.</summary>
    public ArraySegment<BlockEntry> Frozen() => new(_items, 0, Count);
}
