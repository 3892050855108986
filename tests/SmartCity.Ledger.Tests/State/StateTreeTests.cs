using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Tests.State;

/// <summary>The state tree's proof tests, run once per crypto suite (eth: Keccak-256; gm: SM3).</summary>
public abstract partial class StateTreeTests(CryptoSuiteId suite)
{
    protected CryptoSuite Suite { get; } = CryptoSuite.For(suite);

    [Fact]
    public void The_empty_state_has_the_zero_root_and_a_single_key_collapses_to_its_leaf_hash()
    {
        var tree = new StateTree(new InMemoryStateNodeStore(), Suite);
        Assert.Equal(Hash256.Zero, StateTree.EmptyRoot);
        var key = Keccak256.Hash("member:1"u8);
        var root = tree.Apply(StateTree.EmptyRoot, [new StateWrite(key, [1, 2, 3])]);
        Assert.Equal(Suite.Hash([0x00, .. key.Bytes, .. Suite.Hash([1, 2, 3]).Bytes]), root);
        Assert.Equal(StateTree.EmptyRoot, tree.Apply(root, [new StateWrite(key, null)]));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(4, true)]
    public void Random_batches_of_inserts_updates_and_deletes_give_the_root_of_the_definition(int seed, bool clusteredKeys)
    {
        var random = new Random(seed);
        var tree = new StateTree(new InMemoryStateNodeStore(), Suite);
        var state = new Dictionary<Hash256, byte[]>();
        var root = StateTree.EmptyRoot;
        var history = new List<(Hash256 Root, Dictionary<Hash256, byte[]> State)> { (root, new(state)) };
        for (var block = 0; block < 60; block++)
        {
            var writes = RandomWrites(random, state, random.Next(1, block % 10 == 9 ? 700 : 40), clusteredKeys);
            root = tree.Apply(root, writes);
            ApplyTo(state, writes);

            Assert.Equal(StateTreeReference.Root(state, Suite), root);
            history.Add((root, new(state)));
        }

        // Every older version still reads as it was.
        foreach (var (oldRoot, oldState) in history)
        {
            foreach (var (key, value) in oldState.Take(20))
            {
                Assert.Equal(value, tree.Get(oldRoot, key));
            }

            Assert.Null(tree.Get(oldRoot, RandomKey(random, clusteredKeys)));
        }
    }

    [Theory]
    [InlineData(5, false)]
    [InlineData(6, true)]
    public void The_root_computed_a_nibble_at_a_time_as_pages_would_store_it_is_the_tree_root(int seed, bool clusteredKeys)
    {
        // What storing the tree in four-level pages relies on (docs/state-pages.md): the same hashes, so the same roots.
        var random = new Random(seed);
        var tree = new StateTree(new InMemoryStateNodeStore(), Suite);
        var state = new Dictionary<Hash256, byte[]>();
        var root = StateTree.EmptyRoot;
        for (var block = 0; block < 40; block++)
        {
            var writes = RandomWrites(random, state, random.Next(1, block % 10 == 9 ? 500 : 30), clusteredKeys);
            root = tree.Apply(root, writes);
            ApplyTo(state, writes);

            Assert.Equal(root, StateTreeReference.RootByPages(state, Suite));
        }

        Assert.True(state.Count > 100);
    }

