using System.Text;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Testing;

namespace SmartCity.Ledger.Tests.Blocks;

public sealed class CommitCertificateTests
{
    private static readonly ISecp256k1 Curve = Secp256k1.Default;
    private static readonly Hash256 Domain = Keccak256.Hash("test-domain"u8);

    private static InMemorySigner Key(string name) => new(Keccak256.Hash(Encoding.UTF8.GetBytes(name)).Bytes, Curve);

    private static readonly InMemorySigner[] ValidatorKeys = [Key("BJ"), Key("TJ"), Key("HE"), Key("XA")];

    private static readonly ValidatorSet Validators = new(ValidatorKeys.Select(k => k.Address));

    private static BlockHeader Header(long height = 7, int round = 0) => new(
        ChainId: 3101,
        Height: height,
        PreviousHash: Keccak256.Hash("previous"u8),
        TimestampMs: 1_790_000_000_000,
        Proposer: Validators.ProposerFor(height, round),
        Round: round,
        TransactionCount: 2,
        TransactionRoot: Keccak256.Hash("tx"u8),
        StateRoot: Keccak256.Hash("state"u8),
        HistorySize: 40,
        HistoryRoot: Keccak256.Hash("history"u8),
        ValidatorSetHash: Validators.Hash);

    private static CommitCertificate Certify(BlockHeader header, params ISigner[] keys)
        => CommitCertificate.FromSeals(Curve, Domain, header, keys.Select(k => CommitSeal.Sign(k, Domain, header)));

    [Theory]
    [InlineData(1, 0, 1)]
    [InlineData(3, 0, 2)]
    [InlineData(4, 1, 3)]
    [InlineData(5, 1, 4)]
    [InlineData(6, 1, 4)]
    [InlineData(7, 2, 5)]
    [InlineData(10, 3, 7)]
    [InlineData(100, 33, 67)]
    public void Quorum_is_the_ceiling_of_two_thirds_and_tolerates_a_third_faulty(int n, int f, int quorum)
    {
        var set = new ValidatorSet(Enumerable.Range(0, n).Select(i => Curve.GetAddress(Keccak256.Hash(Encoding.UTF8.GetBytes("v" + i)).Bytes)));
        Assert.Equal(f, set.MaxFaulty);
        Assert.Equal(quorum, set.Quorum);
    }

    [Fact]
    public void Validator_set_hash_does_not_depend_on_listing_order()
        => Assert.Equal(Validators.Hash, new ValidatorSet(Validators.Members.Reverse()).Hash);

    [Fact]
    public void Certificate_with_a_quorum_of_distinct_validator_seals_is_valid()
    {
        var header = Header();
        var verdict = Certify(header, ValidatorKeys[0], ValidatorKeys[2], ValidatorKeys[3]).Verify(header, Validators, Domain, Curve);
        Assert.True(verdict.IsValid, verdict.Reason);
    }

