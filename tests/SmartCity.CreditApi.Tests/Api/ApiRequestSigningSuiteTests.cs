using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using SmartCity.Contracts.Credit.V1;
using SmartCity.CreditApi.Auth;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Gm;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// Request signing in each crypto suite (docs/api.md, "Authentication"): the documented preimage hashed with the
/// chain's suite hash, signed in the suite's form, and never accepted under the other suite. No node: the server's
/// check is the suite's <see cref="CryptoSuite.Verify"/> over the same digest.
/// </summary>
public sealed class ApiRequestSigningSuiteTests
{
    private const ulong ChainId = 3101;
    private const string Method = "/smartcity.credit.v1.CreditService/GetTrustScore";
    private static readonly IMessage Request = new GetTrustScoreRequest { Subject = "uscc:91350100M000100Y43" };

    public static TheoryData<string> Suites => new() { "eth", "gm" };

    [Theory]
    [MemberData(nameof(Suites))]
    public void Digest_is_the_suites_hash_of_the_documented_preimage(string name)
    {
        var suite = Suite(name);
        var nonce = RandomNumberGenerator.GetBytes(ApiRequestSigning.NonceSize);
        var requestDigest = ApiRequestSigning.RequestDigest(suite, Request);

        var preimage = new List<byte>();
        preimage.AddRange("SmartCity.Ledger API request v1\0"u8.ToArray());
        preimage.AddRange(BigEndian(ChainId));
        preimage.AddRange(BigEndian((uint)Method.Length));
        preimage.AddRange(System.Text.Encoding.UTF8.GetBytes(Method));
        preimage.AddRange(requestDigest.ToArray());
        preimage.AddRange(BigEndian(1_700_000_000_000UL));
        preimage.AddRange(nonce);
        preimage.AddRange(BigEndian(12u));
        preimage.AddRange("CREDIT_CHECK"u8.ToArray());

        Assert.Equal(name == "gm" ? Sm3.Hash(Request.ToByteArray()) : Keccak256.Hash(Request.ToByteArray()), requestDigest);
        var expected = name == "gm" ? Sm3.Hash([.. preimage]) : Keccak256.Hash([.. preimage]);
        Assert.Equal(expected, ApiRequestSigning.Digest(suite, ChainId, Method, requestDigest, 1_700_000_000_000, nonce, "CREDIT_CHECK"));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void A_signed_request_carries_the_suites_signature_which_verifies_in_its_suite_only(string name)
    {
        var suite = Suite(name);
        var other = Suite(name == "gm" ? "eth" : "gm");
        using var member = InMemorySigner.Generate(suite.Signatures);
        var nonce = RandomNumberGenerator.GetBytes(ApiRequestSigning.NonceSize);

        var headers = ApiRequestSigning.Sign(suite, member, ChainId, Method, Request, 1_700_000_000_000, nonce, "CREDIT_CHECK").ToDictionary(h => h.Key, h => h.Value);

        var signatureHex = headers[ApiRequestSigning.SignatureHeader];
        Assert.Equal(2 + (2 * suite.SignatureSize), signatureHex.Length);
        Assert.Equal(member.Address.ToString(), headers[ApiRequestSigning.MemberHeader]);
        Assert.True(Signature.TryRead(Convert.FromHexString(signatureHex.AsSpan(2)), out var signature));
        var digest = ApiRequestSigning.Digest(suite, ChainId, Method, ApiRequestSigning.RequestDigest(suite, Request), 1_700_000_000_000, nonce, "CREDIT_CHECK");
        Assert.Equal(SignatureCheck.Ok, suite.Verify(digest, signature, member.Address));
        Assert.Equal(SignatureCheck.WrongSuite, other.Verify(digest, signature, member.Address));
        var tampered = ApiRequestSigning.Digest(suite, ChainId, Method, ApiRequestSigning.RequestDigest(suite, Request), 1_700_000_000_001, nonce, "CREDIT_CHECK");
        Assert.NotEqual(SignatureCheck.Ok, suite.Verify(tampered, signature, member.Address));
    }

    [Fact]
    public void The_same_request_has_different_digests_under_eth_and_gm()
    {
        var nonce = new byte[ApiRequestSigning.NonceSize];
        Assert.NotEqual(
            ApiRequestSigning.Digest(CryptoSuite.Eth, ChainId, Method, ApiRequestSigning.RequestDigest(CryptoSuite.Eth, Request), 1, nonce, "CREDIT_CHECK"),
            ApiRequestSigning.Digest(CryptoSuite.Gm, ChainId, Method, ApiRequestSigning.RequestDigest(CryptoSuite.Gm, Request), 1, nonce, "CREDIT_CHECK"));
    }

    private static CryptoSuite Suite(string name) => name == "gm" ? CryptoSuite.Gm : CryptoSuite.Eth;

    private static byte[] BigEndian(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] BigEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }
}
