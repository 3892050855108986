using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using Org.BouncyCastle.Math.EC.Multiplier;

namespace SmartCity.Ledger.Crypto;

/// <summary>
/// secp256k1 in managed code on BouncyCastle, for machines without libsecp256k1. It uses the curve from
/// <see cref="CustomNamedCurves"/> (specialised field arithmetic and the GLV endomorphism), several times faster than
/// the generic <c>SecNamedCurves</c> one. Results are byte-identical to <see cref="NativeSecp256k1"/>.
/// </summary>
public sealed class ManagedSecp256k1 : ISecp256k1
{
    private readonly ECDomainParameters _domain;
    private readonly BigInteger _halfOrder;
    private readonly FixedPointCombMultiplier _multiplier = new();

    internal ManagedSecp256k1(X9ECParameters curve, string name)
    {
        _domain = new ECDomainParameters(curve.Curve, curve.G, curve.N, curve.H);
        _halfOrder = curve.N.ShiftRight(1);
        Name = name;
    }

    /// <summary>The shared instance on BouncyCastle's optimised secp256k1.</summary>
    public static ManagedSecp256k1 Instance { get; } = new(CustomNamedCurves.GetByName("secp256k1"), "managed (BouncyCastle)");

    public string Name { get; }

    public void GeneratePrivateKey(Span<byte> privateKey) => Secp256k1.GeneratePrivateKey(privateKey);

    public bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey) => Secp256k1.IsValidPrivateKey(privateKey);

    public void GetPublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey64)
    {
        if (publicKey64.Length != 64)
        {
            throw new ArgumentException("the public key buffer must be 64 bytes", nameof(publicKey64));
        }

        var point = PublicPoint(ToScalar(privateKey));
        WriteFixed(point.AffineXCoord.ToBigInteger(), publicKey64[..32]);
        WriteFixed(point.AffineYCoord.ToBigInteger(), publicKey64[32..]);
    }

    public Address GetAddress(ReadOnlySpan<byte> privateKey)
    {
        Span<byte> publicKey = stackalloc byte[64];
        GetPublicKey(privateKey, publicKey);
        return Address.FromPublicKey(publicKey);
    }

    public Signature Sign(in Hash256 digest, ReadOnlySpan<byte> privateKey)
    {
        var d = ToScalar(privateKey);
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, new ECPrivateKeyParameters(d, _domain));
        var rs = signer.GenerateSignature(digest.ToArray());
        var r = rs[0];
        var s = rs[1];
        if (s.CompareTo(_halfOrder) > 0)
        {
            s = _domain.N.Subtract(s);
        }

        Span<byte> compact = stackalloc byte[64];
        WriteFixed(r, compact[..32]);
        WriteFixed(s, compact[32..]);

        // The recovery id is the parity of the nonce point's y, which the signer does not expose: try 0, else it is 1.
        var recoveryId = RecoverPoint(digest, r, s, 0) is { } point && point.Equals(PublicPoint(d)) ? 0 : 1;
        return Signature.FromCompact(compact, recoveryId);
    }

    public SignatureCheck Recover(in Hash256 digest, in Signature signature, out Address signer)
    {
        signer = default;
        var check = Secp256k1.CheckForm(signature, out var recoveryId);
        if (check != SignatureCheck.Ok)
        {
            return check;
        }

        var point = RecoverPoint(digest, new BigInteger(1, signature.R.ToArray()), new BigInteger(1, signature.S.ToArray()), recoveryId);
        if (point is null)
        {
            return SignatureCheck.Invalid;
        }

        Span<byte> publicKey = stackalloc byte[64];
        WriteFixed(point.AffineXCoord.ToBigInteger(), publicKey[..32]);
        WriteFixed(point.AffineYCoord.ToBigInteger(), publicKey[32..]);
        signer = Address.FromPublicKey(publicKey);
        return SignatureCheck.Ok;
    }

    public SignatureCheck Verify(in Hash256 digest, in Signature signature, in Address expectedSigner)
    {
        var check = Recover(digest, signature, out var signer);
        return check != SignatureCheck.Ok ? check : signer == expectedSigner ? SignatureCheck.Ok : SignatureCheck.WrongSigner;
    }

    /// <summary>
    /// SEC 1 §4.1.6 for recovery ids 0/1 (x = r): lift r to the point R with the given y parity, then
    /// Q = r⁻¹(sR − eG). Null when r is not the x of a curve point or Q is the point at infinity.
    /// </summary>
    private ECPoint? RecoverPoint(in Hash256 digest, BigInteger r, BigInteger s, int recoveryId)
    {
        var curve = _domain.Curve;
        var x = curve.FromBigInteger(r);
        var y = x.Square().Multiply(x).Add(curve.B).Sqrt();
        if (y is null)
        {
            return null;
        }

        if (y.TestBitZero() != (recoveryId == 1))
        {
            y = y.Negate();
        }

        var n = _domain.N;
        var bigR = curve.CreatePoint(r, y.ToBigInteger());
        var e = new BigInteger(1, digest.ToArray());
        var rInverse = r.ModInverse(n);
        var u1 = n.Subtract(e).Multiply(rInverse).Mod(n);
        var u2 = s.Multiply(rInverse).Mod(n);
        var q = ECAlgorithms.SumOfTwoMultiplies(_domain.G, u1, bigR, u2).Normalize();
        return q.IsInfinity ? null : q;
    }

    private ECPoint PublicPoint(BigInteger d) => _multiplier.Multiply(_domain.G, d).Normalize();

    private static BigInteger ToScalar(ReadOnlySpan<byte> privateKey)
    {
        if (!Secp256k1.IsValidPrivateKey(privateKey))
        {
            throw new ArgumentException("a private key is 32 bytes in [1, n-1]", nameof(privateKey));
        }

        return new BigInteger(1, privateKey.ToArray());
    }

    private static void WriteFixed(BigInteger value, Span<byte> destination)
    {
        var bytes = value.ToByteArrayUnsigned();
        destination.Clear();
        bytes.CopyTo(destination[(destination.Length - bytes.Length)..]);
    }
}
