using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Auth;

/// <summary>
/// How a credit-API request is signed (docs/api.md, "Authentication"); shared by the server's interceptor, the C#
/// client, and documented byte by byte for every other client.
/// <para>
/// <c>requestDigest = H(the request message's protobuf encoding)</c> (fields in number order, as every
/// official protobuf runtime writes them; the messages have no maps) and
/// <c>digest = H("SmartCity.Ledger API request v1" ‖ 0x00 ‖ chainId u64 ‖ len u32 ‖ method ‖ requestDigest ‖
/// timestamp i64 ‖ nonce (16 bytes) ‖ len u32 ‖ purpose)</c>, integers big-endian, texts UTF-8 with their byte
/// length; <c>method</c> is the full gRPC path, e.g. <c>/smartcity.credit.v1.CreditService/GetTrustScore</c>. H is
/// the chain's suite hash: Keccak-256 on an eth chain, SM3 on a gm chain. The caller signs <c>digest</c> with its
/// member key in the chain's suite: eth, secp256k1, low-s, v = 27/28 (ethers' <c>SigningKey.sign</c>), 65 bytes;
/// gm, SM2 with the chain's identifier over M = digest (GM/T 0009), 128 bytes r‖s‖x‖y.
/// </para>
/// </summary>
public static class ApiRequestSigning
{
    public const string MemberHeader = "x-sc-member";
    public const string TimestampHeader = "x-sc-timestamp";
    public const string NonceHeader = "x-sc-nonce";
    public const string PurposeHeader = "x-sc-purpose";
    public const string SignatureHeader = "x-sc-signature";

    public const int NonceSize = 16;

    /// <summary>Purpose codes: 1-32 of A-Z, 0-9 and underscore (e.g. <c>CREDIT_CHECK</c>, <c>LOAN_REVIEW</c>, <c>SUPERVISION</c>).</summary>
    public const int MaxPurposeLength = 32;

    private static readonly byte[] DomainTag = [.. "SmartCity.Ledger API request v1"u8, 0x00];

    /// <summary>The eth suite's request digest (Keccak-256).</summary>
    public static Hash256 RequestDigest(IMessage request) => RequestDigest(CryptoSuite.Eth, request);

    /// <summary>H(the request's protobuf encoding) with the chain's suite hash.</summary>
    public static Hash256 RequestDigest(CryptoSuite suite, IMessage request)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(request);
        return suite.Hash(request.ToByteArray());
    }

    /// <summary>The eth suite's signed digest (Keccak-256).</summary>
    public static Hash256 Digest(ulong chainId, string method, in Hash256 requestDigest, long timestampMs, ReadOnlySpan<byte> nonce, string purpose)
        => Digest(CryptoSuite.Eth, chainId, method, requestDigest, timestampMs, nonce, purpose);

    /// <summary>The digest a member signs, with the chain's suite hash.</summary>
    public static Hash256 Digest(CryptoSuite suite, ulong chainId, string method, in Hash256 requestDigest, long timestampMs, ReadOnlySpan<byte> nonce, string purpose)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(purpose);
        if (nonce.Length != NonceSize)
        {
            throw new ArgumentException($"a nonce is {NonceSize} bytes", nameof(nonce));
        }

        var methodBytes = Encoding.UTF8.GetBytes(method);
        var purposeBytes = Encoding.UTF8.GetBytes(purpose);
        var buffer = new byte[DomainTag.Length + 8 + 4 + methodBytes.Length + Hash256.Size + 8 + NonceSize + 4 + purposeBytes.Length];
        var span = buffer.AsSpan();
        DomainTag.CopyTo(span);
        var at = DomainTag.Length;
        BinaryPrimitives.WriteUInt64BigEndian(span[at..], chainId);
        at += 8;
        BinaryPrimitives.WriteInt32BigEndian(span[at..], methodBytes.Length);
        at += 4;
        methodBytes.CopyTo(span[at..]);
        at += methodBytes.Length;
        requestDigest.CopyTo(span[at..]);
        at += Hash256.Size;
        BinaryPrimitives.WriteInt64BigEndian(span[at..], timestampMs);
        at += 8;
        nonce.CopyTo(span[at..]);
        at += NonceSize;
        BinaryPrimitives.WriteInt32BigEndian(span[at..], purposeBytes.Length);
        at += 4;
        purposeBytes.CopyTo(span[at..]);
        return suite.Hash(span);
    }

    public static bool IsPurposeCode(string? purpose)
        => purpose is { Length: > 0 and <= MaxPurposeLength } && purpose.All(c => c is (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_');

    /// <summary>The five metadata entries of a request to an eth chain signed by <paramref name="signer"/>.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Sign(ISigner signer, ulong chainId, string method, IMessage request, long timestampMs, ReadOnlySpan<byte> nonce, string purpose)
        => Sign(CryptoSuite.Eth, signer, chainId, method, request, timestampMs, nonce, purpose);

    /// <summary>
    /// The five metadata entries of a request signed by <paramref name="signer"/> (a member key from a keystore,
    /// PKCS#11 or memory, of the chain's suite: its signature is 65 bytes for eth, 128 for gm).
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Sign(CryptoSuite suite, ISigner signer, ulong chainId, string method, IMessage request, long timestampMs, ReadOnlySpan<byte> nonce, string purpose)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var digest = Digest(suite, chainId, method, RequestDigest(suite, request), timestampMs, nonce, purpose);
        var signature = signer.Sign(digest);
        return
        [
            new(MemberHeader, signer.Address.ToString()),
            new(TimestampHeader, timestampMs.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(NonceHeader, "0x" + Convert.ToHexStringLower(nonce)),
            new(PurposeHeader, purpose),
            new(SignatureHeader, "0x" + Convert.ToHexStringLower(signature.Bytes)),
        ];
    }
}
