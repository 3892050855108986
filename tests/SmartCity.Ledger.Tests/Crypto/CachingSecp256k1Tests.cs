using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Tests.Blocks;

namespace SmartCity.Ledger.Tests.Crypto;

public sealed class CachingSecp256k1Tests
{
    private static readonly ISecp256k1 Inner = Secp256k1.Default;

    [Fact]
    public void A_signature_verified_once_is_answered_from_the_cache_with_the_same_signer()
    {
        var cache = new VerifiedSignatureCache(64);
        var curve = new CachingSecp256k1(Inner, cache);
        var key = Keccak256.Hash("member"u8).ToArray();
        var digest = Keccak256.Hash("transaction"u8);
        var signature = Inner.Sign(digest, key);

        Assert.Equal(SignatureCheck.Ok, curve.Recover(digest, signature, out var first));
        Assert.Equal(SignatureCheck.Ok, curve.Recover(digest, signature, out var second));
        Assert.Equal(Inner.GetAddress(key), first);
        Assert.Equal(first, second);
        Assert.Equal(1, cache.Hits);
        Assert.Equal(SignatureCheck.WrongSigner, curve.Verify(digest, signature, Address.Zero));
    }

    [Fact]
    public void Rejected_signatures_are_never_cached_and_stay_rejected()
    {
        var cache = new VerifiedSignatureCache(64);
        var curve = new CachingSecp256k1(Inner, cache);
        var digest = Keccak256.Hash("transaction"u8);
        var highS = Signatures.Malleate(Inner.Sign(digest, Keccak256.Hash("member"u8).ToArray()));

        Assert.Equal(SignatureCheck.HighS, curve.Recover(digest, highS, out _));
        Assert.Equal(SignatureCheck.HighS, curve.Recover(digest, highS, out _));
        Assert.Equal(0, cache.Hits);
    }
}
