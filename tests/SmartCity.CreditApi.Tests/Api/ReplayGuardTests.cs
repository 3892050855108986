using SmartCity.CreditApi.Services.Api;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Tests.Api;

public sealed class ReplayGuardTests
{
    private static readonly Address Member = Address.Parse("0x00000000000000000000000000000000000000a1");
    private static readonly ApiOptions Options = new() { ReplayWindow = TimeSpan.FromSeconds(60), MaxRememberedNonces = 1000 };

    private static byte[] Nonce(int n)
    {
        var nonce = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(nonce.AsSpan(12), n);
        return nonce;
    }

    [Fact]
    public void Refuses_a_nonce_it_has_seen_within_twice_the_window()
    {
        var guard = new ReplayGuard(Options);
        Assert.Equal(ReplayGuard.Outcome.Fresh, guard.Remember(Member, Nonce(1), 1_000_000));
        Assert.Equal(ReplayGuard.Outcome.Replayed, guard.Remember(Member, Nonce(1), 1_000_000));
        Assert.Equal(ReplayGuard.Outcome.Replayed, guard.Remember(Member, Nonce(1), 1_000_000 + 120_000));
        Assert.Equal(ReplayGuard.Outcome.Fresh, guard.Remember(Address.Parse("0x00000000000000000000000000000000000000a2"), Nonce(1), 1_000_000));
    }

    [Fact]
    public void Forgets_nonces_older_than_twice_the_window_as_time_moves_on()
    {
        var guard = new ReplayGuard(Options);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(ReplayGuard.Outcome.Fresh, guard.Remember(Member, Nonce(i), 1_000_000 + i));
        }

        Assert.Equal(10, guard.Count);
        Assert.Equal(ReplayGuard.Outcome.Fresh, guard.Remember(Member, Nonce(100), 1_000_000 + 120_005));
        Assert.Equal(6, guard.Count); // nonces 0-4 are older than 2 x 60 s and gone; 5-9 and 100 stay
        Assert.Equal(ReplayGuard.Outcome.Fresh, guard.Remember(Member, Nonce(0), 1_000_000 + 120_005));
        Assert.Equal(ReplayGuard.Outcome.Replayed, guard.Remember(Member, Nonce(9), 1_000_000 + 120_005));
    }

    [Fact]
    public void Refuses_as_full_only_while_the_remembered_nonces_are_all_recent()
    {
        var guard = new ReplayGuard(Options);
        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(ReplayGuard.Outcome.Fresh, guard.Remember(Member, Nonce(i), 1_000_000));
        }

        Assert.Equal(ReplayGuard.Outcome.Full, guard.Remember(Member, Nonce(5000), 1_000_000 + 60_000));
        Assert.Equal(ReplayGuard.Outcome.Fresh, guard.Remember(Member, Nonce(5000), 1_000_000 + 120_001));
        Assert.Equal(1, guard.Count);
    }
}
