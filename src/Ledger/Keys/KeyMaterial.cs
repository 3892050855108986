using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Keys;

/// <summary>
/// A private key in transit between key files (create, import, export), held in unmanaged memory the garbage
/// collector never copies and zeroed on <see cref="Dispose"/>. Its bytes are visible only inside this assembly;
/// everything else sees the address or signs through <see cref="ToSigner"/>.
/// </summary>
public sealed class KeyMaterial : IDisposable
{
    private readonly SecretKeyMemory _memory = new();

    private KeyMaterial()
    {
    }

    public Address Address { get; private set; }

    internal ReadOnlySpan<byte> Bytes => _memory.IsClosed ? throw new ObjectDisposedException(nameof(KeyMaterial)) : _memory.Span;

    /// <summary>A fresh key from the OS CSPRNG, drawn straight into protected memory.</summary>
    public static KeyMaterial Generate()
    {
        var material = new KeyMaterial();
        Secp256k1.GeneratePrivateKey(material._memory.Span);
        material.Address = Secp256k1.Default.GetAddress(material._memory.Span);
        return material;
    }

    /// <summary>Copies 32 bytes that must be a valid secp256k1 private key; the caller zeroes its copy.</summary>
    internal static KeyMaterial Copy(ReadOnlySpan<byte> privateKey)
    {
        if (!Secp256k1.IsValidPrivateKey(privateKey))
        {
            throw new ArgumentException("a secp256k1 private key is 32 bytes in [1, n-1]", nameof(privateKey));
        }

        var material = new KeyMaterial();
        privateKey.CopyTo(material._memory.Span);
        material.Address = Secp256k1.Default.GetAddress(material._memory.Span);
        return material;
    }

    /// <summary>An independent in-memory signer for this key (it keeps its own copy; dispose both).</summary>
    public InMemorySigner ToSigner(ISecp256k1? curve = null) => new(Bytes, curve);

    public void Dispose() => _memory.Dispose();

    public override string ToString() => $"key {Address}";
}
