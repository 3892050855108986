using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Keys;

/// <summary>
/// A private key in transit between key files (create, import, export), held in unmanaged memory the garbage
/// collector never copies and zeroed on <see cref="Dispose"/>, with the crypto suite it belongs to: a secp256k1 key
/// (eth) or an SM2 key (gm). The same 32 bytes are a different key with a different address in each suite, so the
/// suite travels with the key and every key file records it. Its bytes are visible only inside this assembly;
/// everything else sees the address or signs through <see cref="ToSigner"/>.
/// </summary>
public sealed class KeyMaterial : IDisposable
{
    private readonly SecretKeyMemory _memory = new();

    private KeyMaterial(CryptoSuiteId suite)
    {
        Suite = suite;
    }

    /// <summary>The key's address, derived as its suite defines (docs/crypto.md, "Crypto suites").</summary>
    public Address Address { get; private set; }

    /// <summary>Which suite's key this is: eth (secp256k1) or gm (SM2).</summary>
    public CryptoSuiteId Suite { get; }

    internal ReadOnlySpan<byte> Bytes => _memory.IsClosed ? throw new ObjectDisposedException(nameof(KeyMaterial)) : _memory.Span;

    /// <summary>A fresh key of <paramref name="suite"/> from the OS CSPRNG, drawn straight into protected memory.</summary>
    public static KeyMaterial Generate(CryptoSuiteId suite = CryptoSuiteId.Eth)
    {
        var scheme = CryptoSuite.For(suite).Signatures;
        var material = new KeyMaterial(suite);
        scheme.GeneratePrivateKey(material._memory.Span);
        material.Address = scheme.GetAddress(material._memory.Span);
        return material;
    }

    /// <summary>Whether 32 bytes are a private key of <paramref name="suite"/>: [1, n−1] of secp256k1, [1, n−2] of sm2p256v1.</summary>
    public static bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey, CryptoSuiteId suite) => CryptoSuite.For(suite).Signatures.IsValidPrivateKey(privateKey);

    /// <summary>What a valid private key of <paramref name="suite"/> is, for error messages.</summary>
    public static string DescribeValidKey(CryptoSuiteId suite)
        => suite == CryptoSuiteId.Gm ? "an SM2 private key is 32 bytes in [1, n-2] of sm2p256v1" : "a secp256k1 private key is 32 bytes in [1, n-1]";

    /// <summary>Copies 32 bytes that must be a valid private key of <paramref name="suite"/>; the caller zeroes its copy.</summary>
    internal static KeyMaterial Copy(ReadOnlySpan<byte> privateKey, CryptoSuiteId suite = CryptoSuiteId.Eth)
    {
        var scheme = CryptoSuite.For(suite).Signatures;
        if (!scheme.IsValidPrivateKey(privateKey))
        {
            throw new ArgumentException(DescribeValidKey(suite), nameof(privateKey));
        }

        var material = new KeyMaterial(suite);
        privateKey.CopyTo(material._memory.Span);
        material.Address = scheme.GetAddress(material._memory.Span);
        return material;
    }

    /// <summary>
    /// An independent in-memory signer for this key (it keeps its own copy; dispose both), over the process's scheme
    /// of the key's suite unless <paramref name="scheme"/> names another (which must be of the same suite, e.g. an SM2
    /// with the chain's identifier).
    /// </summary>
    public InMemorySigner ToSigner(ISignatureScheme? scheme = null)
    {
        scheme ??= CryptoSuite.For(Suite).Signatures;
        return scheme.Suite != Suite
            ? throw new ArgumentException($"a {Suite.ToName()} key cannot sign with the {scheme.Suite.ToName()} scheme {scheme.Name}", nameof(scheme))
            : new InMemorySigner(Bytes, scheme);
    }

    public void Dispose() => _memory.Dispose();

    public override string ToString() => $"{Suite.ToName()} key {Address}";
}
