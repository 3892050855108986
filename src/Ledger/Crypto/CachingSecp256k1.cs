namespace SmartCity.Ledger.Crypto;

/// <summary>
/// An <see cref="ISecp256k1"/> whose recoveries consult a <see cref="VerifiedSignatureCache"/> first, so the state
/// machine, which recovers the signer of every transaction it applies, does not repeat the work of the mempool or
/// of a <see cref="SignatureBatchVerifier"/> that already checked the signature on arrival. Only successful
/// recoveries are cached; every rejection is recomputed (it is cheap to reject and must never be remembered wrong).
/// </summary>
public sealed class CachingSecp256k1(ISecp256k1 inner, VerifiedSignatureCache cache) : ISecp256k1
{
    public VerifiedSignatureCache Cache => cache;

    public string Name => $"{inner.Name}, cached";

    public bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey) => inner.IsValidPrivateKey(privateKey);

    public void GeneratePrivateKey(Span<byte> privateKey) => inner.GeneratePrivateKey(privateKey);

    public void GetPublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey64) => inner.GetPublicKey(privateKey, publicKey64);

    public Address GetAddress(ReadOnlySpan<byte> privateKey) => inner.GetAddress(privateKey);

    public Signature Sign(in Hash256 digest, ReadOnlySpan<byte> privateKey) => inner.Sign(digest, privateKey);

    public SignatureCheck Recover(in Hash256 digest, in Signature signature, out Address signer)
    {
        if (cache.TryGet(digest, signature, out signer))
        {
            return SignatureCheck.Ok;
        }

        var check = inner.Recover(digest, signature, out signer);
        if (check == SignatureCheck.Ok)
        {
            cache.Add(digest, signature, signer);
        }

        return check;
    }

    public SignatureCheck Verify(in Hash256 digest, in Signature signature, in Address expectedSigner)
    {
        var check = Recover(digest, signature, out var signer);
        return check != SignatureCheck.Ok ? check : signer == expectedSigner ? SignatureCheck.Ok : SignatureCheck.WrongSigner;
    }
}
