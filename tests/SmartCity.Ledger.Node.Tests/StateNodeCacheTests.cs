using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node.Tests;

public sealed class StateNodeCacheTests
{
    private const int Ways = StateNodeCache.Ways;

    private static Hash256 H(int n, int salt = 0) => Keccak256.Hash(BitConverter.GetBytes(((long)salt << 32) | (uint)n));

    private static StateInternalNode Interior(int n) => new(H(n, 1), H(n, 2));

    [Fact]
    public void A_capacity_is_rounded_down_to_a_power_of_two_so_the_tables_stay_within_what_was_asked()
    {
        Assert.Equal(new StateNodeCache(2048).TableBytes, new StateNodeCache(3000).TableBytes);
        Assert.True(new StateNodeCache(4096).TableBytes > new StateNodeCache(4095).TableBytes);
        Assert.Equal(2 * new StateNodeCache(1 << 14).TableBytes, new StateNodeCache(1 << 15).TableBytes);
    }

    [Fact]
    public void The_chains_default_budget_sizes_tables_that_fit_in_it()
    {
        var budget = LedgerChainOptions.Default.StateNodeCacheBytes;
        var cache = new StateNodeCache((int)(budget / LedgerChainOptions.StateNodeCacheEntryBytes));

        // All three tables (a tree in pages writes only the leaves and pages: ~60 % of it) within the budget.
        Assert.InRange(cache.TableBytes, budget / 2, budget);
    }

    [Fact]
    public void A_node_comes_back_as_it_went_in_and_an_absent_hash_misses()
    {
        var cache = new StateNodeCache(1 << 12);
        var leaf = new StateLeafNode(H(7, 3), [1, 2, 3]);
        cache.Add(H(1), Interior(1));
        cache.Add(H(2), leaf);

        Assert.True(cache.TryGet(H(1), out var interior));
        var inner = Assert.IsType<StateInternalNode>(interior);
        Assert.Equal(H(1, 1), inner.Left);
        Assert.Equal(H(1, 2), inner.Right);
        Assert.True(cache.TryGet(H(2), out var back));
        var backLeaf = Assert.IsType<StateLeafNode>(back);
        Assert.Equal(leaf.Key, backLeaf.Key);
        Assert.Same(leaf.Value, backLeaf.Value); // the value array is shared, never copied
        Assert.False(cache.TryGet(H(3), out _));
    }

    [Fact]
    public void A_page_is_held_by_value_and_comes_back_with_its_slots_and_inner_hashes()
    {
        // Pages of every size the tree makes (from 2 to 16 occupied slots, leaves and subtrees mixed), through both ways
        // in: a node a batch built and a node read from the store, which is held only once its inner hashes are known.
        var cache = new StateNodeCache(1 << 12);
        for (var n = 0; n < 40; n++)
        {
            var page = Page(n);
            var hash = page.ComputeHash(CryptoSuite.Eth);
            if (n % 2 == 0)
            {
                cache.Add(NewStateNode.OfPage(hash, page));
            }
            else
            {
                cache.Add(hash, page);
            }

            var back = Assert.IsType<StatePageNode>(cache.TryGet(hash, out var node) ? node : null);
            Assert.NotSame(page, back); // copied out of the table, not kept as an object
            Assert.Equal(page.Encode(), back.Encode());
            Assert.Equal(hash, back.ComputeHash(CryptoSuite.Eth));
            for (var inner = 1; inner < 2 * StatePageNode.SlotCount; inner++)
            {
                Assert.Equal(page.Inner(inner, CryptoSuite.Eth), back.Inner(inner, CryptoSuite.Eth));
            }

            // The tree's read: spread into its buffers (16 slots, 16 inner hashes in heap order), no object.
            var slots = new Hash256[StatePageNode.SlotCount];
            var innerHashes = new Hash256[StatePageNode.SlotCount];
            Assert.True(cache.TryReadPage(hash, slots, innerHashes, out var leaves));
            Assert.Equal(page.Leaves, leaves);
            for (var i = 0; i < StatePageNode.SlotCount; i++)
            {
                Assert.Equal(page.Child(i), slots[i]);
                Assert.Equal(i == 0 ? default : page.Inner(i, CryptoSuite.Eth), i == 0 ? default : innerHashes[i]);
            }

            cache.Remove(hash);
            Assert.False(cache.TryReadPage(hash, slots, innerHashes, out _));
            Assert.False(cache.TryGet(hash, out _));
        }

        var decoded = Assert.IsType<StatePageNode>(StateNode.Decode(Page(3).Encode())); // as read from a store
        var decodedHash = Page(3).ComputeHash(CryptoSuite.Eth);
        cache.Add(decodedHash, decoded);
        Assert.False(cache.TryGet(decodedHash, out _)); // its inner hashes not yet computed: not worth a slot
        Assert.Equal(decodedHash, decoded.ComputeHash(CryptoSuite.Eth)); // the store's read checks it, which computes them
        cache.Add(decodedHash, decoded);
        Assert.True(cache.TryGet(decodedHash, out _));
    }

