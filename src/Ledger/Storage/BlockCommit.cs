using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Storage;

/// <summary>
/// Everything one committed block changes in a store, already encoded by the engine. The store indexes by the
/// keys carried here and never decodes <see cref="Header"/>, <see cref="Certificate"/> or transaction bytes, so
/// it does not depend on the engine's block types. A store applies a commit atomically or not at all.
/// </summary>
/// <param name="Height">Height of the block; the first block of a chain (genesis) is height 0.</param>
/// <param name="BlockHash">Keccak-256 header hash.</param>
/// <param name="ParentHash">Header hash of block <c>Height - 1</c>; <see cref="Hash256.Zero"/> for genesis.</param>
/// <param name="Timestamp">Block time in Unix milliseconds, as the header says.</param>
/// <param name="Header">Canonical header bytes.</param>
/// <param name="Certificate">Canonical commit-certificate bytes.</param>
/// <param name="Transactions">The block's transactions in order; history indexes continue the store's history size.</param>
/// <param name="StateWrites">State changes in application order; a later write to a key wins. The value arrays are the
/// block's own and never change once the block is made (the state tree keeps them too): a store may keep them without
/// copying.</param>
/// <param name="HistoryNodes">History-tree node hashes completed by this block, to serve proofs later.</param>
/// <param name="Projections">Query rows derived from the block (upserted by their identity).</param>
public sealed record BlockCommit(
    long Height,
    Hash256 BlockHash,
    Hash256 ParentHash,
    long Timestamp,
    ReadOnlyMemory<byte> Header,
    ReadOnlyMemory<byte> Certificate,
    IReadOnlyList<StoredTransaction> Transactions,
    IReadOnlyList<StateWrite> StateWrites,
    IReadOnlyList<HistoryNode> HistoryNodes,
    ProjectionRows Projections)
{
    /// <summary>
    /// The state-tree nodes this block's state version created (content-addressed: stored under their hash, encoded by
    /// the engine's <c>StateNode.Encode</c>), so a node reopens at its head and proves state at any retained height
    /// without replaying history. Empty when the engine does not persist its state tree (tests of the store alone).
    /// The node's chain reuses these buffers for its next block: a store reads them during the append and copies what
    /// it keeps.
    /// </summary>
    public IReadOnlyList<StoredStateNode> StateNodes { get; init; } = [];

    /// <summary>
    /// Nodes of the parent's state version that this block's version no longer contains: what pruning may delete once
    /// the parent version falls out of retention (a node created again later is kept).
    /// </summary>
    public IReadOnlyList<Hash256> StaleStateNodes { get; init; } = [];

    /// <summary>
    /// The retention floor after this block: state versions of heights below it may be pruned, atomically with this
    /// block. Zero keeps every version. Never lower than a floor committed before (a lower value changes nothing).
    /// </summary>
    public long StateRetainedFrom { get; init; }
}

/// <summary>One state-tree node: its hash (the tree's address for it) and its encoding.</summary>
public readonly record struct StoredStateNode(Hash256 Hash, ReadOnlyMemory<byte> Encoded);

/// <summary>
/// Which state versions a store can still read: every height from <see cref="RetainedFrom"/> to the head. Versions
/// below were pruned; blocks, transactions, headers and the history tree are never pruned.
/// </summary>
public readonly record struct StateRetention(long RetainedFrom);

/// <summary>One transaction: its id, its leaf position in the history tree and its canonical bytes.</summary>
public readonly record struct StoredTransaction(Hash256 TxHash, long HistoryIndex, ReadOnlyMemory<byte> Bytes);

/// <summary>
/// The hash of a complete node of the RFC 6962 history tree: level 0 are leaf hashes, and node
/// (<paramref name="Level"/>, <paramref name="Index"/>) covers leaves <c>[Index·2^Level, (Index+1)·2^Level)</c>.
/// </summary>
public readonly record struct HistoryNode(int Level, long Index, Hash256 Hash);

/// <summary>The last committed block; <c>HistorySize</c> is the number of transactions ever committed (the history tree's size).</summary>
public readonly record struct StoreHead(long Height, Hash256 BlockHash, long HistorySize);

/// <summary>A block's header data without its transactions.</summary>
public sealed record StoredBlockHeader(
    long Height,
    Hash256 BlockHash,
    Hash256 ParentHash,
    long Timestamp,
    ReadOnlyMemory<byte> Header,
    ReadOnlyMemory<byte> Certificate,
    int TransactionCount,
    long FirstHistoryIndex);

/// <summary>A block as stored: its header data and its transactions in order.</summary>
public sealed record StoredBlock(StoredBlockHeader Header, IReadOnlyList<StoredTransaction> Transactions);

/// <summary>A transaction found by hash, with where it sits in the chain.</summary>
public sealed record TransactionLocation(Hash256 TxHash, long Height, int IndexInBlock, long HistoryIndex, ReadOnlyMemory<byte> Bytes);

/// <summary>One key of the state at the head.</summary>
public readonly record struct StateEntry(Hash256 Key, ReadOnlyMemory<byte> Value);
