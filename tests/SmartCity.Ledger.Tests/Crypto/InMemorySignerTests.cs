using System.Security.Cryptography;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.Crypto;

public sealed class InMemorySignerTests
{
    private const string KeyOne = "0000000000000000000000000000000000000000000000000000000000000001";

    [Theory]
    [MemberData(nameof(Secp256k1Implementations.Both), MemberType = typeof(Secp256k1Implementations))]
    public void Signs_the_rfc6979_known_answer_and_reports_the_address_of_its_key(string implementation)
    {
        // The same bitcointalk.org RFC 6979 vector as Secp256k1Tests: key 1, SHA-256("Satoshi Nakamoto").
        var curve = Secp256k1Implementations.Get(implementation);
        using var signer = new InMemorySigner(Convert.FromHexString(KeyOne), curve);
        var digest = new Hash256(SHA256.HashData("Satoshi Nakamoto"u8));

        var signature = signer.Sign(digest);

        Assert.Equal("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", signer.Address.ToString());
        Assert.Equal(
            "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8" + "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5",
            Convert.ToHexStringLower(signature.Compact));
        Assert.True(signature.V is 27 or 28);
        Assert.Equal(SignatureCheck.Ok, curve.Verify(digest, signature, signer.Address));
    }

    [Fact]
    public void Generated_signers_hold_distinct_keys_whose_signatures_recover_to_their_addresses()
    {
        using var first = InMemorySigner.Generate();
        using var second = InMemorySigner.Generate();
        var digest = Keccak256.Hash("a commit seal"u8);

        Assert.NotEqual(first.Address, second.Address);
        foreach (var signer in new[] { first, second })
        {
            Assert.Equal(SignatureCheck.Ok, Secp256k1.Default.Recover(digest, signer.Sign(digest), out var recovered));
            Assert.Equal(signer.Address, recovered);
        }
    }

    [Fact]
    public void Signing_after_dispose_throws_instead_of_using_a_zeroed_key()
    {
        var signer = new InMemorySigner(Convert.FromHexString(KeyOne));
        signer.Dispose();
        signer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => signer.Sign(Keccak256.Hash("late"u8)));
    }

    [Fact]
    public void Concurrent_signatures_from_one_signer_all_verify()
    {
        var signer = InMemorySigner.Generate();
        var digests = Enumerable.Range(0, 64).Select(i => Keccak256.Hash(BitConverter.GetBytes(i))).ToArray();
        var signatures = new Signature[digests.Length];

        Parallel.For(0, digests.Length, i => signatures[i] = signer.Sign(digests[i]));
        signer.Dispose();

        for (var i = 0; i < digests.Length; i++)
        {
            Assert.Equal(SignatureCheck.Ok, Secp256k1.Default.Verify(digests[i], signatures[i], signer.Address));
        }
    }

    [Theory]
    [InlineData("00")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")]
    [InlineData("000000000000000000000000000000000000000000000000000000000000000001")]
    public void Rejects_bytes_that_are_not_a_secp256k1_private_key(string hex)
        => Assert.Throws<ArgumentException>(() => new InMemorySigner(Convert.FromHexString(hex)));

    [Fact]
    public void Text_form_names_the_address_and_never_the_key()
    {
        var key = Keccak256.Hash("member"u8);
        using var signer = new InMemorySigner(key.Bytes);

        var text = signer.ToString();

        Assert.Contains(signer.Address.ToString(), text, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexStringLower(key.Bytes), text.ToLowerInvariant(), StringComparison.Ordinal);
    }
}
