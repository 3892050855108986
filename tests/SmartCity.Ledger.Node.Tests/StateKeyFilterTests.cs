using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Node.Tests;

public sealed class StateKeyFilterTests
{
    private static Hash256 Key(int n) => Keccak256.Hash(BitConverter.GetBytes(n));

    [Fact]
    public void Every_added_key_may_be_present_and_keys_never_added_are_absent_across_growth()
    {
        var filter = new StateKeyFilter();
        for (var n = 0; n < 50_000; n++)
        {
            filter.Add(Key(n));
            filter.Add(Key(n)); // twice: counted once
        }

        Assert.Equal(50_000, filter.Count);
        Assert.All(Enumerable.Range(0, 50_000), n => Assert.True(filter.MayContain(Key(n))));

        // 64-bit fingerprints of Keccak digests: a false "maybe" among 50,000 fresh keys has odds of about 1 in 10^10.
        Assert.DoesNotContain(Enumerable.Range(50_000, 50_000), n => filter.MayContain(Key(n)));
    }

    [Fact]
    public void A_key_whose_first_eight_bytes_are_zero_is_still_found()
    {
        var filter = new StateKeyFilter();
        var zeroPrefix = new byte[32];
        zeroPrefix[31] = 7;
        var key = new Hash256(zeroPrefix);

        Assert.False(filter.MayContain(key));
        filter.Add(key);
        Assert.True(filter.MayContain(key));
    }
}
