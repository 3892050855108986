using Org.BouncyCastle.Crypto.Prng;
using Org.BouncyCastle.Security;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Gm;

namespace SmartCity.Ledger.Tests.Crypto.Gm;

/// <summary>
/// SM2 signatures on both implementations. The known answer is the signature example on the recommended curve
/// sm2p256v1 of GB/T 32918.2-2016 Annex A.2 (= GM/T 0003.5-2012; the 2012 GM/T 0003.2 example on the 0x8542D69E… test
/// curve is not used), which OpenSSL's test/sm2_internal_test.c also checks: ID "1234567812345678" (GM/T 0009's
/// default), message "message digest", private key 3945208F…C5B8, k = 59276E27…BC21, giving Z_A = B2E14C5C…A4F3 and
/// e = F0B43E94…8640.
/// </summary>
public sealed class Sm2Tests
{
    private const string ExampleId = Sm2.DefaultDistinguishingId;
    private static readonly byte[] ExampleKey = Convert.FromHexString("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8");
    private static readonly byte[] ExampleK = Convert.FromHexString("59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21");
    private static readonly byte[] ExampleR = Convert.FromHexString("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3");
    private static readonly byte[] ExampleS = Convert.FromHexString("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA");
    private static readonly byte[] ExamplePublicKey = Convert.FromHexString(
        "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13");

    public static TheoryData<string> Implementations => Sm2Implementations.Both;