    /// <summary>A page with 2-16 occupied slots (n picks which), some of them leaves; its inner hashes computed.</summary>
    private static StatePageNode Page(int n)
    {
        var random = new Random(n);
        var slots = new Hash256[StatePageNode.SlotCount];
        ushort leaves = 0;
        var occupied = 2 + (n % 15);
        foreach (var slot in Enumerable.Range(0, StatePageNode.SlotCount).OrderBy(_ => random.Next()).Take(occupied))
        {
            slots[slot] = H(n * 100 + slot, 5);
            leaves |= random.Next(2) == 0 ? (ushort)(1 << slot) : (ushort)0;
        }

        Assert.True(StatePageNode.TryCreate(slots, leaves, out var page));
        page!.ComputeHash(CryptoSuite.Eth);
        return page;
    }

    [Fact]
    public void A_removed_node_misses_and_its_slot_takes_the_next_insert_before_a_live_node()
    {
        var cache = new StateNodeCache(1 << 12);
        var leaf = new StateLeafNode(H(7, 3), [1, 2, 3]);
        cache.Add(H(1), Interior(1));
        cache.Add(H(2), leaf);
        cache.Remove(H(1));
        cache.Remove(H(2));
        cache.Remove(H(3)); // absent: nothing happens

        Assert.False(cache.TryGet(H(1), out _));
        Assert.False(cache.TryGet(H(2), out _));

        // One set of the interior table, full: older live nodes in all ways but one and a newer node that is then removed.
        // The next insert takes the removed node's slot, not a live node's (the oldest, by age alone, would have been the
        // one to go).
        var live = SameSetAs(1).Take(Ways - 1).ToArray();
        var next = SameSetAs(1).Skip(Ways - 1).First();
        foreach (var n in live)
        {
            cache.Add(H(n), Interior(n));
        }

        cache.Add(H(1), Interior(1));
        cache.Remove(H(1));
        cache.Add(H(next), Interior(next));
        foreach (var n in live)
        {
            Assert.True(cache.TryGet(H(n), out var kept));
            Assert.Equal(H(n, 1), Assert.IsType<StateInternalNode>(kept).Left);
        }

        Assert.True(cache.TryGet(H(next), out _));
        Assert.False(cache.TryGet(H(1), out _));
    }

    [Fact]
    public void A_full_set_keeps_its_nodes_and_one_more_pushes_out_the_oldest()
    {
        // As many live nodes as a set has ways all stay: with two ways every insert into a set of three live nodes pushed
        // one out, and with four a set of five (a few in a hundred sets of a chain's working tree); the next block read it
        // back from the store.
        var cache = new StateNodeCache(1 << 12);
        var set = SameSetAs(1).Take(Ways + 1).ToArray();
        foreach (var n in set[..Ways])
        {
            cache.Add(H(n), Interior(n));
        }

        Assert.All(set[..Ways], n => Assert.True(cache.TryGet(H(n), out _)));

        cache.Add(H(set[Ways]), Interior(set[Ways]));
        Assert.False(cache.TryGet(H(set[0]), out _));
        Assert.All(set[1..], n => Assert.True(cache.TryGet(H(n), out _)));

        // Leaves too.
        var leaves = SameLeafSetAs(999).Take(Ways + 1).ToArray();
        foreach (var n in leaves)
        {
            cache.Add(H(n), new StateLeafNode(H(n, 3), [1]));
        }

        Assert.False(cache.TryGet(H(leaves[0]), out _));
        Assert.All(leaves[1..], n => Assert.True(cache.TryGet(H(n), out var leaf) && ((StateLeafNode)leaf).Key == H(n, 3)));
    }