    [Fact]
    public void Rejects_block_whose_certificate_has_fewer_than_a_quorum_of_seals()
    {
        var header = Header();
        var verdict = Certify(header, ValidatorKeys[0], ValidatorKeys[1]).Verify(header, Validators, Domain, Curve);
        Assert.Equal(CertificateCheck.TooFewSeals, verdict.Check);
        Assert.Contains("quorum is 3 of 4", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_certificate_that_counts_one_validator_twice()
    {
        var header = Header();
        var seal = CommitSeal.Sign(ValidatorKeys[1], Domain, header);
        var certificate = new CommitCertificate(header.Height, header.Round, header.Hash, [seal, seal, CommitSeal.Sign(ValidatorKeys[2], Domain, header)]);
        var verdict = certificate.Verify(header, Validators, Domain, Curve);
        Assert.True(verdict.Check is CertificateCheck.DuplicateSigner or CertificateCheck.NotCanonical, verdict.Reason);
    }

    [Fact]
    public void Rejects_seal_by_a_key_outside_the_validator_set()
    {
        var header = Header();
        var verdict = Certify(header, ValidatorKeys[0], ValidatorKeys[1], Key("intruder")).Verify(header, Validators, Domain, Curve);
        Assert.Equal(CertificateCheck.UnknownSigner, verdict.Check);
    }

    [Fact]
    public void Rejects_seals_made_for_another_header_or_another_domain()
    {
        var header = Header();
        var other = Header(round: 1);
        var forOther = new CommitCertificate(header.Height, header.Round, header.Hash, Certify(other, ValidatorKeys[..3]).Seals);
        Assert.NotEqual(CertificateCheck.Valid, forOther.Verify(header, Validators, Domain, Curve).Check);

        var certificate = Certify(header, ValidatorKeys[..3]);
        Assert.NotEqual(CertificateCheck.Valid, certificate.Verify(header, Validators, Keccak256.Hash("other-chain"u8), Curve).Check);
    }

    [Fact]
    public void Rejects_certificate_for_a_different_header()
    {
        var certificate = Certify(Header(), ValidatorKeys[..3]);
        Assert.Equal(CertificateCheck.HeaderMismatch, certificate.Verify(Header(height: 8), Validators, Domain, Curve).Check);
    }

    [Fact]
    public void Rejects_header_that_names_another_validator_set()
    {
        var header = Header() with { ValidatorSetHash = Keccak256.Hash("other set"u8) };
        var certificate = Certify(header, ValidatorKeys[..3]);
        Assert.Equal(CertificateCheck.ValidatorSetMismatch, certificate.Verify(header, Validators, Domain, Curve).Check);
    }

    [Fact]
    public void Rejects_a_high_s_seal()
    {
        var header = Header();
        var certificate = Certify(header, ValidatorKeys[..3]);
        var seals = certificate.Seals.ToArray();
        seals[1] = Signatures.Malleate(seals[1]);
        var verdict = (certificate with { Seals = [.. seals] }).Verify(header, Validators, Domain, Curve);
        Assert.Equal(CertificateCheck.BadSeal, verdict.Check);
        Assert.Contains(nameof(SignatureCheck.HighS), verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Certificate_encoding_round_trips_and_every_single_byte_change_is_caught()
    {
        var header = Header();
        var certificate = Certify(header, ValidatorKeys);
        var bytes = certificate.Encode();
        Assert.True(CommitCertificate.TryDecode(bytes, out var decoded, out _));
        Assert.Equal(bytes, decoded!.Encode());
        Assert.True(decoded.Verify(header, Validators, Domain, Curve).IsValid);

        for (var i = 0; i < bytes.Length; i++)
        {
            var tampered = (byte[])bytes.Clone();
            tampered[i] ^= 0x01;
            var accepted = CommitCertificate.TryDecode(tampered, out var t, out _) && t!.Verify(header, Validators, Domain, Curve).IsValid;
            Assert.False(accepted, $"a change of byte {i} went unnoticed");
        }

        Assert.False(CommitCertificate.TryDecode(bytes.AsSpan(0, bytes.Length - 1), out _, out _));
        Assert.False(CommitCertificate.TryDecode([.. bytes, 0], out _, out _));
    }

    [Fact]
    public void Header_encoding_round_trips_and_every_field_changes_the_hash()
    {
        var header = Header();
        var bytes = header.Encode();
        Assert.True(BlockHeader.TryDecode(bytes, out var decoded, out _));
        Assert.Equal(header, decoded);
        Assert.Equal(header.Hash, decoded!.Hash);

        var seen = new HashSet<Hash256> { header.Hash };
        for (var i = 0; i < bytes.Length; i++)
        {
            var tampered = (byte[])bytes.Clone();
            tampered[i] ^= 0x80;
            if (BlockHeader.TryDecode(tampered, out var t, out _))
            {
                Assert.True(seen.Add(t!.Hash), $"byte {i} does not change the hash");
            }
        }

        Assert.False(BlockHeader.TryDecode(bytes.AsSpan(1), out _, out var error));
        Assert.Contains("bytes", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Seal_digest_is_the_eip712_digest_of_the_committed_schema_under_the_consortium_domain()
    {
        var header = Header();
        var domain = new SmartCity.Ledger.Crypto.Eip712.Eip712Domain("SmartCity.Ledger", "1", 3101);
        var schema = System.Text.Json.Nodes.JsonNode.Parse(RepositoryFiles.Read("contracts/eip712/commit-seal.json"))!;
        schema["domain"] = new System.Text.Json.Nodes.JsonObject { ["name"] = "SmartCity.Ledger", ["version"] = "1", ["chainId"] = 3101 };
        schema["message"] = new System.Text.Json.Nodes.JsonObject { ["headerHash"] = header.Hash.ToString(), ["height"] = header.Height, ["round"] = header.Round };
        var general = SmartCity.Ledger.Crypto.Eip712.Eip712TypedData.Parse(schema.ToJsonString()).ComputeDigest();
        Assert.Equal(general, CommitSeal.Digest(domain.Separator, header.Hash, header.Height, header.Round));
    }

    [Fact]
    public void Proposer_rotates_by_height_and_by_round()
    {
        var proposers = Enumerable.Range(0, 4).Select(h => Validators.ProposerFor(h, 0)).ToHashSet();
        Assert.Equal(4, proposers.Count);
        Assert.Equal(Validators.ProposerFor(5, 1), Validators.ProposerFor(6, 0));
    }
}

/// <summary>Signature tricks for tests.</summary>
internal static class Signatures
{
    private static readonly System.Numerics.BigInteger N = System.Numerics.BigInteger.Parse(
        "0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);

    /// <summary>The other valid encoding of the same signature: (r, n − s, v flipped) — high-s, which EIP-2 forbids.</summary>
    public static Signature Malleate(Signature signature)
    {
        var s = new System.Numerics.BigInteger(signature.S, isUnsigned: true, isBigEndian: true);
        var highS = (N - s).ToByteArray(isUnsigned: true, isBigEndian: true);
        Span<byte> s32 = stackalloc byte[32];
        s32.Clear();
        highS.CopyTo(s32[(32 - highS.Length)..]);
        var v = (byte)(signature.V is 27 or 0 ? signature.V + 1 : signature.V - 1);
        return new Signature(signature.R, s32, v);
    }
}
