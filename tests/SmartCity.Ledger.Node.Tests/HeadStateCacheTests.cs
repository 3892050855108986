using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>
/// The head state cache's bound in bytes: it counts each value's length plus a fixed cost an entry, an overwrite
/// counts only the difference, and once over the bound the next block starts it again empty; a read is always the
/// head's value, whatever the cache held.
/// </summary>
public sealed class HeadStateCacheTests
{
    private const int Overhead = LedgerChainOptions.HeadStateCacheEntryOverhead;

    [Fact]
    public void The_bytes_it_holds_are_counted_and_past_the_bound_it_starts_again_empty()
    {
        var tree = new StateTree(new InMemoryStateNodeStore(), CryptoSuite.Eth);
        var cache = new HeadStateCache(tree, capacity: 1 << 20, maxBytes: 10_000);
        var root = StateTree.EmptyRoot;
        cache.Start(root, []);

        // Five values of 1,000 bytes: 5 × (1,000 + the entry's cost).
        var first = Enumerable.Range(0, 5).Select(i => new StateWrite(Key(i), Value(i, 1_000))).ToList();
        root = Advance(cache, tree, root, first);
        Assert.Equal(5 * (1_000 + Overhead), cache.Bytes);

        // An overwrite counts the difference; a deletion keeps its entry (the head says "absent") at no value bytes.
        root = Advance(cache, tree, root, [new StateWrite(Key(0), Value(0, 400)), new StateWrite(Key(1), null)]);
        Assert.Equal((5 * (1_000 + Overhead)) - 600 - 1_000, cache.Bytes);

        // A block that takes it past the bound is kept; the next one starts it again empty and holds only its own writes.
        root = Advance(cache, tree, root, [.. Enumerable.Range(10, 8).Select(i => new StateWrite(Key(i), Value(i, 1_000)))]);
        Assert.True(cache.Bytes > 10_000);
        root = Advance(cache, tree, root, [new StateWrite(Key(30), Value(30, 100))]);
        Assert.Equal(0, cache.Bytes); // cleared, and this block's writes not kept (they would be cached from reads)

        // Every read is the head's value, from the cache or the tree, and a read puts the value back in.
        var reader = cache.ReaderAt(root);
        Assert.Equal(Value(0, 400), reader.Get(Key(0)));
        Assert.Null(reader.Get(Key(1)));
        Assert.Equal(Value(12, 1_000), reader.Get(Key(12)));
        Assert.Equal(Value(30, 100), reader.Get(Key(30)));
        Assert.Equal(400 + 0 + 1_000 + 100 + (4 * Overhead), cache.Bytes);
        Assert.All(Enumerable.Range(2, 3).Concat(Enumerable.Range(10, 8)), i => Assert.Equal(Value(i, 1_000), reader.Get(Key(i))));
        Assert.Equal(tree.Get(root, Key(15)), reader.Get(Key(15)));
    }

    [Fact]
    public void A_read_that_finds_it_over_its_bound_starts_it_again_empty()
    {
        var tree = new StateTree(new InMemoryStateNodeStore(), CryptoSuite.Eth);
        var root = tree.Apply(StateTree.EmptyRoot, [.. Enumerable.Range(0, 20).Select(i => new StateWrite(Key(i), Value(i, 600)))]);
        var cache = new HeadStateCache(tree, capacity: 1 << 20, maxBytes: 3_000);
        cache.Start(root, Enumerable.Range(0, 20).Select(Key));
        var reader = cache.ReaderAt(root);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(Value(i, 600), reader.Get(Key(i)));
            Assert.True(cache.Bytes <= 3_000 + 600 + Overhead, $"{cache.Bytes} bytes after {i + 1} reads");
        }
    }

    [Fact]
    public void Values_over_a_lowered_bound_go_at_once_and_are_read_again_from_the_tree_and_the_key_filter_still_answers_absent_keys()
    {
        var tree = new StateTree(new InMemoryStateNodeStore(), CryptoSuite.Eth);
        var cache = new HeadStateCache(tree, capacity: 1 << 20);
        var root = StateTree.EmptyRoot;
        cache.Start(root, []);
        root = Advance(cache, tree, root, [.. Enumerable.Range(0, 10).Select(i => new StateWrite(Key(i), Value(i, 100)))]);
        var ten = 10 * (100 + Overhead);
        Assert.Equal(ten, cache.Bytes);

        cache.SetMaxBytes(ten); // at the bound: nothing goes
        Assert.Equal(ten, cache.Bytes);

        cache.SetMaxBytes(ten / 2); // the memory budget's share of it
        Assert.Equal(0, cache.Bytes);
        Assert.True(cache.KeysComplete);
        var reader = cache.ReaderAt(root);
        Assert.Equal(Value(3, 100), reader.Get(Key(3)));
        Assert.Null(reader.Get(Key(99)));
        Assert.Equal(100 + Overhead, cache.Bytes); // the value read back; the absent key was answered from the filter

        // The next blocks go on under the new bound: past it the cache starts again empty, as it does at its own.
        root = Advance(cache, tree, root, [new StateWrite(Key(3), Value(33, 50))]);
        Assert.Equal(Value(33, 50), cache.ReaderAt(root).Get(Key(3)));
        root = Advance(cache, tree, root, [.. Enumerable.Range(10, 10).Select(i => new StateWrite(Key(i), Value(i, 100)))]);
        Assert.True(cache.Bytes > ten / 2);
        root = Advance(cache, tree, root, [new StateWrite(Key(40), Value(40, 100))]);
        Assert.Equal(0, cache.Bytes);
        Assert.Equal(Value(12, 100), cache.ReaderAt(root).Get(Key(12)));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.SetMaxBytes(-1));
    }

    private static Hash256 Advance(HeadStateCache cache, StateTree tree, Hash256 root, List<StateWrite> writes)
    {
        var next = tree.Apply(root, [.. writes]);
        cache.Advance(root, next, writes);
        return next;
    }

    private static Hash256 Key(int i) => Keccak256.Hash(BitConverter.GetBytes(i));

    private static byte[] Value(int i, int length) => [.. Enumerable.Range(0, length).Select(k => (byte)(i + k))];
}
