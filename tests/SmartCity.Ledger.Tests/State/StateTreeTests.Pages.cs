using System.Diagnostics.CodeAnalysis;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Tests.State;

/// <summary><see cref="PagedStateTree"/> against <see cref="StateTree"/>: the same roots, values and proofs, and stale lists that are exactly what a version stops holding.</summary>
public abstract partial class StateTreeTests
{
    [Theory]
    [InlineData(11, false)]
    [InlineData(12, true)]
    public void The_paged_tree_gives_the_binary_trees_roots_values_and_proofs(int seed, bool clusteredKeys)
    {
        var random = new Random(seed);
        var binary = new StateTree(new InMemoryStateNodeStore(), Suite);
        var paged = new PagedStateTree(new InMemoryStateNodeStore(), Suite);
        var state = new Dictionary<Hash256, byte[]>();
        var (root, pagedRoot) = (StateTree.EmptyRoot, StateTree.EmptyRoot);
        var versions = new List<(Hash256 Root, Dictionary<Hash256, byte[]> State)>();
        for (var block = 0; block < 40; block++)
        {
            var writes = WithValuesSetBack(random, state, RandomWrites(random, state, random.Next(1, block % 10 == 9 ? 1_200 : 30), clusteredKeys));
            root = binary.Apply(root, writes);
            pagedRoot = paged.Apply(pagedRoot, writes);
            ApplyTo(state, writes);

            Assert.Equal(root, pagedRoot);
            versions.Add((pagedRoot, new Dictionary<Hash256, byte[]>(state)));
        }

        Assert.True(state.Count > 100);
        foreach (var key in state.Keys.Take(300).Concat(Enumerable.Range(0, 20).Select(_ => RandomKey(random, clusteredKeys))))
        {
            Assert.Equal(binary.Prove(root, key).Encode(), paged.Prove(pagedRoot, key).Encode());
            Assert.Equal(binary.Get(root, key), paged.Get(pagedRoot, key));
        }

        foreach (var (version, values) in versions.Where((_, i) => i % 6 == 0))
        {
            foreach (var (key, value) in values.Take(40))
            {
                Assert.Equal(value, paged.Get(version, key));
            }
        }
    }

    [Theory]
    [InlineData(13, false)]
    [InlineData(14, true)]
    public void A_store_of_binary_nodes_goes_on_in_pages_with_the_same_roots_and_proofs(int seed, bool clusteredKeys)
    {
        // A store written before pages: the paged tree reads its binary nodes, turns each it changes into a page, and
        // every version, old or new, proves what the binary tree proves.
        var random = new Random(seed);
        var shared = new InMemoryStateNodeStore();
        var reference = new StateTree(new InMemoryStateNodeStore(), Suite);
        var state = new Dictionary<Hash256, byte[]>();
        var root = StateTree.EmptyRoot;
        var oldRoots = new List<(Hash256 Root, Dictionary<Hash256, byte[]> State)>();
        var before = new StateTree(shared, Suite);
        for (var block = 0; block < 20; block++)
        {
            var writes = RandomWrites(random, state, random.Next(1, block % 10 == 9 ? 600 : 40), clusteredKeys);
            root = before.Apply(root, writes);
            Assert.Equal(root, reference.Apply(oldRoots.Count == 0 ? StateTree.EmptyRoot : oldRoots[^1].Root, writes));
            ApplyTo(state, writes);
            oldRoots.Add((root, new Dictionary<Hash256, byte[]>(state)));
        }

        var paged = new PagedStateTree(shared, Suite);
        var referenceRoot = root;
        for (var block = 0; block < 20; block++)
        {
            var writes = WithValuesSetBack(random, state, RandomWrites(random, state, random.Next(1, block % 10 == 9 ? 600 : 40), clusteredKeys));
            root = paged.Apply(root, writes);
            referenceRoot = reference.Apply(referenceRoot, writes);
            ApplyTo(state, writes);
            Assert.Equal(referenceRoot, root);
        }

        foreach (var key in state.Keys.Take(200).Concat(Enumerable.Range(0, 10).Select(_ => RandomKey(random, clusteredKeys))))
        {
            Assert.Equal(reference.Prove(referenceRoot, key).Encode(), paged.Prove(root, key).Encode());
        }

        var (oldRoot, oldState) = oldRoots[^1];
        foreach (var key in oldState.Keys.Take(100))
        {
            Assert.Equal(reference.Prove(oldRoot, key).Encode(), paged.Prove(oldRoot, key).Encode()); // a version of binary nodes alone
            Assert.Equal(oldState[key], paged.Get(oldRoot, key));
        }
    }

