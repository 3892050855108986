namespace SmartCity.Ledger.Crypto;

/// <summary>
/// A suite's signature scheme: secp256k1 with recovery (<see cref="ISecp256k1"/>, eth) or SM2 with the public key
/// carried in the signature (<see cref="Gm.ISm2"/>, gm). Both answer the same two questions the ledger asks: "who
/// signed this digest?" (<see cref="Recover"/>: eth recovers the key, gm checks the signature against the key it
/// carries) and "did this address sign it?" (<see cref="Verify"/>). Bad input never throws: it is a
/// <see cref="SignatureCheck"/>.
/// </summary>
public interface ISignatureScheme
{
    /// <summary>For logs: which implementation (native or managed) this is.</summary>
    string Name { get; }

    /// <summary>The suite whose signatures this scheme makes and checks.</summary>
    CryptoSuiteId Suite { get; }

    /// <summary>Fills 32 bytes with a fresh private key from the OS CSPRNG, in [1, n-1] (n−2 for SM2).</summary>
    void GeneratePrivateKey(Span<byte> privateKey);

    bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey);

    /// <summary>The uncompressed public key x‖y, 64 bytes.</summary>
    void GetPublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey64);

    /// <summary>The address of the private key's public key, derived as the suite defines.</summary>
    Address GetAddress(ReadOnlySpan<byte> privateKey);

    /// <summary>Signs a 32-byte digest in the suite's wire form.</summary>
    Signature Sign(in Hash256 digest, ReadOnlySpan<byte> privateKey);

    /// <summary>Who signed <paramref name="digest"/>: the address of the key that verifies, or why none does.</summary>
    SignatureCheck Recover(in Hash256 digest, in Signature signature, out Address signer);

    /// <summary>Whether <paramref name="expectedSigner"/> signed <paramref name="digest"/>.</summary>
    SignatureCheck Verify(in Hash256 digest, in Signature signature, in Address expectedSigner);
}