    [Fact]
    public void Prefetching_for_an_insert_or_a_removal_changes_nothing_held()
    {
        // The hints read a set's metadata and pick the slot an insert would take: on full sets, for held and absent
        // hashes, leaves, interior nodes and pages, in every table, nothing is written, pushed out or left behind.
        var cache = new StateNodeCache(1 << 12);
        var set = SameSetAs(1).Take(Ways + 1).ToArray();
        var leaves = SameLeafSetAs(999).Take(Ways + 1).ToArray();
        foreach (var n in set[..Ways])
        {
            cache.Add(H(n), Interior(n));
        }

        foreach (var n in leaves[..Ways])
        {
            cache.Add(H(n), new StateLeafNode(H(n, 3), [1]));
        }

        var pages = Enumerable.Range(0, 6).Select(n => (Page: Page(n), Hash: Page(n).ComputeHash(CryptoSuite.Eth))).ToArray();
        foreach (var (page, hash) in pages[..5])
        {
            cache.Add(NewStateNode.OfPage(hash, page));
        }

        foreach (var hash in set.Concat(leaves).Select(n => H(n)).Concat(pages.Select(p => p.Hash)))
        {
            foreach (var node in new[] { NewStateNode.Interior(hash, H(7), H(8)), NewStateNode.OfLeaf(hash, new StateLeafNode(H(9), [2])), NewStateNode.OfPage(hash, pages[5].Page) })
            {
                cache.PrefetchMetadata(node);
                cache.PrefetchSlot(node);
            }

            cache.PrefetchRemoval(hash);
            cache.PrefetchRemovalSlot(hash);
            cache.PrefetchMetadata(hash);
            cache.PrefetchEntry(hash);
        }

        Assert.All(set[..Ways], n => Assert.Equal(H(n, 1), Assert.IsType<StateInternalNode>(cache.TryGet(H(n), out var node) ? node : null).Left));
        Assert.All(leaves[..Ways], n => Assert.Equal(H(n, 3), Assert.IsType<StateLeafNode>(cache.TryGet(H(n), out var node) ? node : null).Key));
        Assert.All(pages[..5], p => Assert.Equal(p.Page.Encode(), Assert.IsType<StatePageNode>(cache.TryGet(p.Hash, out var node) ? node : null).Encode()));
        Assert.False(cache.TryGet(H(set[Ways]), out _));
        Assert.False(cache.TryGet(H(leaves[Ways]), out _));
        Assert.False(cache.TryGet(pages[5].Hash, out _));
    }

    [Fact]
    public void The_values_its_leaves_keep_alive_stay_within_their_bound()
    {
        // A leaf slot is 68 bytes, but the value array it holds is as long as the state value: the cache counts those
        // bytes, skips an insert that would pass its bound, always lets a shorter value replace a longer one, and gives
        // the bytes back when a leaf is dropped or replaced.
        var cache = new StateNodeCache(1 << 12, leafValueBytes: 10_000);
        for (var n = 0; n < 9; n++)
        {
            cache.Add(NewStateNode.OfLeaf(H(n), new StateLeafNode(H(n, 3), new byte[1_000])));
        }

        Assert.Equal(9_000, cache.LeafValueBytes);
        cache.Add(NewStateNode.OfLeaf(H(9), new StateLeafNode(H(9, 3), new byte[1_500]))); // 10,500: over the bound
        Assert.False(cache.TryGetLeaf(H(9), out _));
        Assert.Equal(9_000, cache.LeafValueBytes);
        cache.Add(NewStateNode.OfLeaf(H(10), new StateLeafNode(H(10, 3), new byte[1_000]))); // 10,000: at the bound
        Assert.True(cache.TryGetLeaf(H(10), out _));
        Assert.Equal(10_000, cache.LeafValueBytes);

        cache.Remove(H(0));
        cache.Remove(H(1));
        Assert.Equal(8_000, cache.LeafValueBytes);
        Assert.False(cache.TryGet(H(0), out _));
        cache.Add(NewStateNode.OfLeaf(H(9), new StateLeafNode(H(9, 3), new byte[1_500])));
        Assert.Equal(9_500, cache.LeafValueBytes);
        Assert.Equal(1_500, Assert.IsType<StateLeafNode>(cache.TryGet(H(9), out var node) ? node : null).Value.Length);
        Assert.All(Enumerable.Range(2, 8).Append(10), n => Assert.True(cache.TryGetLeaf(H(n), out _)));

        // Under eviction (a small cache, many leaves into few sets) the count stays the sum of what the slots hold.
        var small = new StateNodeCache(1024, leafValueBytes: 50_000);
        var random = new Random(3);
        for (var n = 0; n < 5_000; n++)
        {
            small.Add(NewStateNode.OfLeaf(H(n), new StateLeafNode(H(n, 3), new byte[random.Next(1, 200)])));
            if (n % 7 == 0)
            {
                small.Remove(H(n / 2));
            }
        }

        var held = Enumerable.Range(0, 5_000).Sum(n => small.TryGetLeaf(H(n), out var leaf) ? (long)leaf.Value.Length : 0);
        Assert.Equal(held, small.LeafValueBytes);
        Assert.InRange(small.LeafValueBytes, 1, 50_000);
    }