    [Theory]
    [InlineData(15, false, false)]
    [InlineData(16, true, false)]
    [InlineData(17, false, true)]
    public void A_batch_stores_exactly_the_nodes_its_version_gains_and_lists_exactly_those_it_stops_holding(int seed, bool clusteredKeys, bool fromBinaryNodes)
    {
        // What pruning relies on: a batch's new nodes are what the new version holds and the old did not, its stale list
        // what the old held and the new does not (docs/storage.md, retention).
        var random = new Random(seed);
        var store = new RecordingStore(Suite);
        var state = new Dictionary<Hash256, byte[]>();
        var root = StateTree.EmptyRoot;
        if (fromBinaryNodes)
        {
            var binary = new StateTree(store, Suite);
            for (var block = 0; block < 10; block++)
            {
                var writes = RandomWrites(random, state, random.Next(1, 300), clusteredKeys);
                root = binary.Apply(root, writes);
                ApplyTo(state, writes);
            }
        }

        var paged = new PagedStateTree(store, Suite);
        for (var block = 0; block < 25; block++)
        {
            var writes = WithValuesSetBack(random, state, RandomWrites(random, state, random.Next(1, block % 8 == 7 ? 900 : 40), clusteredKeys));
            var held = Reachable(store, root);
            store.Clear();
            root = paged.Apply(root, writes);
            ApplyTo(state, writes);
            var holds = Reachable(store, root);

            Assert.Equal(holds.Except(held).Order(), store.Written.Distinct().Order());
            Assert.Equal(held.Except(holds).Order(), store.Replaced.Order());
        }
    }

    [Fact]
    public void A_page_encodes_and_decodes_to_the_same_hash_and_malformed_pages_are_refused()
    {
        var store = new RecordingStore(Suite);
        var tree = new PagedStateTree(store, Suite);
        var random = new Random(18);
        var state = new Dictionary<Hash256, byte[]>();
        var writes = RandomWrites(random, state, 400, clustered: false);
        tree.Apply(StateTree.EmptyRoot, writes);
        var pages = store.Nodes.Values.OfType<StatePageNode>().ToArray();
        Assert.NotEmpty(pages);
        foreach (var page in pages)
        {
            var decoded = Assert.IsType<StatePageNode>(StateNode.Decode(page.Encode()));
            Assert.Equal(page.ComputeHash(Suite), decoded.ComputeHash(Suite));
            Assert.Equal(page.Encode(), decoded.Encode());
        }

        var a = Suite.Hash([1]);
        var b = Suite.Hash([2]);
        byte[] Page(ushort occupied, ushort leaves, params Hash256[] children) =>
            [StatePageNode.Prefix, (byte)(occupied >> 8), (byte)occupied, (byte)(leaves >> 8), (byte)leaves, .. children.SelectMany(c => c.Bytes.ToArray())];
        Assert.IsType<StatePageNode>(StateNode.Decode(Page(0b11, 0b01, a, b)));
        Assert.IsType<StatePageNode>(StateNode.Decode(Page(0b1, 0, a))); // one slot, two or more keys below it
        Assert.Throws<FormatException>(() => StateNode.Decode(Page(0, 0))); // no key
        Assert.Throws<FormatException>(() => StateNode.Decode(Page(0b1, 0b1, a))); // a single key is a leaf, never a page
        Assert.Throws<FormatException>(() => StateNode.Decode(Page(0b1, 0b10, a))); // a leaf where no slot is occupied
        Assert.Throws<FormatException>(() => StateNode.Decode(Page(0b11, 0, a))); // too short
        Assert.Throws<FormatException>(() => StateNode.Decode(Page(0b11, 0, a, Hash256.Zero))); // an occupied slot with the empty hash
        Assert.Throws<FormatException>(() => StateNode.Decode([.. Page(0b11, 0, a, b), 0])); // trailing bytes
    }