    [Theory]
    [InlineData(7, false)]
    [InlineData(8, true)]
    public void Batches_applied_a_page_at_a_time_give_the_tree_roots_and_proofs_and_every_version_stays_readable(int seed, bool clusteredKeys)
    {
        // The plan of docs/state-pages.md updated, not only hashed, a page at a time (PagedStateTreeModel): inserts,
        // updates, deletes and values set back, batch after batch, give StateTree's root and proofs, and old versions
        // keep their values.
        var random = new Random(seed);
        var tree = new StateTree(new InMemoryStateNodeStore(), Suite);
        var model = new PagedStateTreeModel(Suite);
        var state = new Dictionary<Hash256, byte[]>();
        var root = StateTree.EmptyRoot;
        var paged = PagedStateTreeModel.Slot.Empty;
        var versions = new List<(PagedStateTreeModel.Slot Root, Dictionary<Hash256, byte[]> State)>();
        for (var block = 0; block < 40; block++)
        {
            var writes = RandomWrites(random, state, random.Next(1, block % 10 == 9 ? 500 : 30), clusteredKeys);
            root = tree.Apply(root, writes);
            paged = model.Apply(paged, writes);
            ApplyTo(state, writes);

            Assert.Equal(root, paged.Hash);
            versions.Add((paged, new Dictionary<Hash256, byte[]>(state)));
        }

        Assert.True(state.Count > 100);
        foreach (var key in state.Keys.Take(200).Append(RandomKey(random, clusteredKeys)).Append(RandomKey(random, clusteredKeys)))
        {
            // Proofs made from pages are the tree's, byte for byte, for present and absent keys.
            Assert.Equal(tree.Prove(root, key).Encode(), model.Prove(paged, key).Encode());
        }

        foreach (var (version, values) in versions.Where((_, i) => i % 7 == 0))
        {
            foreach (var (key, value) in values.Take(50))
            {
                Assert.Equal(value, PagedStateTreeModel.Get(version, key));
            }

            Assert.Null(PagedStateTreeModel.Get(version, RandomKey(random, clusteredKeys)));
        }
    }

    [Fact]
    public void A_batch_makes_several_times_fewer_pages_than_binary_interior_nodes()
    {
        // The plan's premise (docs/state-pages.md): a page stands for four binary levels, so a block stores far fewer
        // entries. 500 writes (a third new keys) on 20,000 uniform keys, five times.
        var random = new Random(9);
        var store = new InteriorCountingStore();
        var tree = new StateTree(store, Suite);
        var model = new PagedStateTreeModel(Suite);
        var state = new Dictionary<Hash256, byte[]>();
        StateWrite[] load = [.. Enumerable.Range(0, 20_000).Select(_ => new StateWrite(RandomKey(random, clustered: false), RandomValue(random)))];
        var root = tree.Apply(StateTree.EmptyRoot, load);
        ApplyTo(state, load);
        var paged = model.FromState(state);
        Assert.Equal(root, paged.Hash);

        for (var block = 0; block < 5; block++)
        {
            var existing = state.Keys.ToArray();
            StateWrite[] writes = [.. Enumerable.Range(0, 500).Select(i => new StateWrite(
                i % 3 == 0 ? RandomKey(random, clustered: false) : existing[random.Next(existing.Length)], RandomValue(random)))];
            store.Interior = 0;
            var before = paged;
            root = tree.Apply(root, writes);
            paged = model.Apply(paged, writes);
            ApplyTo(state, writes);

            Assert.Equal(root, paged.Hash);
            var pages = PagedStateTreeModel.PagesNotIn(paged, before);
            Assert.True(store.Interior >= 3 * pages, $"block {block}: {store.Interior} binary interior nodes, {pages} pages");
            Assert.True(pages > 0);
        }
    }

    [Fact]
    public void A_batch_gives_the_same_root_in_any_order_and_as_one_write_at_a_time()
    {
        var random = new Random(5);
        var writes = Enumerable.Range(0, 1_500).Select(_ => new StateWrite(RandomKey(random, clustered: true), RandomValue(random))).ToArray();
        var batched = new StateTree(new InMemoryStateNodeStore(), Suite).Apply(StateTree.EmptyRoot, writes);

        var shuffled = writes.ToArray();
        random.Shuffle(shuffled);
        Assert.Equal(batched, new StateTree(new InMemoryStateNodeStore(), Suite).Apply(StateTree.EmptyRoot, shuffled));

        // Already sorted with distinct keys (as a block's writes come): the tree skips its sort and gets the same root.
        var distinct = Enumerable.Reverse(writes).DistinctBy(w => w.Key).ToArray();
        Assert.Equal(batched, new StateTree(new InMemoryStateNodeStore(), Suite).Apply(StateTree.EmptyRoot, [.. distinct.OrderBy(w => w.Key)]));

        var oneByOne = new StateTree(new InMemoryStateNodeStore(), Suite);
        var root = StateTree.EmptyRoot;
        foreach (var write in shuffled)
        {
            root = oneByOne.Apply(root, [write]);
        }

        Assert.Equal(batched, root);

        // A large batch onto a non-empty tree (hashed on both cores) agrees with one write at a time.
        var updates = writes.Take(700).Select(w => w with { Value = random.Next(3) == 0 ? null : RandomValue(random) }).ToArray();
        Assert.Equal(StateTreeReference.Root(Apply(writes.Concat(updates)), Suite), oneByOne.Apply(batched, updates));
        foreach (var update in updates)
        {
            root = oneByOne.Apply(root, [update]);
        }

        Assert.Equal(oneByOne.Apply(batched, updates), root);
    }