    /// <summary>"message digest" is 14 bytes, not a ledger digest: the example signs it through the same SM2 signer, which takes any message.</summary>
    [Fact]
    public void Managed_signer_reproduces_the_standards_example_signature_with_its_k()
    {
        var managed = (ManagedSm2)Sm2.CreateManaged(ExampleId);
        var signature = ExampleSignature(managed);
        Assert.Equal(ExampleR, signature.R.ToArray());
        Assert.Equal(ExampleS, signature.S.ToArray());
        Assert.Equal(ExamplePublicKey, signature.PublicKey.ToArray());
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Public_key_of_the_examples_private_key_is_the_examples(string implementation)
    {
        var publicKey = new byte[64];
        Sm2Implementations.Get(implementation, ExampleId).GetPublicKey(ExampleKey, publicKey);
        Assert.Equal(ExamplePublicKey, publicKey);
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Verifies_the_standards_example_signature_and_rejects_it_under_another_identifier_or_message(string implementation)
    {
        // The example signs a 14-byte message, and the ledger's API checks 32-byte digests, so the example is checked
        // through the raw-message seam both implementations share with their digest path.
        var sm2 = Sm2Implementations.Get(implementation, ExampleId);
        Assert.True(Sm2Vectors.VerifyMessage(sm2, "message digest"u8, ExampleR, ExampleS, ExamplePublicKey));
        Assert.False(Sm2Vectors.VerifyMessage(Sm2Implementations.Get(implementation, "ALICE123@YAHOO.COM"), "message digest"u8, ExampleR, ExampleS, ExamplePublicKey));
        Assert.False(Sm2Vectors.VerifyMessage(sm2, "message digesT"u8, ExampleR, ExampleS, ExamplePublicKey));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void A_signature_names_its_signer_by_the_last_twenty_bytes_of_the_sm3_of_its_public_key(string implementation)
    {
        var sm2 = Sm2Implementations.Get(implementation);
        var key = NewKey();
        var digest = Sm3.Hash("a ledger digest"u8);
        var signature = sm2.Sign(digest, key);

        Assert.Equal(CryptoSuiteId.Gm, signature.Suite);
        Assert.Equal(Signature.Sm2Size, signature.Bytes.Length);
        Assert.Equal(SignatureCheck.Ok, sm2.Recover(digest, signature, out var signer));
        Assert.Equal(new Address(Sm3.Hash(signature.PublicKey).Bytes[12..]), signer);
        Assert.Equal(sm2.GetAddress(key), signer);
        Assert.Equal(SignatureCheck.Ok, sm2.Verify(digest, signature, signer));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Rejects_a_tampered_digest_signature_or_key_and_another_signer(string implementation)
    {
        var sm2 = Sm2Implementations.Get(implementation);
        var key = NewKey();
        var digest = Sm3.Hash("record 1"u8);
        var signature = sm2.Sign(digest, key);
        var bytes = signature.ToArray();

        Assert.Equal(SignatureCheck.Invalid, sm2.Verify(Sm3.Hash("record 2"u8), signature, sm2.GetAddress(key)));
        Assert.Equal(SignatureCheck.WrongSigner, sm2.Verify(digest, signature, sm2.GetAddress(NewKey())));

        var flippedS = (byte[])bytes.Clone();
        flippedS[40] ^= 1;
        Assert.Equal(SignatureCheck.Invalid, sm2.Recover(digest, Read(flippedS), out _));

        // Another valid key in the carried slot: the signature does not verify under it.
        var other = new byte[64];
        sm2.GetPublicKey(NewKey(), other);
        var swapped = (byte[])bytes.Clone();
        other.CopyTo(swapped, 64);
        Assert.Equal(SignatureCheck.Invalid, sm2.Recover(digest, Read(swapped), out _));

        // A point that is not on the curve.
        var offCurve = (byte[])bytes.Clone();
        offCurve[127] ^= 1;
        Assert.Equal(SignatureCheck.Invalid, sm2.Recover(digest, Read(offCurve), out _));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Rejects_r_or_s_of_zero_or_not_below_the_order_before_any_arithmetic(string implementation)
    {
        var sm2 = Sm2Implementations.Get(implementation);
        var signature = sm2.Sign(Sm3.Hash("x"u8), NewKey()).ToArray();
        var zeroR = (byte[])signature.Clone();
        Array.Clear(zeroR, 0, 32);
        var bigS = (byte[])signature.Clone();
        Sm2Vectors.Order.CopyTo(bigS, 32);
        Assert.Equal(SignatureCheck.OutOfRange, sm2.Recover(Sm3.Hash("x"u8), Read(zeroR), out _));
        Assert.Equal(SignatureCheck.OutOfRange, sm2.Recover(Sm3.Hash("x"u8), Read(bigS), out _));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void An_eth_signature_is_the_wrong_suite_for_sm2_and_an_sm2_signature_for_secp256k1(string implementation)
    {
        var sm2 = Sm2Implementations.Get(implementation);
        var digest = Sm3.Hash("cross"u8);
        var ethKey = TestKeyBytes();
        var ethSignature = Secp256k1.Default.Sign(digest, ethKey);
        Assert.Equal(SignatureCheck.WrongSuite, sm2.Recover(digest, ethSignature, out _));
        Assert.Equal(SignatureCheck.WrongSuite, Secp256k1.Default.Recover(digest, sm2.Sign(digest, NewKey()), out _));
        Assert.Equal(SignatureCheck.WrongSuite, ManagedSecp256k1.Instance.Recover(digest, sm2.Sign(digest, NewKey()), out _));
    }

    [Fact]
    public void Native_and_managed_give_the_same_verdicts_on_each_others_signatures_and_on_garbage()
    {
        var native = Sm2Implementations.Get(Sm2Implementations.Native);
        var managed = Sm2Implementations.Get(Sm2Implementations.Managed);
        var random = new Random(18);
        for (var i = 0; i < 40; i++)
        {
            var key = NewKey();
            var digestBytes = new byte[32];
            random.NextBytes(digestBytes);
            var digest = new Hash256(digestBytes);
            var signature = (i % 2 == 0 ? native : managed).Sign(digest, key);
            if (i % 4 == 3)
            {
                var bytes = signature.ToArray();
                bytes[random.Next(64)] ^= (byte)(1 << random.Next(8));
                signature = Read(bytes);
            }

            var nativeCheck = native.Recover(digest, signature, out var nativeSigner);
            var managedCheck = managed.Recover(digest, signature, out var managedSigner);
            Assert.Equal(managedCheck, nativeCheck);
            Assert.Equal(managedSigner, nativeSigner);
            Assert.Equal(i % 4 == 3 ? SignatureCheck.Invalid : SignatureCheck.Ok, nativeCheck);
        }
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void A_signature_made_under_another_identifier_does_not_verify(string implementation)
    {
        var key = NewKey();
        var digest = Sm3.Hash("id"u8);
        var signature = Sm2Implementations.Get(implementation, "BJ-TJ-HB consortium").Sign(digest, key);
        Assert.Equal(SignatureCheck.Ok, Sm2Implementations.Get(implementation, "BJ-TJ-HB consortium").Recover(digest, signature, out _));
        Assert.Equal(SignatureCheck.Invalid, Sm2Implementations.Get(implementation).Recover(digest, signature, out _));
    }

    [Fact]
    public void Private_keys_must_be_in_one_to_n_minus_two()
    {
        var nMinus2 = (byte[])Sm2Vectors.Order.Clone();
        nMinus2[31] -= 2;
        var nMinus1 = (byte[])Sm2Vectors.Order.Clone();
        nMinus1[31] -= 1;
        Assert.True(Sm2.IsValidPrivateKey(nMinus2));
        Assert.False(Sm2.IsValidPrivateKey(nMinus1));
        Assert.False(Sm2.IsValidPrivateKey(new byte[32]));
        Assert.False(Sm2.IsValidPrivateKey(new byte[31]));
    }

    [Fact]
    public void Without_libcrypto_the_managed_implementation_is_chosen()
        => Assert.IsType<ManagedSm2>(Sm2.Create(null, Sm2.DefaultDistinguishingId, "libcrypto-does-not-exist.so.9"));

    private static Signature ExampleSignature(ManagedSm2 managed)
        => Sm2Vectors.SignMessage(managed, "message digest"u8, ExampleKey, new FixedK(ExampleK));

    private static Signature Read(byte[] bytes) => Signature.TryRead(bytes, out var signature) ? signature : throw new ArgumentException("bad length");

    private static byte[] NewKey()
    {
        var key = new byte[32];
        Sm2.GeneratePrivateKey(key);
        return key;
    }

    private static byte[] TestKeyBytes() => Convert.FromHexString("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");

    /// <summary>A "random" source that yields k: how the standards' examples fix the nonce.</summary>
    private sealed class FixedK(byte[] k) : SecureRandom(new VmpcRandomGenerator(), 0)
    {
        public override void NextBytes(byte[] buf) => NextBytes(buf, 0, buf.Length);

        public override void NextBytes(byte[] buf, int off, int len) => k.AsSpan(k.Length - len).CopyTo(buf.AsSpan(off, len));

        public override void NextBytes(Span<byte> buffer) => k.AsSpan(k.Length - buffer.Length).CopyTo(buffer);
    }
}
