using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Auth;

/// <summary>
/// How a credit-API request is signed (docs/api.md, "Authentication"); shared by the server's interceptor, the C#
/// client, and documented byte by byte for every other client.
/// <para>
/// <c>requestDigest = Keccak-256(the request message's protobuf encoding)</c> (fields in number order, as every
/// official protobuf runtime writes them; the messages have no maps) and
/// <c>digest = Keccak-256("SmartCity.Ledger API request v1" ‖ 0x00 ‖ chainId u64 ‖ len u32 ‖ method ‖ requestDigest ‖
/// timestamp i64 ‖ nonce (16 bytes) ‖ len u32 ‖ purpose)</c>, integers big-endian, texts UTF-8 with their byte
/// length; <c>method</c> is the full gRPC path, e.g. <c>/smartcity.credit.v1.CreditService/GetTrustScore</c>. The
/// caller signs <c>digest</c> with its member key (secp256k1, low-s, v = 27/28: ethers' <c>SigningKey.sign</c>).
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

    public static Hash256 RequestDigest(IMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Keccak256.Hash(request.ToByteArray());
    }

    public static Hash256 Digest(ulong chainId, string method, in Hash256 requestDigest, long timestampMs, ReadOnlySpan<byte> nonce, string purpose)
    {
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
        return Keccak256.Hash(span);
    }

    public static bool IsPurposeCode(string? purpose)
        => purpose is { Length: > 0 and <= MaxPurposeLength } && purpose.All(c => c is (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_');

    /// <summary>The five metadata entries of a request signed by <paramref name="signer"/> (a member key from a keystore, PKCS#11 or memory).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Sign(ISigner signer, ulong chainId, string method, IMessage request, long timestampMs, ReadOnlySpan<byte> nonce, string purpose)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var digest = Digest(chainId, method, RequestDigest(request), timestampMs, nonce, purpose);
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
