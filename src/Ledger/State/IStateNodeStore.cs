using System.Diagnostics.CodeAnalysis;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>
/// Where the state tree keeps its nodes, content-addressed: a node is stored under its hash, so every version's
/// nodes live side by side and a root hash is all a reader needs to read its version. Writing a node that is already
/// there is harmless (same hash, same content).
/// </summary>
/// <remarks>
/// <see cref="TryGet"/> may be called from many threads at once, also while a batch is being written; the tree calls
/// <see cref="PutBatch"/> from one thread, once per applied batch, after it has finished hashing.
/// </remarks>
public interface IStateNodeStore
{
    bool TryGet(in Hash256 hash, [NotNullWhen(true)] out StateNode? node);

    /// <summary>
    /// The node of <paramref name="hash"/> as the tree walks it: an interior node's children (<paramref name="leaf"/>
    /// null), or the leaf. A store that holds interior nodes by value answers without making a node object (the tree
    /// loads tens of nodes per write); by default this is <see cref="TryGet"/>.
    /// </summary>
    bool TryGetNode(in Hash256 hash, out Hash256 left, out Hash256 right, out StateLeafNode? leaf)
    {
        if (TryGet(hash, out var node))
        {
            Split(node, out left, out right, out leaf);
            return true;
        }

        (left, right, leaf) = (default, default, null);
        return false;
    }

    /// <summary>
    /// The page of <paramref name="hash"/> copied into the caller's buffers, its 16 slots' hashes (zero where empty) and
    /// its 16 inner hashes (heap order, 0 unused), without a page object: the paged tree reads a few pages a write, and a
    /// store that holds pages by value answers from its table. False when <paramref name="hash"/> is not a page (a leaf,
    /// a binary node) or not held. By default through <see cref="TryGet"/>.
    /// </summary>
    bool TryReadPage(in Hash256 hash, CryptoSuite suite, Span<Hash256> slots, Span<Hash256> inner, out ushort leaves) =>
        CopyIfPage(TryGet(hash, out var node) ? node : null, suite, slots, inner, out leaves);

    /// <summary><paramref name="node"/>, when it is a page, into <see cref="TryReadPage"/>'s buffers.</summary>
    static bool CopyIfPage(StateNode? node, CryptoSuite suite, Span<Hash256> slots, Span<Hash256> inner, out ushort leaves)
    {
        if (node is StatePageNode page)
        {
            page.CopyTo(suite, slots, inner);
            leaves = page.Leaves;
            return true;
        }

        leaves = 0;
        return false;
    }

    /// <summary>
    /// A hint that <paramref name="hash"/> is about to be read: a store may start bringing it closer (the tree's walk
    /// names a node's children as soon as it reads the node, well before it descends into the second one).
    /// </summary>
    void Prefetch(in Hash256 hash)
    {
    }

    /// <summary>
    /// Whether <see cref="PrefetchNode"/> is worth a pass of its own: the tree then reads the nodes a batch's walk will
    /// visit a level at a time before the walk (<see cref="StateTree"/>), so their cache misses overlap. False for a
    /// store whose nodes are objects in a dictionary (nothing to gain but a second lookup per node).
    /// </summary>
    bool WarmsAhead => false;

    /// <summary>
    /// A second hint for a node whose <see cref="Prefetch"/> was given a little earlier: a store that locates a node in
    /// two steps (an index line, then the entry it names) may start loading the entry now.
    /// </summary>
    void PrefetchNode(in Hash256 hash)
    {
    }

    /// <summary>
    /// A node the paged walk knows to be a leaf (its page marks the slot so): a store may look among its leaves only.
    /// False when it is not held, or not a leaf. By default through <see cref="TryGet"/>.
    /// </summary>
    bool TryGetLeaf(in Hash256 hash, [NotNullWhen(true)] out StateLeafNode? leaf)
    {
        leaf = TryGet(hash, out var node) ? node as StateLeafNode : null;
        return leaf is not null;
    }

    /// <summary>
    /// The paged walk's hint for a child of a page it is in (a page, or a leaf when <paramref name="leaf"/>), given
    /// before it descends into the first of the page's children it will visit: a store may start bringing closer what
    /// it reads first to find the node (a cache's metadata line).
    /// </summary>
    void PrefetchChild(in Hash256 hash, bool leaf)
    {
    }

    /// <summary>
    /// The second hint for a child named by <see cref="PrefetchChild"/>, given while the walk is in the child before it:
    /// a store may start loading the node itself.
    /// </summary>
    void PrefetchChildNode(in Hash256 hash, bool leaf)
    {
    }

    /// <summary>A node as <see cref="TryGetNode"/> answers it: an interior node's children, or the leaf.</summary>
    static void Split(StateNode node, out Hash256 left, out Hash256 right, out StateLeafNode? leaf)
    {
        if (node is StateInternalNode inner)
        {
            (left, right, leaf) = (inner.Left, inner.Right, null);
        }
        else
        {
            (left, right, leaf) = (default, default, (StateLeafNode)node);
        }
    }

    /// <summary>
    /// Stores the nodes a batch created (children before parents), and says which nodes of the version it started from
    /// the new version <paramref name="root"/> no longer holds (<paramref name="replaced"/>: what pruning may delete
    /// once the old version leaves retention). The root is the last new node, or an existing node (a leaf left alone
    /// after deletes) or empty when the batch created none. The spans are the tree's buffers, reused after the call
    /// returns: copy what must outlive it.
    /// </summary>
    void PutBatch(in Hash256 root, ReadOnlySpan<NewStateNode> nodes, ReadOnlySpan<Hash256> replaced);
}
