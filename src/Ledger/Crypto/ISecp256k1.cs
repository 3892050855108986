namespace SmartCity.Ledger.Crypto;

/// <summary>
/// secp256k1 as Ethereum uses it: RFC 6979 deterministic, low-s (EIP-2) recoverable signatures over 32-byte digests,
/// with identities as <see cref="Address"/>es. Two implementations give byte-identical answers:
/// <see cref="NativeSecp256k1"/> (libsecp256k1) and <see cref="ManagedSecp256k1"/> (BouncyCastle).
/// Pick one with <see cref="Secp256k1.Create(Microsoft.Extensions.Logging.ILogger?)"/>. Implementations are thread-safe.
/// </summary>
public interface ISecp256k1
{
    /// <summary>"native (libsecp256k1.so.1)" or "managed (BouncyCastle)", for logs and benchmarks.</summary>
    string Name { get; }

    /// <summary>Fills <paramref name="privateKey"/> (32 bytes) with a fresh key from the OS CSPRNG.</summary>
    void GeneratePrivateKey(Span<byte> privateKey);

    /// <summary>True when <paramref name="privateKey"/> is 32 bytes in [1, n-1].</summary>
    bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey);

    /// <summary>Writes the 64-byte uncompressed public key x‖y (no 0x04 prefix) of a valid private key.</summary>
    void GetPublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey64);

    /// <summary>The address of a valid private key: last 20 bytes of Keccak-256(x‖y).</summary>
    Address GetAddress(ReadOnlySpan<byte> privateKey);

    /// <summary>
    /// Signs a 32-byte digest with RFC 6979 (HMAC-SHA256) nonces, low-s, v = 27 + recovery id: the same bytes
    /// ethers' <c>SigningKey.sign</c> and <c>eth_signTypedData_v4</c> produce. The primitive under
    /// <see cref="ISigner"/> implementations: everything else signs through an <see cref="ISigner"/>.
    /// </summary>
    Signature Sign(in Hash256 digest, ReadOnlySpan<byte> privateKey);

    /// <summary>Recovers the signer of <paramref name="digest"/>; rejects malformed and high-s signatures.</summary>
    SignatureCheck Recover(in Hash256 digest, in Signature signature, out Address signer);

    /// <summary>Checks that <paramref name="signature"/> over <paramref name="digest"/> was made by <paramref name="expectedSigner"/>.</summary>
    SignatureCheck Verify(in Hash256 digest, in Signature signature, in Address expectedSigner);
}
