using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.Crypto;

public sealed class SignatureBatchVerifierTests
{
    [Theory]
    [MemberData(nameof(Secp256k1Implementations.Both), MemberType = typeof(Secp256k1Implementations))]
    public void Parallel_batch_gives_the_same_verdicts_as_one_by_one(string implementation)
    {
        var secp256k1 = Secp256k1Implementations.Get(implementation);
        var items = MixedBatch(secp256k1, 300);
        var parallel = new SignatureCheck[items.Length];
        new SignatureBatchVerifier(secp256k1, maxDegreeOfParallelism: 4).Verify(items, parallel);

        for (var i = 0; i < items.Length; i++)
        {
            Assert.Equal(secp256k1.Verify(items[i].Digest, items[i].Signature, items[i].ExpectedSigner), parallel[i]);
        }

        Assert.Contains(SignatureCheck.Ok, parallel);
        Assert.Contains(SignatureCheck.WrongSigner, parallel);
        Assert.Contains(SignatureCheck.HighS, parallel);
        Assert.Contains(SignatureCheck.BadRecoveryId, parallel);
    }

    [Fact]
    public void A_signature_checked_on_arrival_is_answered_from_the_cache_inside_the_block()
    {
        var secp256k1 = Secp256k1Implementations.Get(Secp256k1Implementations.Native);
        var cache = new VerifiedSignatureCache(4096);
        var verifier = new SignatureBatchVerifier(secp256k1, cache);
        var items = ValidBatch(secp256k1, 100);

        foreach (var item in items)
        {
            Assert.Equal(SignatureCheck.Ok, verifier.Verify(item));
        }

        var missesAfterArrival = cache.Misses;
        Assert.True(verifier.VerifyAll(items));
        Assert.Equal(missesAfterArrival, cache.Misses);
        Assert.Equal(100, cache.Hits);
    }

    [Fact]
    public void A_cached_signature_still_fails_for_another_expected_signer()
    {
        var secp256k1 = Secp256k1Implementations.Get(Secp256k1Implementations.Native);
        var verifier = new SignatureBatchVerifier(secp256k1, new VerifiedSignatureCache(16));
        var (digest, signature, signer) = Secp256k1Tests.SignedSample(secp256k1, 9);

        Assert.Equal(SignatureCheck.Ok, verifier.Verify(new SignedDigest(digest, signature, signer)));
        Assert.Equal(SignatureCheck.WrongSigner, verifier.Verify(new SignedDigest(digest, signature, Address.Zero)));
        Assert.Equal(1, verifier.Cache!.Hits);
    }

    [Fact]
    public void The_cache_is_bounded_and_remembers_only_valid_signatures()
    {
        var secp256k1 = Secp256k1Implementations.Get(Secp256k1Implementations.Native);
        var cache = new VerifiedSignatureCache(8);
        var verifier = new SignatureBatchVerifier(secp256k1, cache, maxDegreeOfParallelism: 2);
        var items = MixedBatch(secp256k1, 200);
        verifier.Verify(items, new SignatureCheck[items.Length]);

        Assert.Equal(8, cache.Capacity);
        var remembered = items.Count(i => cache.TryGet(i.Digest, i.Signature, out _));
        Assert.InRange(remembered, 1, 8);
        Assert.DoesNotContain(items, i => secp256k1.Recover(i.Digest, i.Signature, out _) != SignatureCheck.Ok && cache.TryGet(i.Digest, i.Signature, out _));
    }

    [Fact]
    public void Results_must_have_room_for_every_item()
    {
        var verifier = new SignatureBatchVerifier(Secp256k1Implementations.Get(Secp256k1Implementations.Managed));
        Assert.Throws<ArgumentException>(() => verifier.Verify(new SignedDigest[3], new SignatureCheck[2]));
    }

    internal static SignedDigest[] ValidBatch(ISecp256k1 secp256k1, int count)
        => [.. Enumerable.Range(0, count).Select(i =>
        {
            var (digest, signature, signer) = Secp256k1Tests.SignedSample(secp256k1, i % 250 + 1);
            var itemDigest = Keccak256.Hash([.. digest.Bytes, (byte)i, (byte)(i >> 8)]);
            return new SignedDigest(itemDigest, secp256k1.Sign(itemDigest, Secp256k1Tests.SampleKey(i % 250 + 1)), signer);
        })];

    private static SignedDigest[] MixedBatch(ISecp256k1 secp256k1, int count)
    {
        var items = ValidBatch(secp256k1, count);
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i];
            var bytes = item.Signature.ToArray();
            items[i] = (i % 5) switch
            {
                1 => new SignedDigest(item.Digest, item.Signature, Address.Zero),
                2 => new SignedDigest(item.Digest, new Signature(bytes.AsSpan(0, 64).ToArray().Concat(new byte[] { 30 }).ToArray()), item.ExpectedSigner),
                3 => new SignedDigest(item.Digest, new Signature(item.Signature.R, Enumerable.Repeat((byte)0xF0, 32).ToArray(), 27), item.ExpectedSigner),
                _ => item,
            };
        }

        return items;
    }
}