    [Fact]
    public void The_paged_tree_writes_about_a_quarter_as_many_entries_as_binary_interior_nodes()
    {
        // The point of pages (docs/state-pages.md): 500 writes (a third new keys) on 20,000 uniform keys, five blocks.
        var random = new Random(19);
        var binaryStore = new InteriorCountingStore();
        var pagedStore = new RecordingStore(Suite);
        var binary = new StateTree(binaryStore, Suite);
        var paged = new PagedStateTree(pagedStore, Suite);
        var state = new Dictionary<Hash256, byte[]>();
        StateWrite[] load = [.. Enumerable.Range(0, 20_000).Select(_ => new StateWrite(RandomKey(random, clustered: false), RandomValue(random)))];
        var root = binary.Apply(StateTree.EmptyRoot, load);
        Assert.Equal(root, paged.Apply(StateTree.EmptyRoot, load));
        ApplyTo(state, load);
        for (var block = 0; block < 5; block++)
        {
            var existing = state.Keys.ToArray();
            StateWrite[] writes = [.. Enumerable.Range(0, 500).Select(i => new StateWrite(
                i % 3 == 0 ? RandomKey(random, clustered: false) : existing[random.Next(existing.Length)], RandomValue(random)))];
            binaryStore.Interior = 0;
            pagedStore.Clear();
            var next = binary.Apply(root, writes);
            Assert.Equal(next, paged.Apply(root, writes));
            root = next;
            ApplyTo(state, writes);

            var pages = pagedStore.Written.Count(h => pagedStore.Nodes[h] is StatePageNode);
            Assert.InRange(binaryStore.Interior / (double)pages, 3.0, 5.5);
            Assert.Equal(pagedStore.Replaced.Length, pagedStore.Replaced.Distinct().Count());
        }
    }

    /// <summary>Values written back as they are: the write changes nothing, and nothing is stored or replaced for it.</summary>
    private static StateWrite[] WithValuesSetBack(Random random, Dictionary<Hash256, byte[]> state, StateWrite[] writes)
    {
        var existing = state.Keys.ToArray();
        return existing.Length == 0 ? writes : [.. writes, .. Enumerable.Range(0, 1 + (writes.Length / 10)).Select(_ => existing[random.Next(existing.Length)]).Where(k => writes.All(w => w.Key != k)).Distinct().Select(k => new StateWrite(k, [.. state[k]]))];
    }

    /// <summary>An in-memory store that keeps what the last batch wrote and replaced.</summary>
    private sealed class RecordingStore(CryptoSuite suite) : IStateNodeStore
    {
        public Dictionary<Hash256, StateNode> Nodes { get; } = [];

        public List<Hash256> Written { get; } = [];

        public Hash256[] Replaced { get; private set; } = [];

        public void Clear()
        {
            Written.Clear();
            Replaced = [];
        }

        public bool TryGet(in Hash256 hash, [NotNullWhen(true)] out StateNode? node) => Nodes.TryGetValue(hash, out node);

        public void PutBatch(in Hash256 root, ReadOnlySpan<NewStateNode> nodes, ReadOnlySpan<Hash256> replaced)
        {
            foreach (var node in nodes)
            {
                Assert.Equal(node.Hash, node.ToNode().ComputeHash(suite)); // each node recomputes to the hash it is stored under
                Nodes[node.Hash] = node.ToNode();
                Written.Add(node.Hash);
            }

            Replaced = replaced.ToArray();
        }
    }
}