    [Fact]
    public void A_lowered_leaf_value_bound_lets_the_leaves_go_at_once_and_keeps_the_other_nodes()
    {
        // The memory budget's share (MemoryGovernor): values over the new bound go now, so a collection can return them.
        var cache = new StateNodeCache(1 << 12, leafValueBytes: 100_000);
        var page = Page(7);
        var pageHash = page.ComputeHash(CryptoSuite.Eth);
        cache.Add(H(1_000), Interior(1_000));
        cache.Add(pageHash, page);
        for (var n = 0; n < 50; n++)
        {
            cache.Add(NewStateNode.OfLeaf(H(n), new StateLeafNode(H(n, 3), new byte[1_000])));
        }

        Assert.Equal(50_000, cache.LeafValueBytes);
        cache.SetLeafValueBound(60_000); // still within: nothing goes
        Assert.Equal((60_000, 50_000), (cache.LeafValueBound, cache.LeafValueBytes));
        Assert.All(Enumerable.Range(0, 50), n => Assert.True(cache.TryGetLeaf(H(n), out _)));

        cache.SetLeafValueBound(20_000);
        Assert.Equal(0, cache.LeafValueBytes);
        Assert.All(Enumerable.Range(0, 50), n => Assert.False(cache.TryGet(H(n), out _)));
        Assert.True(cache.TryGet(H(1_000), out _));
        Assert.True(cache.TryGet(pageHash, out _));

        // Under the new bound leaves are taken again, up to it; raised, as many as before.
        for (var n = 0; n < 50; n++)
        {
            cache.Add(NewStateNode.OfLeaf(H(n), new StateLeafNode(H(n, 3), new byte[1_000])));
        }

        Assert.Equal(20_000, cache.LeafValueBytes);
        cache.SetLeafValueBound(100_000);
        for (var n = 0; n < 50; n++)
        {
            cache.Add(NewStateNode.OfLeaf(H(n), new StateLeafNode(H(n, 3), new byte[1_000])));
        }

        Assert.Equal(50_000, cache.LeafValueBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.SetLeafValueBound(-1));
    }

