using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>
/// The chain's node layer over a store: a block's nodes enter the cache when the block is built (a block built ahead on
/// it reads them from there), leave the store untouched until the block is appended, and the nodes a committed block
/// replaced leave the cache at its commit, also when a block built ahead has just made one of them again.
/// </summary>
public sealed class ChainStateNodesTests
{
    private static readonly CryptoSuite Suite = CryptoSuite.Eth;

    [Fact]
    public void A_value_set_back_by_a_block_built_ahead_reads_right_through_both_commits_and_from_a_cold_cache()
    {
        var store = new DictionaryTreeStore();
        var nodes = ChainStateNodes.OverStore(store, 1 << 12, Suite);
        var tree = new StateTree(nodes, Suite);
        var random = new Random(5);
        var state = Enumerable.Range(0, 300).ToDictionary(i => Keccak256.Hash(BitConverter.GetBytes(i)), _ => RandomValue(random));
        var key = state.Keys.First();
        var original = state[key];

        // Block 0, committed and appended.
        var root0 = tree.Apply(StateTree.EmptyRoot, [.. state.Select(kv => new StateWrite(kv.Key, kv.Value))]);
        Commit(nodes, store, root0);

        // Block 1 changes the key; block 2, built on block 1 before block 1 is durable, sets it back.
        var root1 = tree.Apply(root0, [new StateWrite(key, [7, 7, 7])]);
        var batch1 = nodes.PendingBatch(root1)!;
        Assert.DoesNotContain(batch1.Nodes, n => store.Has(n.Hash)); // nothing of a candidate reaches the store on its own
        Assert.All(batch1.Nodes, n => Assert.True(nodes.TryGetNode(n.Hash, out _, out _, out _))); // readable before it commits
        var root2 = tree.Apply(root1, [new StateWrite(key, original)]);
        Assert.Equal(root0, root2); // the same state, the same root
        var batch2 = nodes.PendingBatch(root2)!;

        // The leaf block 2 made again is one block 1 replaced: block 1's commit drops it from the cache, and it is
        // read from block 2's pending batch, then, once block 2 is appended, from the store.
        var leaf = Suite.Hash([0x00, .. key.Bytes, .. Suite.Hash(original).Bytes]);
        Assert.Contains(leaf, batch1.Replaced);
        Assert.Contains(batch2.Nodes, n => n.Hash == leaf);
        store.Append(batch1);
        nodes.Commit(batch1, keep: root2);
        Assert.Equal(original, tree.Get(root2, key));
        Assert.True(tree.Prove(root2, key).Verify(root2, key, original, Suite));
        store.Append(batch2);
        nodes.Commit(batch2);
        Assert.Equal(original, tree.Get(root2, key));

        var cold = new StateTree(ChainStateNodes.OverStore(store, 1 << 12, Suite), Suite);
        foreach (var (k, v) in state)
        {
            Assert.Equal(v, cold.Get(root2, k));
        }

        Assert.Equal([7, 7, 7], cold.Get(root1, key));
    }

    [Fact]
    public void A_candidate_that_never_commits_leaves_nothing_in_the_store_and_the_next_block_builds_on_the_head()
    {
        var store = new DictionaryTreeStore();
        var nodes = ChainStateNodes.OverStore(store, 1 << 12, Suite);
        var tree = new StateTree(nodes, Suite);
        var random = new Random(6);
        var writes = Enumerable.Range(0, 600).Select(i => new StateWrite(Keccak256.Hash(BitConverter.GetBytes(i)), RandomValue(random))).ToArray();
        var head = tree.Apply(StateTree.EmptyRoot, writes);
        Commit(nodes, store, head);
        var stored = store.Count;

        var dropped = tree.Apply(head, [.. writes.Take(200).Select(w => w with { Value = [1] })]);
        nodes.Commit(null); // the candidate is abandoned (a round change, a failed build)
        Assert.Null(nodes.PendingBatch(dropped));
        Assert.Equal(stored, store.Count);

        var next = tree.Apply(head, [.. writes.Skip(400).Select(w => w with { Value = [2] })]);
        Commit(nodes, store, next);
        var expected = writes.ToDictionary(w => w.Key, w => w.Value!);
        foreach (var w in writes.Skip(400))
        {
            expected[w.Key] = [2];
        }

        Assert.Equal(StateTreeReferenceRoot(expected), next);
        var cold = new StateTree(ChainStateNodes.OverStore(store, 1 << 12, Suite), Suite);
        Assert.All(expected, kv => Assert.Equal(kv.Value, cold.Get(next, kv.Key)));
    }

