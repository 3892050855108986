using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using Org.BouncyCastle.Math.EC.Multiplier;
using Org.BouncyCastle.Security;

namespace SmartCity.Ledger.Crypto.Gm;

/// <summary>
/// SM2 in managed code on BouncyCastle (<see cref="SM2Signer"/> over <see cref="CustomNamedCurves"/>' sm2p256v1, which
/// has specialised field arithmetic), for machines without OpenSSL 3 and as the signer of both implementations.
/// Signing draws k from the OS CSPRNG (BouncyCastle's <c>RandomDsaKCalculator</c> over <see cref="SecureRandom"/>), as
/// GB/T 32918.2 §6.1 specifies and OpenSSL and signing devices do; a signature is therefore not reproducible, and a
/// transaction id that covers it changes from one signing to the next.
/// </summary>
public sealed class ManagedSm2 : ISm2, ISm2MessageVerifier
{
    private static readonly X9ECParameters Curve = CustomNamedCurves.GetByName("sm2p256v1");
    private static readonly SecureRandom Random = new();

    private readonly ECDomainParameters _domain = new(Curve.Curve, Curve.G, Curve.N, Curve.H);
    private readonly FixedPointCombMultiplier _multiplier = new();
    private readonly byte[] _id;

    internal ManagedSm2(byte[] distinguishingId)
    {
        _id = distinguishingId;
    }

    public string Name => "managed (BouncyCastle)";

    public CryptoSuiteId Suite => CryptoSuiteId.Gm;

    public ReadOnlySpan<byte> DistinguishingId => _id;

    public void GeneratePrivateKey(Span<byte> privateKey) => Sm2.GeneratePrivateKey(privateKey);

    public bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey) => Sm2.IsValidPrivateKey(privateKey);

    public void GetPublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey64)
    {
        if (publicKey64.Length != 64)
        {
            throw new ArgumentException("the public key buffer must be 64 bytes", nameof(publicKey64));
        }

        var point = _multiplier.Multiply(_domain.G, ToScalar(privateKey)).Normalize();
        WriteFixed(point.AffineXCoord.ToBigInteger(), publicKey64[..32]);
        WriteFixed(point.AffineYCoord.ToBigInteger(), publicKey64[32..]);
    }

    public Address GetAddress(ReadOnlySpan<byte> privateKey)
    {
        Span<byte> publicKey = stackalloc byte[64];
        GetPublicKey(privateKey, publicKey);
        return Sm2.AddressOf(publicKey);
    }

    public Signature Sign(in Hash256 digest, ReadOnlySpan<byte> privateKey) => Sign(digest, privateKey, Random);

    /// <summary>Signs with k drawn from <paramref name="random"/>: the standards' examples fix k this way.</summary>
    internal Signature Sign(in Hash256 digest, ReadOnlySpan<byte> privateKey, SecureRandom random) => SignMessage(digest.Bytes, privateKey, random);

    /// <summary>Signs any message M (the ledger's M is always a 32-byte digest; the standards' examples are text).</summary>
    internal Signature SignMessage(ReadOnlySpan<byte> message, ReadOnlySpan<byte> privateKey, SecureRandom random)
    {
        var d = ToScalar(privateKey);
        var signer = new SM2Signer(PlainDsaEncoding.Instance, new SM3Digest());
        signer.Init(true, new ParametersWithID(new ParametersWithRandom(new ECPrivateKeyParameters(d, _domain), random), _id));
        signer.BlockUpdate(message);
        var rs = signer.GenerateSignature();
        Span<byte> publicKey = stackalloc byte[64];
        GetPublicKey(privateKey, publicKey);
        return Signature.Sm2(rs, publicKey);
    }

    public SignatureCheck Recover(in Hash256 digest, in Signature signature, out Address signer)
        => Sm2.RecoverBy(this, digest, signature, out signer);

    /// <summary>Whether r‖s verifies over any message M under the carried key (false for a point off the curve).</summary>
    public bool VerifyMessage(ReadOnlySpan<byte> message, in Signature signature)
    {
        var publicKey = signature.PublicKey;
        ECPoint point;
        try
        {
            point = _domain.Curve.ValidatePoint(new BigInteger(1, publicKey[..32]), new BigInteger(1, publicKey[32..]));
        }
        catch (ArgumentException)
        {
            return false;
        }

        var verifier = new SM2Signer(PlainDsaEncoding.Instance, new SM3Digest());
        verifier.Init(false, new ParametersWithID(new ECPublicKeyParameters(point, _domain), _id));
        verifier.BlockUpdate(message);
        return verifier.VerifySignature(signature.Compact.ToArray());
    }

    public SignatureCheck Verify(in Hash256 digest, in Signature signature, in Address expectedSigner) => Sm2.VerifyBy(this, digest, signature, expectedSigner);

    private static BigInteger ToScalar(ReadOnlySpan<byte> privateKey)
        => Sm2.IsValidPrivateKey(privateKey)
            ? new BigInteger(1, privateKey)
            : throw new ArgumentException("an SM2 private key is 32 bytes in [1, n-2]", nameof(privateKey));

    private static void WriteFixed(BigInteger value, Span<byte> destination)
    {
        destination.Clear();
        var bytes = value.ToByteArrayUnsigned();
        bytes.CopyTo(destination[(destination.Length - bytes.Length)..]);
    }
}
