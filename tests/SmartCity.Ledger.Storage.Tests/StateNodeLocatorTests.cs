using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Storage.Embedded;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>The state-node locator's copy for a snapshot: independent of the live table, and made into a handed-back copy's arrays.</summary>
public sealed class StateNodeLocatorTests
{
    [Fact]
    public void A_copy_holds_the_entries_of_its_moment_and_reuses_a_returned_copy_of_the_same_size()
    {
        var live = new StateNodeLocator(capacity: 1_000);
        for (var i = 1; i <= 500; i++)
        {
            live.Put(HashOf(i), StateNodeLocator.Pack(1, 100 + i), static _ => false);
        }

        var first = live.Copy();
        live.Put(HashOf(501), StateNodeLocator.Pack(2, 7), static _ => false);
        Assert.True(live.Remove(HashOf(1), static _ => true));

        // The copy is the table as it was: the put and the removal after it do not reach it.
        Assert.Equal(500, first.Count);
        Assert.Equal(Entries(first), Enumerable.Range(1, 500).Select(i => (StateNodeLocator.PrefixOf(HashOf(i)), StateNodeLocator.Pack(1, 100 + i))).Order());

        // Handed back, the next copy is made into its arrays, and is the live table now.
        var second = live.Copy(first);
        Assert.Same(first, second);
        Assert.Equal(Entries(live), Entries(second));
        Assert.Equal(live.Count, second.Count);

        // A copy of another size is not reused (the live table grew past it).
        for (var i = 502; i <= 3_000; i++)
        {
            live.Put(HashOf(i), StateNodeLocator.Pack(3, i), static _ => false);
        }

        var third = live.Copy(second);
        Assert.NotSame(second, third);
        Assert.Equal(Entries(live), Entries(third));
        Assert.Equal(1, third.Candidates(HashOf(2_000), stackalloc long[4]));
    }

    private static Hash256 HashOf(int i) => Keccak256.Hash(BitConverter.GetBytes(i));

    private static List<(ulong, long)> Entries(StateNodeLocator locator) => [.. locator.Entries().Order()];
}
