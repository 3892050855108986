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
/// Everything the embedded store answers from memory: the block and transaction indexes, the state at the head, the
/// history-tree nodes and the projections. It is derived data: replaying the segments rebuilds it, and a snapshot
/// saves it so that only the tail needs replaying. Not thread-safe; the store serialises access.
/// </summary>
internal sealed partial class LedgerIndex
{
    private readonly List<BlockEntry> _blocks = [];
    private readonly Dictionary<Hash256, long> _heightByHash = [];
    private readonly Dictionary<Hash256, TxEntry> _transactions = [];
    private readonly Dictionary<Hash256, byte[]> _state = [];
    private readonly Dictionary<long, Hash256> _historyNodes = [];

    public ProjectionTable<CreditRecordRow> CreditRecords { get; } = new(r => r.RecordId, r => r.Subject);

    /// <summary>Every licence version, by "identifier\nversion"; secondary key 0 is the identifier.</summary>
    public ProjectionTable<LicenceRow> LicenceVersions { get; } = new(r => LicenceVersionKey(r.Identifier, r.Version), r => r.Identifier);

    /// <summary>The latest version of each licence, by identifier; secondary key 0 is the holder.</summary>
    public ProjectionTable<LicenceRow> LatestLicences { get; } = new(r => r.Identifier, r => r.HolderCode);

    public ProjectionTable<ListEntryRow> ListEntries { get; } = new(r => r.EntryId, r => r.Subject);

    public ProjectionTable<MemorandumRow> Memoranda { get; } = new(r => r.MemorandumId);

    /// <summary>Secondary key 0 is the subject, 1 the memorandum.</summary>
    public ProjectionTable<MeasureApplicationRow> MeasureApplications { get; } = new(r => r.ApplicationId, r => r.Subject, r => r.MemorandumId);

    public StoreHead? Head { get; private set; }

    /// <summary>Where every retained state-tree node is in the segments.</summary>
    public StateNodeLocator StateNodes { get; private set; } = new();

    /// <summary>State versions below this height have been pruned (0: none).</summary>
    public long StateRetainedFrom { get; private set; }

    public int BlockCount => _blocks.Count;

    public int StateCount => _state.Count;

    public BlockEntry? Block(long height) => height >= 0 && height < _blocks.Count ? _blocks[(int)height] : null;

    public long? HeightOf(Hash256 blockHash) => _heightByHash.TryGetValue(blockHash, out var height) ? height : null;

    public TxEntry? Transaction(Hash256 txHash) => _transactions.TryGetValue(txHash, out var entry) ? entry : null;

    public bool ContainsTransaction(Hash256 txHash) => _transactions.ContainsKey(txHash);

    public byte[]? State(Hash256 key) => _state.GetValueOrDefault(key);

    public StateEntry[] StateEntries() => [.. _state.Select(pair => new StateEntry(pair.Key, pair.Value))];

    public Hash256? HistoryNode(int level, long index) =>
        level is >= 0 and < 64 && index >= 0 && _historyNodes.TryGetValue(NodeKey(level, index), out var hash) ? hash : null;

    /// <summary>
    /// Adds a committed block whose record sits at <paramref name="record"/>; <paramref name="txByteOffsets"/> say where
    /// each transaction's bytes start in the record's payload, and <paramref name="copyValues"/> copies state values
    /// that belong to a caller who may reuse them.
    /// </summary>
    public void Apply(BlockCommit block, RecordPosition record, int recordLength, BlockLayout layout, ReadOnlySpan<int> txByteOffsets,
        ReadOnlySpan<int> nodeOffsets, bool copyValues, IIndexDiskReader disk)
    {
        var firstHistoryIndex = Head?.HistorySize ?? 0;
        _blocks.Add(new BlockEntry(record, recordLength, block.BlockHash, block.ParentHash, block.Timestamp,
            block.Transactions.Count, firstHistoryIndex, layout));
        _heightByHash[block.BlockHash] = block.Height;

        var payloadStart = record.Offset + RecordFraming.HeaderSize;
        for (var i = 0; i < block.Transactions.Count; i++)
        {
            var tx = block.Transactions[i];
            _transactions[tx.TxHash] = new TxEntry(block.Height, i, tx.HistoryIndex, record.Segment, payloadStart + txByteOffsets[i], tx.Bytes.Length);
        }

        foreach (var write in block.StateWrites)
        {
            if (write.Value is null)
            {
                _state.Remove(write.Key);
            }
            else
            {
                _state[write.Key] = copyValues ? write.Value.ToArray() : write.Value;
            }
        }

        foreach (var node in block.HistoryNodes)
        {
            _historyNodes[NodeKey(node.Level, node.Index)] = node.Hash;
        }

        ApplyProjections(block.Projections);
        Head = BlockCommitRules.HeadAfter(block, Head);

        for (var i = 0; i < block.StateNodes.Count; i++)
        {
            var node = block.StateNodes[i];
            StateNodes.Put(node.Hash, StateNodeLocator.Pack(record.Segment, payloadStart + nodeOffsets[i]), at => disk.StateNodeHashAt(at) == node.Hash);
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

    /// <summary>Level in the low 6 bits, index above: unique for every node of a tree with fewer than 2^57 leaves.</summary>
    private static long NodeKey(int level, long index) => (index << 6) | (uint)level;
}
