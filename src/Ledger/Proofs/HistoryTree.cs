using System.Diagnostics;
using System.Numerics;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Proofs;

/// <summary>
/// The append-only RFC 9162 Merkle tree over every transaction ever committed. It keeps the perfect-subtree node
/// hashes in an <see cref="IHistoryNodeStore"/>, so an append costs amortised one leaf hash and one node hash (at
/// most log₂ n), and a root, inclusion proof or consistency proof at any size reads O(log n) stored nodes.
/// </summary>
/// <remarks>
/// One writer appends. Roots and proofs read only the store, never the writer's in-memory frontier, so readers may
/// ask for any size up to one they saw published while the writer keeps appending.
/// </remarks>
public sealed class HistoryTree
{
    private const int MaxLevels = 64;

    private readonly IHistoryNodeStore _store;
    private readonly CryptoSuite _suite;

    // The roots of the perfect subtrees that make up the current tree, one per set bit of the size, largest first.
    private readonly Hash256[] _frontier = new Hash256[MaxLevels];
    private int _frontierCount;
    private long _size;

    /// <summary>Opens the tree of <paramref name="size"/> leaves whose nodes <paramref name="store"/> holds.</summary>
    /// <param name="store">The perfect-subtree node hashes.</param>
    /// <param name="size">Leaves already in the store.</param>
    /// <param name="suite">Whose history hash H the tree uses: SHA-256 (eth, the default) or SM3 (gm).</param>
    public HistoryTree(IHistoryNodeStore store, long size = 0, CryptoSuite? suite = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        _store = store;
        _suite = suite ?? CryptoSuite.Eth;
        _size = size;
        for (var level = MaxLevels - 1; level >= 0; level--)
        {
            if ((size >> level & 1) != 0)
            {
                _frontier[_frontierCount++] = store.Get(level, (size >> level) - 1);
            }
        }
    }

    /// <summary>
    /// The RFC 9162 root of <paramref name="leafHashes"/> alone (a block's transaction root): the empty tree's root when
    /// there are none. Nothing but the frontier is kept, so it allocates no node storage.
    /// </summary>
    public static Hash256 RootOf(ReadOnlySpan<Hash256> leafHashes, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        var tree = new HistoryTree(DiscardedNodes.Instance, 0, suite);
        tree.AppendLeafHashes(leafHashes);
        return tree.Root;
    }

    /// <summary>The suite whose history hash this tree uses.</summary>
    public CryptoSuite Suite => _suite;

    /// <summary>The number of leaves appended so far.</summary>
    public long Size => Volatile.Read(ref _size);

    /// <summary>MTH of all leaves: the root at <see cref="Size"/>, from the in-memory frontier (writer's view).</summary>
    public Hash256 Root
    {
        get
        {
            if (_frontierCount == 0)
            {
                return _suite.EmptyHistoryRoot;
            }

            var root = _frontier[_frontierCount - 1];
            for (var i = _frontierCount - 2; i >= 0; i--)
            {
                root = _suite.HistoryNodeHash(_frontier[i], root);
            }

            return root;
        }
    }

    /// <summary>Appends one leaf (a transaction's canonical bytes) and returns its index.</summary>
    public long Append(ReadOnlySpan<byte> leaf) => AppendLeafHash(_suite.HistoryLeafHash(leaf));

    /// <summary>Appends a leaf by its precomputed leaf hash H(0x00 ‖ leaf) and returns its index.</summary>
    public long AppendLeafHash(in Hash256 leafHash)
    {
        var index = _size;
        _store.Put(0, index, leafHash);

        // Each trailing 1 bit of the old size is a perfect subtree the new leaf completes a parent with.
        var carry = leafHash;
        for (var level = 0; (index >> level & 1) != 0; level++)
        {
            carry = _suite.HistoryNodeHash(_frontier[--_frontierCount], carry);
            _store.Put(level + 1, index >> (level + 1), carry);
        }

        _frontier[_frontierCount++] = carry;
        Volatile.Write(ref _size, index + 1);
        return index;
    }

    /// <summary>Appends a batch of leaves by their leaf hashes; returns the index of the first.</summary>
    public long AppendLeafHashes(ReadOnlySpan<Hash256> leafHashes)
    {
        var first = _size;
        foreach (ref readonly var leafHash in leafHashes)
        {
            AppendLeafHash(leafHash);
        }

        return first;
    }

