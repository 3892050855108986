using System.Security.Cryptography;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Gm;
using SmartCity.Ledger.Proofs;

namespace SmartCity.Ledger.Tests.Crypto;

/// <summary>The two suites side by side: the eth one is exactly today's primitives, the gm one SM3/SM2 throughout.</summary>
public sealed class CryptoSuiteTests
{
    public static TheoryData<CryptoSuiteId> Suites => [CryptoSuiteId.Eth, CryptoSuiteId.Gm];

    [Fact]
    public void The_eth_suite_is_keccak_sha256_history_and_ethereum_addresses()
    {
        var eth = CryptoSuite.Eth;
        var data = "SmartCity.Ledger"u8;
        Assert.Equal(Keccak256.Hash(data), eth.Hash(data));
        Assert.Equal(Rfc6962.EmptyRoot, eth.EmptyHistoryRoot);
        Assert.Equal(Rfc6962.LeafHash(data), eth.HistoryLeafHash(data));
        Assert.Equal(Rfc6962.NodeHash(Keccak256.Hash("l"u8), Keccak256.Hash("r"u8)), eth.HistoryNodeHash(Keccak256.Hash("l"u8), Keccak256.Hash("r"u8)));
        var publicKey = new byte[64];
        var key = Convert.FromHexString("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
        Secp256k1.Default.GetPublicKey(key, publicKey);
        Assert.Equal(Address.FromPublicKey(publicKey), eth.AddressOf(publicKey));
        Assert.Equal(65, eth.SignatureSize);
    }

    [Fact]
    public void The_gm_suite_hashes_everything_with_sm3_including_the_history_tree()
    {
        var gm = CryptoSuite.Gm;
        Assert.Equal("gm", gm.Name);
        Assert.Equal(Sm3.Hash("abc"u8), gm.Hash("abc"u8));
        Assert.Equal(Sm3.Hash([]), gm.EmptyHistoryRoot);
        Assert.Equal(Sm3.Hash([0x00, .. "leaf"u8]), gm.HistoryLeafHash("leaf"u8));
        var left = Sm3.Hash("l"u8);
        var right = Sm3.Hash("r"u8);
        Assert.Equal(Sm3.Hash([0x01, .. left.Bytes, .. right.Bytes]), gm.HistoryNodeHash(left, right));
        Assert.NotEqual(CryptoSuite.Eth.HistoryLeafHash("leaf"u8), gm.HistoryLeafHash("leaf"u8));
        Assert.Equal(128, gm.SignatureSize);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void The_structured_digest_is_the_suites_hash_of_0x1901_domain_and_struct(CryptoSuiteId id)
    {
        var suite = CryptoSuite.For(id);
        var domain = suite.Hash("domain"u8);
        var structHash = suite.Hash("struct"u8);
        Assert.Equal(suite.Hash([0x19, 0x01, .. domain.Bytes, .. structHash.Bytes]), suite.StructuredDigest(domain, structHash));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void A_signature_of_one_suite_never_verifies_under_the_other(CryptoSuiteId id)
    {
        var suite = CryptoSuite.For(id);
        var other = CryptoSuite.For(id == CryptoSuiteId.Eth ? CryptoSuiteId.Gm : CryptoSuiteId.Eth);
        var key = new byte[32];
        suite.Signatures.GeneratePrivateKey(key);
        var digest = suite.Hash(RandomNumberGenerator.GetBytes(32));
        var signature = suite.Signatures.Sign(digest, key);
        var signer = suite.Signatures.GetAddress(key);

        Assert.Equal(id, signature.Suite);
        Assert.Equal(SignatureCheck.Ok, suite.Verify(digest, signature, signer));
        Assert.Equal(SignatureCheck.WrongSuite, other.Verify(digest, signature, signer));
        Assert.Equal(SignatureCheck.WrongSuite, other.Recover(digest, signature, out _));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void A_signature_round_trips_through_its_hex_and_wire_forms(CryptoSuiteId id)
    {
        var suite = CryptoSuite.For(id);
        var key = new byte[32];
        suite.Signatures.GeneratePrivateKey(key);
        var signature = suite.Signatures.Sign(suite.Hash("x"u8), key);

        Assert.True(Signature.TryParse(signature.ToString(), out var parsed));
        Assert.Equal(signature, parsed);
        Assert.True(Signature.TryRead(signature.Bytes, out var read));
        Assert.Equal(signature, read);
        Assert.Equal(suite.SignatureSize, signature.Bytes.Length);
        Assert.False(Signature.TryRead(signature.Bytes[..^1], out _));
    }

    [Fact]
    public void The_default_signature_is_still_sixty_five_zero_bytes_of_the_eth_form()
    {
        Assert.Equal(CryptoSuiteId.Eth, default(Signature).Suite);
        Assert.Equal(new byte[65], default(Signature).ToArray());
    }
}