    [Fact]
    public async Task Leaves_released_while_writers_add_and_readers_read_keep_the_count_true()
    {
        // The governor releases from its own thread while the writer commits and readers walk: a released slot must
        // never pair a hash with another leaf's value, and the bytes counted must stay what the slots hold.
        var cache = new StateNodeCache(1024, leafValueBytes: 200_000);
        var leaves = Enumerable.Range(0, 4096).Select(n => new StateLeafNode(H(n, 3), new byte[1 + (n % 97)])).ToArray();
        using var stop = new CancellationTokenSource();
        var releases = 0;
        var workers = new[]
        {
            Task.Factory.StartNew(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    for (var n = 0; n < leaves.Length; n++)
                    {
                        cache.Add(NewStateNode.OfLeaf(H(n), leaves[n]));
                    }
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default),
            Task.Factory.StartNew(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    for (var n = 0; n < leaves.Length; n++)
                    {
                        if (cache.TryGetLeaf(H(n), out var leaf))
                        {
                            Assert.Same(leaves[n].Value, leaf.Value);
                            Assert.Equal(leaves[n].Key, leaf.Key);
                        }
                    }
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default),
            Task.Factory.StartNew(() =>
            {
                // Releases, and shares that give up most of the sets and take them back (their values counted out).
                while (!stop.IsCancellationRequested)
                {
                    var round = Interlocked.Increment(ref releases);
                    switch (round % 3)
                    {
                        case 0: cache.ReleaseLeaves(); break;
                        case 1: cache.SetShare(0.1); break;
                        default: cache.SetShare(1); break;
                    }

                    Thread.Sleep(1);
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default),
        };

        SpinWait.SpinUntil(() => Volatile.Read(ref releases) >= 300, TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        Assert.True(Volatile.Read(ref releases) >= 300, $"{releases} releases");
        cache.SetShare(1);
        var held = Enumerable.Range(0, leaves.Length).Sum(n => cache.TryGetLeaf(H(n), out var leaf) ? (long)leaf.Value.Length : 0);
        Assert.InRange(held, 0, cache.LeafValueBytes); // slots of sets given up and taken back may hold what no look-up reaches
        cache.ReleaseLeaves();
        Assert.Equal(0, cache.LeafValueBytes); // every byte counted in was counted out: no slot kept a value uncounted
        Assert.All(Enumerable.Range(0, leaves.Length), n => Assert.False(cache.TryGetLeaf(H(n), out _)));
    }

    [Fact]
    public void A_smaller_share_gives_up_table_sets_and_leaf_values_and_a_larger_one_gives_back_only_the_values_bound()
    {
        var cache = new StateNodeCache(1 << 14, leafValueBytes: 1_000_000);
        var pages = Enumerable.Range(0, 600).Select(n => Page(n)).ToArray();
        var pageHashes = pages.Select(p => p.ComputeHash(CryptoSuite.Eth)).ToArray();
        for (var n = 0; n < pages.Length; n++)
        {
            cache.Add(pageHashes[n], pages[n]);
            cache.Add(NewStateNode.OfLeaf(H(n), new StateLeafNode(H(n, 3), new byte[100])));
        }

        var whole = cache.TableBytes;
        Assert.Equal((1.0, 60_000L), (cache.TableShare, cache.LeafValueBytes));

        // A share of 0.3: 30 % of the values' bound, half the sets (the smallest power of two that holds the share).
        cache.SetShare(0.3);
        Assert.Equal((0.5, 300_000L), (cache.TableShare, cache.LeafValueBound));
        Assert.True(cache.TableBytes < whole, $"{cache.TableBytes} of {whole} bytes");
        var pagesFound = Enumerable.Range(0, pages.Length).Count(n => cache.TryGet(pageHashes[n], out var node) && ((StatePageNode)node).Encode().SequenceEqual(pages[n].Encode()));
        var leavesFound = Enumerable.Range(0, pages.Length).Count(n => cache.TryGetLeaf(H(n), out var leaf) && leaf.Key == H(n, 3));
        Assert.InRange(pagesFound, 200, 400); // those in the sets kept, about half
        Assert.InRange(leavesFound, 200, 400);
        Assert.Equal(leavesFound * 100, cache.LeafValueBytes); // the values of the sets given up counted out

        // Nodes added now go to the sets in use and are found; at the least share, a quarter of the sets.
        cache.Add(NewStateNode.OfLeaf(H(5_000), new StateLeafNode(H(5_000, 3), [1, 2, 3])));
        Assert.True(cache.TryGetLeaf(H(5_000), out _));
        cache.SetShare(0.01);
        Assert.Equal((0.25, 10_000L), (cache.TableShare, cache.LeafValueBound));
        Assert.Equal(0, cache.LeafValueBytes); // past the new bound: every leaf went

        // Whole again: the values' bound comes back, the sets given up do not (never read again: see SetShare).
        var quarter = cache.TableBytes;
        cache.SetShare(1);
        Assert.Equal((0.25, 1_000_000L), (cache.TableShare, cache.LeafValueBound));
        Assert.Equal(quarter, cache.TableBytes);
        for (var n = 0; n < pages.Length; n++)
        {
            cache.Add(pageHashes[n], pages[n]);
            cache.Add(NewStateNode.OfLeaf(H(n), new StateLeafNode(H(n, 3), new byte[100])));
        }

        // Every hash picks one of the sets kept: a quarter of the leaf sets holds all the leaves, and the pages (128
        // sets of eight) all but the few their fullest sets pushed out; whatever is found is the node of its hash.
        Assert.All(Enumerable.Range(0, pages.Length), n => Assert.True(cache.TryGetLeaf(H(n), out var leaf) && leaf.Key == H(n, 3)));
        var found = 0;
        for (var n = 0; n < pages.Length; n++)
        {
            if (cache.TryGet(pageHashes[n], out var node))
            {
                Assert.Equal(pages[n].Encode(), ((StatePageNode)node).Encode());
                found++;
            }
        }

        Assert.InRange(found, 550, 600);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.SetShare(1.5));
    }

    [Fact]
    public void A_cache_of_pages_and_leaves_finds_and_drops_them_without_its_interior_table_and_takes_interior_nodes_later()
    {
        // A tree in pages never inserts an interior node, and then the cache skips that table on every look-up and
        // removal; the first interior node inserted (a store written before pages) is found and dropped as before.
        var cache = new StateNodeCache(1 << 12);
        var (page, pageHash) = (Page(4), Page(4).ComputeHash(CryptoSuite.Eth));
        cache.Add(NewStateNode.OfPage(pageHash, page));
        foreach (var n in Enumerable.Range(0, 50))
        {
            cache.Add(NewStateNode.OfLeaf(H(n), new StateLeafNode(H(n, 3), BitConverter.GetBytes(n))));
        }

        Assert.False(cache.TryGetInterior(H(0), out _, out _)); // a leaf is not an interior node
        Assert.All(Enumerable.Range(0, 50), n => Assert.Equal(BitConverter.GetBytes(n), Assert.IsType<StateLeafNode>(cache.TryGet(H(n), out var node) ? node : null).Value));
        foreach (var n in Enumerable.Range(0, 25))
        {
            cache.PrefetchRemoval(H(n));
            cache.PrefetchRemovalSlot(H(n));
            cache.Remove(H(n));
        }

        cache.Remove(pageHash);
        Assert.All(Enumerable.Range(0, 25), n => Assert.False(cache.TryGet(H(n), out _)));
        Assert.All(Enumerable.Range(25, 25), n => Assert.True(cache.TryGetLeaf(H(n), out _)));
        Assert.False(cache.TryGet(pageHash, out _));

        cache.Add(H(100), Interior(100));
        Assert.True(cache.TryGetInterior(H(100), out var left, out _));
        Assert.Equal(H(100, 1), left);
        cache.Remove(H(100));
        Assert.False(cache.TryGet(H(100), out _));
        Assert.True(cache.TryGetLeaf(H(30), out _));
    }

    [Fact]
    public void A_hit_keeps_a_node_so_the_insert_pushes_out_the_one_unused_longest()
    {
        // The hot top of the tree was inserted long ago but is read by every block: a hit counts as a use, so an insert
        // into its full set pushes out a node nobody asked for since, not the first one inserted.
        var cache = new StateNodeCache(1 << 12);
        var set = SameSetAs(1).Take(Ways + 1).ToArray();
        foreach (var n in set[..Ways])
        {
            cache.Add(H(n), Interior(n));
        }

        Assert.True(cache.TryGet(H(set[0]), out _));
        cache.Add(H(set[Ways]), Interior(set[Ways]));
        Assert.False(cache.TryGet(H(set[1]), out _));
        Assert.All(set.Except([set[1]]), n => Assert.True(cache.TryGet(H(n), out _)));

        var leaves = SameLeafSetAs(999).Take(Ways + 1).ToArray();
        foreach (var n in leaves[..Ways])
        {
            cache.Add(H(n), new StateLeafNode(H(n, 3), [1]));
        }

        Assert.True(cache.TryGet(H(leaves[0]), out _));
        cache.Add(H(leaves[Ways]), new StateLeafNode(H(leaves[Ways], 3), [1]));
        Assert.False(cache.TryGet(H(leaves[1]), out _));
        Assert.All(leaves.Except([leaves[1]]), n => Assert.True(cache.TryGet(H(n), out _)));
    }

    // Ids whose hashes fall in the same interior set as H(id) in a 4,096-entry cache (4,096 / Ways sets).
    private static IEnumerable<int> SameSetAs(int id)
        => Enumerable.Range(100, 1_000_000).Where(n => (BitConverter.ToUInt64(H(n).Bytes) & ((4096 / Ways) - 1)) == (BitConverter.ToUInt64(H(id).Bytes) & ((4096 / Ways) - 1)));

    // Ids above id whose hashes fall in the same leaf set as H(id) in a 4,096-entry cache (4,096 leaf slots, 4,096 / Ways sets).
    private static IEnumerable<int> SameLeafSetAs(int id)
        => Enumerable.Range(id + 1, 1_000_000).Where(n => (BitConverter.ToUInt64(H(n).Bytes) & ((4096 / Ways) - 1)) == (BitConverter.ToUInt64(H(id).Bytes) & ((4096 / Ways) - 1)));

    [Fact]
    public void Under_eviction_a_hit_is_always_the_node_of_that_hash()
    {
        var cache = new StateNodeCache(1024);
        for (var n = 0; n < 20_000; n++)
        {
            cache.Add(H(n), n % 5 == 0 ? new StateLeafNode(H(n, 3), BitConverter.GetBytes(n)) : Interior(n));
        }

        var hits = 0;
        for (var n = 0; n < 20_000; n++)
        {
            if (!cache.TryGet(H(n), out var node))
            {
                continue;
            }

            hits++;
            if (node is StateLeafNode leaf)
            {
                Assert.Equal(H(n, 3), leaf.Key);
            }
            else
            {
                var inner = Assert.IsType<StateInternalNode>(node);
                Assert.Equal((H(n, 1), H(n, 2)), (inner.Left, inner.Right));
            }
        }

        Assert.InRange(hits, 1000, 20_000); // bounded: most are evicted, the newest stay
        Assert.True(cache.TryGet(H(19_999), out _));
    }

    [Fact]
    public async Task Readers_racing_writers_never_see_a_node_under_another_hash()
    {
        // A small table, so writers overwrite the slots readers copy from; a torn copy would pair a hash with
        // another node's children, or a leaf's hash with another leaf's key or value, or a page with another's slots.
        // One node in three is a leaf, one in five a page (of varying size: the page table's slots hold up to 31 hashes).
        var cache = new StateNodeCache(1024);
        var hashes = Enumerable.Range(0, 4096).Select(n => H(n)).ToArray();
        var nodes = Enumerable.Range(0, 4096).Select(n => n % 3 == 0 ? new StateLeafNode(H(n, 3), BitConverter.GetBytes(n)) : n % 5 == 0 ? Page(n) : (StateNode)Interior(n)).ToArray();
        using var stop = new CancellationTokenSource();
        var writerPasses = 0L;

        // Writers on threads of their own (LongRunning): on a loaded 2-core machine thread-pool writers could start only
        // after the readers had finished, and nothing would have raced.
        var writers = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(
            () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    for (var n = 0; n < hashes.Length; n++)
                    {
                        cache.Add(hashes[n], nodes[n]);
                    }

                    Interlocked.Increment(ref writerPasses);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();

        // Readers start once both writers have filled the table, and read until the writers have made 20 more passes
        // while they read (at least 100 rounds, at most 100,000).
        SpinWait.SpinUntil(() => Interlocked.Read(ref writerPasses) >= 2, TimeSpan.FromSeconds(60));
        var passesAtStart = Interlocked.Read(ref writerPasses);
        var checkedHits = 0L;
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(
            () =>
            {
                for (var round = 0; round < 100_000 && (round < 100 || Interlocked.Read(ref writerPasses) < passesAtStart + 20); round++)
                {
                    for (var n = 0; n < hashes.Length; n++)
                    {
                        if (!cache.TryGet(hashes[n], out var node))
                        {
                            continue;
                        }

                        if (nodes[n] is StateLeafNode leaf)
                        {
                            var back = Assert.IsType<StateLeafNode>(node);
                            Assert.Equal(leaf.Key, back.Key);
                            Assert.Same(leaf.Value, back.Value);
                        }
                        else if (nodes[n] is StatePageNode page)
                        {
                            var back = Assert.IsType<StatePageNode>(node);
                            Assert.Equal(page.Encode(), back.Encode());
                            Assert.Equal(page.Inner(1, CryptoSuite.Eth), back.Inner(1, CryptoSuite.Eth));
                        }
                        else
                        {
                            var inner = Assert.IsType<StateInternalNode>(node);
                            Assert.Equal(((StateInternalNode)nodes[n]).Left, inner.Left);
                            Assert.Equal(((StateInternalNode)nodes[n]).Right, inner.Right);
                        }

                        Interlocked.Increment(ref checkedHits);
                    }
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();

        try
        {
            await Task.WhenAll(readers);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }

        Assert.True(passesAtStart >= 2, "the writers did not fill the table within a minute");
        Assert.True(Interlocked.Read(ref writerPasses) > passesAtStart, "the writers made no pass while the readers read");
        Assert.True(checkedHits > 0);
    }
}