    private static Dictionary<Hash256, byte[]> Apply(IEnumerable<StateWrite> writes)
    {
        var state = new Dictionary<Hash256, byte[]>();
        ApplyTo(state, writes);
        return state;
    }

    /// <summary>What a batch does to the plain key-value state: the last write to a key wins, null deletes.</summary>
    private static void ApplyTo(Dictionary<Hash256, byte[]> state, IEnumerable<StateWrite> writes)
    {
        foreach (var write in writes)
        {
            if (write.Value is null)
            {
                state.Remove(write.Key);
            }
            else
            {
                state[write.Key] = write.Value;
            }
        }
    }

    [Fact]
    public async Task Readers_at_an_older_root_see_it_unchanged_while_new_blocks_are_applied()
    {
        var random = new Random(13);
        var tree = new StateTree(new InMemoryStateNodeStore(), Suite);
        var writes = Enumerable.Range(0, 2_000).Select(_ => new StateWrite(RandomKey(random, clustered: false), RandomValue(random))).ToArray();
        var root = tree.Apply(StateTree.EmptyRoot, writes);
        var blocks = Enumerable.Range(0, 30).Select(_ => RandomWrites(random, Apply(writes), 600, clustered: false)).ToArray();

        using var stop = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            var checks = 0;
            while (!stop.IsCancellationRequested || checks == 0)
            {
                var write = writes[checks++ % writes.Length];
                Assert.Equal(write.Value, tree.Get(root, write.Key));
                Assert.True(tree.Prove(root, write.Key).Verify(root, write.Key, write.Value, Suite));
            }

            return checks;
        });

        var head = root;
        foreach (var block in blocks)
        {
            head = tree.Apply(head, block);
        }

        stop.Cancel();
        Assert.True(await reader > 0);
        Assert.NotEqual(root, head);
    }

    [Fact]
    public void The_last_write_to_a_key_in_a_batch_wins()
    {
        var tree = new StateTree(new InMemoryStateNodeStore(), Suite);
        var key = Keccak256.Hash("k"u8);
        var other = Keccak256.Hash("other"u8);
        var root = tree.Apply(StateTree.EmptyRoot, [new(key, [1]), new(other, [9]), new(key, null), new(key, [2])]);
        Assert.Equal([2], tree.Get(root, key));
        Assert.Equal(tree.Apply(StateTree.EmptyRoot, [new(other, [9]), new(key, [2])]), root);
        Assert.Equal(tree.Apply(StateTree.EmptyRoot, [new(other, [9])]), tree.Apply(root, [new(key, [3]), new(key, null)]));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Inserting_then_deleting_a_key_gives_the_root_of_a_tree_that_never_saw_it(bool clusteredKeys)
    {
        var random = new Random(clusteredKeys ? 6 : 7);
        var tree = new StateTree(new InMemoryStateNodeStore(), Suite);
        var initial = Enumerable.Range(0, 300).Select(_ => new StateWrite(RandomKey(random, clusteredKeys), RandomValue(random))).ToArray();
        var root = tree.Apply(StateTree.EmptyRoot, initial);
        for (var i = 0; i < 50; i++)
        {
            // A neighbour of an existing key shares most of its path, so inserting it splits a leaf deep down.
            var neighbour = initial[random.Next(initial.Length)].Key.ToArray();
            neighbour[31] ^= (byte)(1 << random.Next(8));
            var key = i % 2 == 0 ? new Hash256(neighbour) : RandomKey(random, clusteredKeys);

            var withKey = tree.Apply(root, [new StateWrite(key, RandomValue(random))]);
            Assert.NotEqual(root, withKey);
            Assert.Equal(root, tree.Apply(withKey, [new StateWrite(key, null)]));
        }

        // Deleting everything, in two batches, collapses to the empty root.
        var half = tree.Apply(root, initial[..150].Select(w => w with { Value = null }).ToArray());
        Assert.Equal(StateTree.EmptyRoot, tree.Apply(half, initial[150..].Select(w => w with { Value = null }).ToArray()));
    }

    [Fact]
    public void Proofs_of_present_and_absent_keys_verify_across_random_trees_and_prove_nothing_else()
    {
        var random = new Random(8);
        var (endedAtLeaf, endedEmpty) = (0, 0);
        for (var trial = 0; trial < 60; trial++)
        {
            var clustered = trial % 2 == 0;
            var tree = new StateTree(new InMemoryStateNodeStore(), Suite);
            var writes = Enumerable.Range(0, trial * 5).Select(_ => new StateWrite(RandomKey(random, clustered), RandomValue(random))).ToArray();
            var root = tree.Apply(StateTree.EmptyRoot, writes);
            var state = writes.GroupBy(w => w.Key).ToDictionary(g => g.Key, g => g.Last().Value!);

            foreach (var (key, value) in state.Take(25))
            {
                var proof = tree.Prove(root, key);
                Assert.True(proof.Verify(root, key, value, Suite));
                Assert.True(StateProof.Verify(proof.Encode(), root, key, value, Suite));
                Assert.False(proof.Verify(root, key, [.. value, 0], Suite));
                Assert.False(proof.Verify(root, key, null, Suite), "a proof of presence is no proof of absence");
                Assert.False(proof.Verify(tree.Apply(root, [new StateWrite(key, [.. value, 1])]), key, value, Suite));
            }

            for (var i = 0; i < 25; i++)
            {
                var key = RandomKey(random, clustered);
                var proof = tree.Prove(root, key);
                Assert.True(proof.Verify(root, key, null, Suite));
                Assert.True(StateProof.Verify(proof.Encode(), root, key, null, Suite));
                Assert.False(proof.Verify(root, key, [1], Suite));
                Assert.False(proof.Verify(tree.Apply(root, [new StateWrite(key, [1])]), key, null, Suite));
                (endedAtLeaf, endedEmpty) = proof.Leaf is null ? (endedAtLeaf, endedEmpty + 1) : (endedAtLeaf + 1, endedEmpty);
            }
        }

        Assert.True(endedAtLeaf > 100 && endedEmpty > 100, $"both kinds of absence proof exercised ({endedAtLeaf} at a leaf, {endedEmpty} empty)");
    }

    [Fact]
    public void A_path_ending_at_another_keys_leaf_proves_absence_and_never_presence()
    {
        var random = new Random(9);
        var tree = new StateTree(new InMemoryStateNodeStore(), Suite);
        var writes = Enumerable.Range(0, 200).Select(_ => new StateWrite(RandomKey(random, clustered: false), RandomValue(random))).ToArray();
        var root = tree.Apply(StateTree.EmptyRoot, writes);
        foreach (var write in writes.Take(50))
        {
            var proof = tree.Prove(root, write.Key);

            // A key differing only in its last bit follows the same path to the same leaf: the present key's proof
            // is a valid proof that this one is absent, and can never show it holds the present key's value.
            var neighbour = write.Key.ToArray();
            neighbour[31] ^= 1;
            Assert.True(proof.Verify(root, new Hash256(neighbour), null, Suite));
            Assert.False(proof.Verify(root, new Hash256(neighbour), write.Value, Suite));

            // A key that leaves the path above the leaf is not covered by it.
            var stranger = write.Key.ToArray();
            stranger[0] ^= 0x80;
            Assert.False(proof.Verify(root, new Hash256(stranger), null, Suite));
        }
    }

    [Fact]
    public void Every_single_byte_change_to_an_encoded_proof_is_rejected()
    {
        var random = new Random(10);
        var tree = new StateTree(new InMemoryStateNodeStore(), Suite);
        var writes = Enumerable.Range(0, 400).Select(_ => new StateWrite(RandomKey(random, clustered: true), RandomValue(random))).ToArray();
        var root = tree.Apply(StateTree.EmptyRoot, writes);
        var cases = writes.Take(6).Select(w => (w.Key, (byte[]?)w.Value))
            .Concat(Enumerable.Range(0, 30).Select(_ => (RandomKey(random, clustered: true), (byte[]?)null)))
            .ToList();
        foreach (var (key, value) in cases)
        {
            var encoded = tree.Prove(root, key).Encode();
            Assert.True(StateProof.Verify(encoded, root, key, value, Suite));
            for (var position = 0; position < encoded.Length; position++)
            {
                foreach (var flip in new byte[] { 0x01, 0x80, 0xFF })
                {
                    var tampered = encoded.ToArray();
                    tampered[position] ^= flip;
                    Assert.False(StateProof.Verify(tampered, root, key, value, Suite), $"byte {position} ^ {flip:x2}");
                }
            }

            Assert.False(StateProof.Verify(encoded[..^1], root, key, value, Suite));
            Assert.False(StateProof.Verify([.. encoded, 0], root, key, value, Suite));
        }
    }

    [Fact]
    public void Binary_and_json_forms_round_trip()
    {
        var random = new Random(11);
        var tree = new StateTree(new InMemoryStateNodeStore(), Suite);
        var writes = Enumerable.Range(0, 100).Select(_ => new StateWrite(RandomKey(random, clustered: true), RandomValue(random))).ToArray();
        var root = tree.Apply(StateTree.EmptyRoot, writes);
        foreach (var key in writes.Take(10).Select(w => w.Key).Concat(Enumerable.Range(0, 10).Select(_ => RandomKey(random, clustered: true))))
        {
            var proof = tree.Prove(root, key);
            Assert.True(StateProof.TryDecode(proof.Encode(), out var decoded));
            Assert.Equal(proof.Leaf, decoded.Leaf);
            Assert.Equal(proof.Siblings.ToArray(), decoded.Siblings.ToArray());
            Assert.Equal(proof.Encode(), decoded.Encode());

            var json = proof.ToJson();
            Assert.True(StateProof.TryParseJson(json, out var parsed), json);
            Assert.Equal(proof.Encode(), parsed.Encode());
        }

        Assert.False(StateProof.TryParseJson("{\"version\":2,\"leaf\":null,\"siblings\":[]}", out _));
        Assert.False(StateProof.TryParseJson("{\"version\":1,\"leaf\":null,\"siblings\":[\"0x12\"]}", out _));
        Assert.False(StateProof.TryParseJson("not json", out _));
        Assert.Equal("{\"version\":1,\"leaf\":null,\"siblings\":[]}", new StateProof(null, []).ToJson());
    }

    [Fact]
    public void Stored_nodes_decode_to_what_was_encoded_and_hash_to_their_address()
    {
        var store = new InMemoryStateNodeStore();
        var tree = new StateTree(store, Suite);
        var random = new Random(12);
        var root = tree.Apply(StateTree.EmptyRoot, Enumerable.Range(0, 50).Select(_ => new StateWrite(RandomKey(random, clustered: false), RandomValue(random))).ToArray());
        Assert.True(store.TryGet(root, out var node));
        var decoded = StateNode.Decode(node.Encode());
        Assert.Equal(root, decoded.ComputeHash(Suite));
        Assert.Equal(node.Encode(), decoded.Encode());
        var inner = Assert.IsType<StateInternalNode>(decoded);
        Assert.True(store.TryGet(inner.Left, out var child));
        Assert.Equal(inner.Left, StateNode.Decode(child.Encode()).ComputeHash(Suite));
    }

    [Theory]
    [InlineData(5, false)]
    [InlineData(6, true)]
    public void The_nodes_a_batch_reports_replaced_are_exactly_those_of_the_old_version_the_new_one_lacks(int seed, bool clusteredKeys)
    {
        var random = new Random(seed);
        var store = new RecordingNodeStore();
        var tree = new StateTree(store, Suite);
        var state = new Dictionary<Hash256, byte[]>();
        var root = StateTree.EmptyRoot;
        for (var block = 0; block < 60; block++)
        {
            var writes = RandomWrites(random, state, random.Next(1, block % 10 == 9 ? 700 : 40), clusteredKeys).ToList();
            foreach (var key in state.Keys.Where(_ => random.Next(20) == 0))
            {
                writes.Add(new StateWrite(key, state[key])); // the same value again: its leaf stays
            }

            var newRoot = tree.Apply(root, [.. writes]);
            var expected = Reachable(store, root);
            expected.ExceptWith(Reachable(store, newRoot));
            Assert.Equal(expected.Order(), store.LastReplaced.Order());
            Assert.Equal(store.LastReplaced.Count, store.LastReplaced.Distinct().Count());
            Assert.Equal(newRoot, store.LastRoot);
            ApplyTo(state, writes);

            root = newRoot;
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void Large_batches_hashed_in_parallel_parts_give_the_definitions_root_and_exactly_the_changed_nodes(int seed)
    {
        // Batches of 600-2,100 writes over a tree of thousands of keys: updated in parallel parts (the top three levels
        // are interior nodes). Every third batch writes only under one eighth of the key space, so seven parts are untouched.
        var random = new Random(seed);
        var store = new RecordingNodeStore();
        var tree = new StateTree(store, Suite);
        var state = new Dictionary<Hash256, byte[]>();
        var root = StateTree.EmptyRoot;
        for (var block = 0; block < 18; block++)
        {
            var oneEighth = block % 3 == 2;
            var writes = oneEighth
                ? [.. Enumerable.Range(0, 600).Select(_ => new StateWrite(UnderFirstEighth(RandomKey(random, clustered: false)), RandomValue(random)))]
                : RandomWrites(random, state, 600 + random.Next(1_500), clustered: false);

            var newRoot = tree.Apply(root, writes);
            ApplyTo(state, writes);

            Assert.Equal(StateTreeReference.Root(state, Suite), newRoot);
            var before = Reachable(store, root);
            var after = Reachable(store, newRoot);
            Assert.Equal(before.Except(after).Order(), store.LastReplaced.Order());
            Assert.Equal(store.LastNew.Count, store.LastNew.Distinct().Count());
            Assert.Subset(after, store.LastNew.ToHashSet());
            if (oneEighth)
            {
                // Only fresh keys were put: nothing of the old version is made again, and nothing outside the eighth changes.
                Assert.Empty(store.LastNew.Intersect(before));
                Assert.Equal(ChildrenAt(store, root, depth: 3).Skip(1), ChildrenAt(store, newRoot, depth: 3).Skip(1));
            }

            root = newRoot;
        }
    }

    [Theory]
    [InlineData(21, false)]
    [InlineData(22, true)]
    public void A_store_that_warms_ahead_is_read_level_by_level_before_the_walk_and_gets_the_same_roots(int seed, bool clusteredKeys)
    {
        // Small batches take the single walk, large ones the parallel parts (whose top three levels the partition reads).
        var random = new Random(seed);
        var store = new WarmingNodeStore();
        var tree = new StateTree(store, Suite);
        var state = new Dictionary<Hash256, byte[]>();
        var root = StateTree.EmptyRoot;
        for (var block = 0; block < 24; block++)
        {
            var writes = RandomWrites(random, state, block % 4 == 3 ? 900 + random.Next(600) : random.Next(1, 60), clusteredKeys);
            store.Events.Clear();
            var newRoot = tree.Apply(root, writes);
            ApplyTo(state, writes);
            Assert.Equal(StateTreeReference.Root(state, Suite), newRoot);

            // Every node the walk descended through was hinted, then read, by the warm-up first: hinted once, read
            // twice after the hint (the warm-up, then the walk). Reads before a hint, or of nodes never hinted, are
            // not the walk's descent: the partition's look at the top levels (once; it gives up on a lopsided top and
            // the batch is walked whole) and the sibling a deletion's collapse looks at.
            var events = store.Events.ToList();
            var hinted = events.Where(e => e.Kind == WarmingNodeStore.Hint).Select(e => e.Hash).ToList();
            Assert.Equal(hinted.Count, hinted.Distinct().Count());
            foreach (var hash in hinted)
            {
                var hint = events.IndexOf((WarmingNodeStore.Hint, hash));
                Assert.Equal(2, events.Skip(hint).Count(e => e == (WarmingNodeStore.Read, hash)));
                Assert.InRange(events.Take(hint).Count(e => e == (WarmingNodeStore.Read, hash)), 0, 1);
            }

            var unhinted = events.Where(e => e.Kind == WarmingNodeStore.Read).Select(e => e.Hash).Except(hinted).ToList();
            Assert.All(unhinted, hash => Assert.Single(events, e => e == (WarmingNodeStore.Read, hash)));

            if (root != StateTree.EmptyRoot)
            {
                Assert.NotEmpty(hinted);
            }

            root = newRoot;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_node_missing_from_the_store_is_reported_by_the_walk_whether_or_not_the_store_warms_ahead(bool warms)
    {
        var random = new Random(31);
        var store = new WarmingNodeStore { Warms = warms };
        var tree = new StateTree(store, Suite);
        var state = new Dictionary<Hash256, byte[]>();
        var writes = RandomWrites(random, state, 400, clustered: false);
        var root = tree.Apply(StateTree.EmptyRoot, writes);
        ApplyTo(state, writes);

        // Hide an interior node four levels down on the path of a key the next batch overwrites.
        var key = state.Keys.First();
        var hash = root;
        for (var depth = 0; depth < 4; depth++)
        {
            Assert.True(store.TryGet(hash, out var node));
            hash = key.Bit(depth) == 0 ? ((StateInternalNode)node).Left : ((StateInternalNode)node).Right;
        }

        store.Hidden.Add(hash);
        var thrown = Assert.Throws<KeyNotFoundException>(() => tree.Apply(root, [new StateWrite(key, [9])]));
        Assert.Contains(hash.ToString(), thrown.Message, StringComparison.Ordinal);
        store.Hidden.Clear();
        var expected = new Dictionary<Hash256, byte[]>(state) { [key] = [9] };
        Assert.Equal(StateTreeReference.Root(expected, Suite), tree.Apply(root, [new StateWrite(key, [9])]));
    }

    private static Hash256 UnderFirstEighth(Hash256 key)
    {
        var bytes = key.ToArray();
        bytes[0] &= 0x1F;
        return new Hash256(bytes);
    }

    /// <summary>The 2^depth subtree hashes at <paramref name="depth"/> under <paramref name="root"/>, left to right (the tree's top is all interior).</summary>
    private static List<Hash256> ChildrenAt(IStateNodeStore store, Hash256 root, int depth)
    {
        var level = new List<Hash256> { root };
        for (var d = 0; d < depth; d++)
        {
            var next = new List<Hash256>();
            foreach (var hash in level)
            {
                Assert.True(store.TryGet(hash, out var node));
                var inner = Assert.IsType<StateInternalNode>(node);
                next.Add(inner.Left);
                next.Add(inner.Right);
            }

            level = next;
        }

        return level;
    }

    private static HashSet<Hash256> Reachable(IStateNodeStore store, Hash256 root)
    {
        var found = new HashSet<Hash256>();
        var pending = new Stack<Hash256>();
        pending.Push(root);
        while (pending.TryPop(out var hash))
        {
            if (hash.IsZero || !found.Add(hash))
            {
                continue;
            }

            Assert.True(store.TryGet(hash, out var node), $"{hash} is held by the version but not in the store");
            if (node is StateInternalNode inner)
            {
                pending.Push(inner.Left);
                pending.Push(inner.Right);
            }
            else if (node is StatePageNode page)
            {
                for (var slot = 0; slot < StatePageNode.SlotCount; slot++)
                {
                    pending.Push(page.Child(slot)); // zero where empty: skipped above
                }
            }
        }

        return found;
    }

    /// <summary>Keeps every node and what the last batch said it replaced.</summary>
    private sealed class RecordingNodeStore : IStateNodeStore
    {
        private readonly InMemoryStateNodeStore _nodes = new();

        public List<Hash256> LastReplaced { get; } = [];

        public Hash256 LastRoot { get; private set; }

        public bool TryGet(in Hash256 hash, [NotNullWhen(true)] out StateNode? node) => _nodes.TryGet(hash, out node);

        public List<Hash256> LastNew { get; } = [];

        public void PutBatch(in Hash256 root, ReadOnlySpan<NewStateNode> nodes, ReadOnlySpan<Hash256> replaced)
        {
            _nodes.PutBatch(root, nodes, replaced);
            LastRoot = root;
            LastReplaced.Clear();
            LastReplaced.AddRange(replaced);
            LastNew.Clear();
            foreach (var node in nodes)
            {
                LastNew.Add(node.Hash);
            }
        }
    }

    /// <summary>A store that asks to be warmed ahead and records, in order, which nodes the tree hinted and read.</summary>
    private sealed class WarmingNodeStore : IStateNodeStore
    {
        public const int Hint = 0;
        public const int Read = 1;

        private readonly InMemoryStateNodeStore _nodes = new();

        public ConcurrentQueue<(int Kind, Hash256 Hash)> Events { get; } = new();

        public HashSet<Hash256> Hidden { get; } = [];

        public bool Warms { get; init; } = true;

        public bool WarmsAhead => Warms;

        public void PrefetchNode(in Hash256 hash) => Events.Enqueue((Hint, hash));

        public bool TryGet(in Hash256 hash, [NotNullWhen(true)] out StateNode? node)
        {
            node = null;
            return !Hidden.Contains(hash) && _nodes.TryGet(hash, out node);
        }

        public bool TryGetNode(in Hash256 hash, out Hash256 left, out Hash256 right, out StateLeafNode? leaf)
        {
            Events.Enqueue((Read, hash));
            if (TryGet(hash, out var node))
            {
                IStateNodeStore.Split(node, out left, out right, out leaf);
                return true;
            }

            (left, right, leaf) = (default, default, null);
            return false;
        }

        public void PutBatch(in Hash256 root, ReadOnlySpan<NewStateNode> nodes, ReadOnlySpan<Hash256> replaced) => _nodes.PutBatch(root, nodes, replaced);
    }

    private static StateWrite[] RandomWrites(Random random, Dictionary<Hash256, byte[]> state, int count, bool clustered)
    {
        var existing = state.Keys.ToArray();
        var writes = new StateWrite[count];
        for (var i = 0; i < count; i++)
        {
            var roll = random.Next(10);
            writes[i] = roll switch
            {
                < 4 => new StateWrite(RandomKey(random, clustered), RandomValue(random)),
                < 6 when existing.Length > 0 => new StateWrite(existing[random.Next(existing.Length)], RandomValue(random)),
                < 9 when existing.Length > 0 => new StateWrite(existing[random.Next(existing.Length)], null),
                9 when i > 0 => writes[random.Next(i)] with { Value = random.Next(2) == 0 ? null : RandomValue(random) },
                _ => new StateWrite(RandomKey(random, clustered), null),
            };
        }

        return writes;
    }

    /// <summary>A random key; clustered keys share long prefixes, so paths run deep and leaves split often.</summary>
    private static Hash256 RandomKey(Random random, bool clustered)
    {
        var bytes = new byte[32];
        random.NextBytes(bytes);
        if (clustered)
        {
            bytes[0] = (byte)random.Next(2);
            bytes[1] = 0xA5;
            bytes[2] = (byte)(random.Next(4) << 6);
        }

        return new Hash256(bytes);
    }

    private static byte[] RandomValue(Random random)
    {
        var value = new byte[random.Next(0, 48)];
        random.NextBytes(value);
        return value;
    }

    /// <summary>An in-memory store that counts the interior nodes each batch creates.</summary>
    private sealed class InteriorCountingStore : IStateNodeStore
    {
        private readonly InMemoryStateNodeStore _nodes = new();

        public int Interior { get; set; }

        public bool TryGet(in Hash256 hash, [NotNullWhen(true)] out StateNode? node) => _nodes.TryGet(hash, out node);

        public void PutBatch(in Hash256 root, ReadOnlySpan<NewStateNode> nodes, ReadOnlySpan<Hash256> replaced)
        {
            _nodes.PutBatch(root, nodes, replaced);
            foreach (var node in nodes)
            {
                Interior += node.Leaf is null ? 1 : 0;
            }
        }
    }

    public sealed class Eth() : StateTreeTests(CryptoSuiteId.Eth);

    public sealed class Gm() : StateTreeTests(CryptoSuiteId.Gm);
}
