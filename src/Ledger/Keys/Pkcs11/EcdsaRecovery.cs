using System.Numerics;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Keys.Pkcs11;

/// <summary>
/// Turns a plain ECDSA signature (r‖s, as CKM_ECDSA returns it) into the ledger's recoverable form: s normalised to
/// the low half of the group order (EIP-2), and v = 27 + the recovery id found by trying both candidates against the
/// signer's address. A signature that recovers to neither is refused, so a caller never gets a half-right one.
/// </summary>
internal static class EcdsaRecovery
{
    private static readonly BigInteger Order = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
    private static readonly BigInteger HalfOrder = Order >> 1;

    /// <summary>The recoverable signature, or null when <paramref name="rs"/> is malformed or was not made by <paramref name="signer"/> over <paramref name="digest"/>.</summary>
    public static Signature? ToRecoverable(ReadOnlySpan<byte> rs, in Hash256 digest, in Address signer, ISecp256k1 curve)
    {
        if (rs.Length != 64)
        {
            return null;
        }

        var r = new BigInteger(rs[..32], isUnsigned: true, isBigEndian: true);
        var s = new BigInteger(rs[32..], isUnsigned: true, isBigEndian: true);
        if (r.IsZero || s.IsZero || r >= Order || s >= Order)
        {
            return null;
        }

        if (s > HalfOrder)
        {
            s = Order - s;
        }

        Span<byte> compact = stackalloc byte[64];
        rs[..32].CopyTo(compact);
        compact[32..].Clear();
        var written = s.GetByteCount(isUnsigned: true);
        s.TryWriteBytes(compact[(64 - written)..], out _, isUnsigned: true, isBigEndian: true);

        for (var recoveryId = 0; recoveryId < 2; recoveryId++)
        {
            var candidate = Signature.FromCompact(compact, recoveryId);
            if (curve.Recover(digest, candidate, out var recovered) == SignatureCheck.Ok && recovered == signer)
            {
                return candidate;
            }
        }

        return null;
    }
}
