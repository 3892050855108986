using Org.BouncyCastle.Security;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Gm;

namespace SmartCity.Ledger.Tests.Crypto.Gm;

/// <summary>The raw-message seam of both implementations: the standards' examples sign text, the ledger 32-byte digests.</summary>
internal static class Sm2Vectors
{
    public static readonly byte[] Order = Convert.FromHexString("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123");

    public static bool VerifyMessage(ISm2 sm2, ReadOnlySpan<byte> message, byte[] r, byte[] s, byte[] publicKey)
    {
        var signature = Signature.Sm2([.. r, .. s], publicKey);
        return sm2 switch
        {
            NativeSm2 native => native.VerifyMessage(message, signature),
            ManagedSm2 managed => managed.VerifyMessage(message, signature),
            _ => throw new ArgumentException("unknown implementation", nameof(sm2)),
        };
    }

    public static Signature SignMessage(ManagedSm2 sm2, ReadOnlySpan<byte> message, byte[] privateKey, SecureRandom k)
        => sm2.SignMessage(message, privateKey, k);
}