    /// <summary>MTH(D[0:size]), the root the tree had when it held <paramref name="size"/> leaves.</summary>
    public Hash256 RootAt(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, Size);
        return size == 0 ? _suite.EmptyHistoryRoot : RangeHash(0, size);
    }

    /// <summary>
    /// PATH(index, D[0:size]) of RFC 9162 §2.1.3.1: the sibling hashes from the leaf up to the root at
    /// <paramref name="size"/>.
    /// </summary>
    public InclusionProof ProveInclusion(long index, long size)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, Size);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size);

        // Walk the RFC's recursion from the root down; each step contributes the hash of the half not taken.
        Span<Hash256> topDown = stackalloc Hash256[MaxLevels];
        var count = 0;
        long low = 0, high = size;
        while (high - low > 1)
        {
            var split = low + LargestPowerOfTwoBelow(high - low);
            if (index < split)
            {
                topDown[count++] = RangeHash(split, high);
                high = split;
            }
            else
            {
                topDown[count++] = RangeHash(low, split);
                low = split;
            }
        }

        var path = new Hash256[count];
        for (var i = 0; i < count; i++)
        {
            path[i] = topDown[count - 1 - i];
        }

        return new InclusionProof(index, size, path);
    }

    /// <summary>
    /// PROOF(first, D[0:second]) of RFC 9162 §2.1.4.1: the hashes that show the tree at <paramref name="first"/>
    /// leaves is a prefix of the tree at <paramref name="second"/>. Empty when first is 0 or equals second.
    /// </summary>
    public ConsistencyProof ProveConsistency(long first, long second)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(second, Size);
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(first, second);
        if (first == 0 || first == second)
        {
            return new ConsistencyProof(first, second, []);
        }

        // SUBPROOF(m, D[low:high], isWholeOldTree), unrolled: each step records the half it does not descend into.
        Span<Hash256> topDown = stackalloc Hash256[MaxLevels];
        var count = 0;
        long low = 0, high = second, m = first;
        var isWholeOldTree = true;
        while (m != high - low)
        {
            var k = LargestPowerOfTwoBelow(high - low);
            if (m <= k)
            {
                topDown[count++] = RangeHash(low + k, high);
                high = low + k;
            }
            else
            {
                topDown[count++] = RangeHash(low, low + k);
                low += k;
                m -= k;
                isWholeOldTree = false;
            }
        }

        // SUBPROOF(m, D[m], false) = {MTH(D[m])} comes first; SUBPROOF(m, D[m], true) = {}.
        var head = isWholeOldTree ? 0 : 1;
        var path = new Hash256[head + count];
        if (!isWholeOldTree)
        {
            path[0] = RangeHash(low, high);
        }

        for (var i = 0; i < count; i++)
        {
            path[head + i] = topDown[count - 1 - i];
        }

        return new ConsistencyProof(first, second, path);
    }

    /// <summary>
    /// MTH(D[start:end]) for a range of the RFC's recursion: start is aligned to the largest perfect subtree the
    /// range begins with, so the range splits into stored perfect subtrees, largest first, hashed right to left.
    /// </summary>
    private Hash256 RangeHash(long start, long end)
    {
        Debug.Assert(start < end);
        Span<Hash256> pieces = stackalloc Hash256[MaxLevels];
        var count = 0;
        for (var position = start; position < end;)
        {
            var level = BitOperations.Log2((ulong)(end - position));
            Debug.Assert(position % (1L << level) == 0, "a range of the RFC recursion starts aligned");
            pieces[count++] = _store.Get(level, position >> level);
            position += 1L << level;
        }

        var hash = pieces[count - 1];
        for (var i = count - 2; i >= 0; i--)
        {
            hash = _suite.HistoryNodeHash(pieces[i], hash);
        }

        return hash;
    }

    /// <summary>The k of RFC 9162: the largest power of two strictly smaller than n (n ≥ 2).</summary>
    internal static long LargestPowerOfTwoBelow(long n) => 1L << BitOperations.Log2((ulong)(n - 1));

    /// <summary>A node store that keeps nothing: a tree that is only appended to and asked for its root needs none.</summary>
    private sealed class DiscardedNodes : IHistoryNodeStore
    {
        public static DiscardedNodes Instance { get; } = new();

        public Hash256 Get(int level, long index) => throw new InvalidOperationException("a root-only tree keeps no nodes");

        public void Put(int level, long index, in Hash256 hash)
        {
        }
    }
}