    [Fact]
    public void The_paged_walk_reads_its_leaves_from_the_cache_the_pending_batch_and_the_store_and_is_told_no_for_a_page()
    {
        // The paged tree asks for a leaf among the leaves only (its page marks the slot a leaf); the answer must be the
        // same leaf wherever it is held, and no for a hash that is a page or is unknown.
        var store = new DictionaryTreeStore();
        var nodes = ChainStateNodes.OverStore(store, 1 << 12, Suite);
        var tree = new StateTree(nodes, Suite, StateTreeLayout.Pages);
        var random = new Random(7);
        var writes = Enumerable.Range(0, 2_000).Select(i => new StateWrite(Keccak256.Hash(BitConverter.GetBytes(i)), RandomValue(random))).ToArray();
        var head = tree.Apply(StateTree.EmptyRoot, writes);
        var batch = nodes.PendingBatch(head)!;
        var leaves = batch.Nodes.Where(n => n.Leaf is not null).ToArray();
        var pages = batch.Nodes.Where(n => n.Page is not null).ToArray();
        Assert.Equal(writes.Length, leaves.Length);
        Assert.NotEmpty(pages);

        // Pending (and in the cache, which took the batch when it was built).
        Assert.All(leaves, n => Assert.Equal(n.Leaf!.Value, nodes.TryGetLeaf(n.Hash, out var leaf) ? leaf.Value : null));
        Assert.All(pages, n => Assert.False(nodes.TryGetLeaf(n.Hash, out _)));
        Commit(nodes, store, head);

        // From the store only: a cold cache.
        var cold = ChainStateNodes.OverStore(store, 1 << 12, Suite);
        Assert.All(leaves, n => Assert.Equal(n.Leaf!.Value, cold.TryGetLeaf(n.Hash, out var leaf) ? leaf.Value : null));
        Assert.All(pages, n => Assert.False(cold.TryGetLeaf(n.Hash, out _)));
        Assert.False(cold.TryGetLeaf(Keccak256.Hash([1, 2, 3]), out _));

        // The walk over a cold cache: an update of every tenth key and the reads agree with a tree built in one go.
        var changed = writes.Where((_, i) => i % 10 == 0).Select(w => w with { Value = [9, 9] }).ToArray();
        var coldTree = new StateTree(cold, Suite, StateTreeLayout.Pages);
        var next = coldTree.Apply(head, changed);
        var expected = writes.ToDictionary(w => w.Key, w => w.Value!);
        foreach (var w in changed)
        {
            expected[w.Key] = w.Value!;
        }

        Assert.Equal(StateTreeReferenceRoot(expected), next);
        Assert.All(expected, kv => Assert.Equal(kv.Value, coldTree.Get(next, kv.Key)));
    }

    private static void Commit(ChainStateNodes nodes, DictionaryTreeStore store, Hash256 root)
    {
        var batch = nodes.PendingBatch(root)!;
        store.Append(batch);
        nodes.Commit(batch);
    }

    // The root of a state built from nothing by one batch in a separate in-memory tree.
    private static Hash256 StateTreeReferenceRoot(Dictionary<Hash256, byte[]> state)
        => new StateTree(new InMemoryStateNodeStore(), Suite).Apply(StateTree.EmptyRoot, [.. state.Select(kv => new StateWrite(kv.Key, kv.Value))]);

    private static byte[] RandomValue(Random random)
    {
        var value = new byte[random.Next(1, 40)];
        random.NextBytes(value);
        return value;
    }

    /// <summary>Encoded nodes by hash, as a store appends a block's nodes with the block.</summary>
    private sealed class DictionaryTreeStore : IStateTreeStore
    {
        private readonly Dictionary<Hash256, byte[]> _nodes = [];

        public int Count => _nodes.Count;

        public bool Has(Hash256 hash) => _nodes.ContainsKey(hash);

        public void Append(PendingStateBatch batch)
        {
            foreach (var node in batch.Nodes)
            {
                _nodes[node.Hash] = node.Encode();
            }
        }

        public ValueTask<byte[]?> GetStateNodeAsync(Hash256 hash, CancellationToken cancellationToken) => ValueTask.FromResult(GetStateNode(hash));

        public byte[]? GetStateNode(Hash256 hash) => _nodes.GetValueOrDefault(hash);

        public Hash256? GetHistoryNode(int level, long index) => null;

        public ValueTask<StateRetention> GetStateRetentionAsync(CancellationToken cancellationToken) => ValueTask.FromResult(new StateRetention(0));
    }
}
