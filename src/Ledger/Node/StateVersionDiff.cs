using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node;

/// <summary>
/// Which nodes of one state version the next no longer contains: what pruning may delete once the older version
/// leaves retention. Only nodes on the paths of the written keys can change, so both versions are walked along those
/// paths: an interior node of the old version missing from the new walk is gone (an interior node's place in the tree
/// is fixed by the keys under it), and a leaf missing from the new walk is gone unless its key still ends at it in
/// the new version (a leaf moves deeper when a key sharing its prefix arrives, or up when its neighbour leaves).
/// </summary>
internal static class StateVersionDiff
{
    public static List<Hash256> StaleNodes(IStateNodeStore nodes, Hash256 oldRoot, Hash256 newRoot, IReadOnlyList<StateWrite> writes)
    {
        if (oldRoot == newRoot || oldRoot.IsZero || writes.Count == 0)
        {
            return [];
        }

        var keys = writes.Select(w => w.Key).Distinct().Order().ToArray();
        var before = new Dictionary<Hash256, StateLeafNode?>();
        Walk(nodes, oldRoot, 0, keys, before);
        var after = new Dictionary<Hash256, StateLeafNode?>();
        Walk(nodes, newRoot, 0, keys, after);

        var stale = new List<Hash256>();
        foreach (var (hash, leaf) in before)
        {
            if (after.ContainsKey(hash))
            {
                continue;
            }

            if (leaf is null || LeafHashAt(nodes, newRoot, leaf.Key) != hash)
            {
                stale.Add(hash);
            }
        }

        return stale;
    }

    /// <summary>Every node on the paths of <paramref name="keys"/> (sorted) under <paramref name="hash"/>; leaves map to themselves.</summary>
    private static void Walk(IStateNodeStore nodes, in Hash256 hash, int depth, ReadOnlySpan<Hash256> keys, Dictionary<Hash256, StateLeafNode?> visited)
    {
        if (hash.IsZero || keys.IsEmpty)
        {
            return;
        }

        switch (Load(nodes, hash))
        {
            case StateLeafNode leaf:
                visited[hash] = leaf;
                return;
            case StateInternalNode inner:
                visited[hash] = null;
                var split = 0;
                while (split < keys.Length && keys[split].Bit(depth) == 0)
                {
                    split++;
                }

                Walk(nodes, inner.Left, depth + 1, keys[..split], visited);
                Walk(nodes, inner.Right, depth + 1, keys[split..], visited);
                return;
        }
    }

    private static Hash256 LeafHashAt(IStateNodeStore nodes, in Hash256 root, in Hash256 key)
    {
        var hash = root;
        for (var depth = 0; !hash.IsZero; depth++)
        {
            switch (Load(nodes, hash))
            {
                case StateLeafNode:
                    return hash;
                case StateInternalNode inner:
                    hash = key.Bit(depth) == 0 ? inner.Left : inner.Right;
                    break;
            }
        }

        return Hash256.Zero;
    }

    private static StateNode Load(IStateNodeStore nodes, in Hash256 hash) =>
        nodes.TryGet(hash, out var node) ? node : throw new KeyNotFoundException($"state node {hash} is not in the store");
}
