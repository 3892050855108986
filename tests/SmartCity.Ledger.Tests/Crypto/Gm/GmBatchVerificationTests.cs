using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Gm;

namespace SmartCity.Ledger.Tests.Crypto.Gm;

/// <summary>The batch verifier and the verified-signature cache over SM2, as over secp256k1.</summary>
public sealed class GmBatchVerificationTests
{
    public static TheoryData<string> Implementations => Sm2Implementations.Both;

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Parallel_batch_of_sm2_signatures_gives_the_same_verdicts_as_one_by_one(string implementation)
    {
        var sm2 = Sm2Implementations.Get(implementation);
        var items = MixedBatch(sm2, 80);
        var parallel = new SignatureCheck[items.Length];
        new SignatureBatchVerifier(sm2, maxDegreeOfParallelism: 4).Verify(items, parallel);

        for (var i = 0; i < items.Length; i++)
        {
            Assert.Equal(sm2.Verify(items[i].Digest, items[i].Signature, items[i].ExpectedSigner), parallel[i]);
        }

        Assert.Contains(SignatureCheck.Ok, parallel);
        Assert.Contains(SignatureCheck.WrongSigner, parallel);
        Assert.Contains(SignatureCheck.Invalid, parallel);
        Assert.Contains(SignatureCheck.WrongSuite, parallel);
    }

    [Fact]
    public void An_sm2_signature_checked_on_arrival_is_answered_from_the_cache_and_still_fails_for_another_signer()
    {
        var sm2 = Sm2Implementations.Get(Sm2Implementations.Native);
        var cache = new VerifiedSignatureCache(1024);
        var verifier = new SignatureBatchVerifier(sm2, cache);
        var items = MixedBatch(sm2, 40).Where((_, i) => i % 4 == 0).ToArray();
        foreach (var item in items)
        {
            Assert.Equal(SignatureCheck.Ok, verifier.Verify(item));
        }

        var misses = cache.Misses;
        Assert.True(verifier.VerifyAll(items));
        Assert.Equal(misses, cache.Misses);
        Assert.Equal(SignatureCheck.WrongSigner, verifier.Verify(new SignedDigest(items[0].Digest, items[0].Signature, items[1].ExpectedSigner)));
    }

    /// <summary>i % 4: 0 good, 1 another expected signer, 2 tampered, 3 an eth signature.</summary>
    private static SignedDigest[] MixedBatch(ISm2 sm2, int count)
    {
        var keys = new byte[5][];
        for (var k = 0; k < keys.Length; k++)
        {
            keys[k] = new byte[32];
            Sm2.GeneratePrivateKey(keys[k]);
        }

        var items = new SignedDigest[count];
        for (var i = 0; i < count; i++)
        {
            var key = keys[i % keys.Length];
            var digest = Sm3.Hash(BitConverter.GetBytes(i));
            var signature = sm2.Sign(digest, key);
            var signer = sm2.GetAddress(key);
            items[i] = (i % 4) switch
            {
                0 => new SignedDigest(digest, signature, signer),
                1 => new SignedDigest(digest, signature, sm2.GetAddress(keys[(i + 1) % keys.Length])),
                2 => new SignedDigest(Sm3.Hash(BitConverter.GetBytes(-i)), signature, signer),
                _ => new SignedDigest(digest, Secp256k1.Default.Sign(digest, key), signer),
            };
        }

        return items;
    }
}
