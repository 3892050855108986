using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Proofs;

/// <summary>
/// Where a <see cref="HistoryTree"/> keeps its node hashes. Node (level, index) is the root of the perfect subtree over
/// leaves [index·2^level, (index + 1)·2^level): level 0 holds the leaf hashes. A node is written once, when its last
/// leaf is appended, and never changes, so a store may persist it append-only (one row per node, or one file per
/// level). Within a level, nodes are written in increasing index order without gaps.
/// </summary>
/// <remarks>
/// The tree writes from one thread; readers (proof generation) may call <see cref="Get"/> concurrently for nodes
/// written before the tree size they work at was published.
/// </remarks>
public interface IHistoryNodeStore
{
    /// <summary>The hash of node (level, index); the node must have been written (asking for another is a bug).</summary>
    Hash256 Get(int level, long index);

    /// <summary>Records the hash of node (level, index).</summary>
    void Put(int level, long index, in Hash256 hash);
}
