namespace SmartCity.Ledger.Crypto;

/// <summary>
/// A signer whose private key lives in process memory: tests, development, and the decrypted form of a keystore.
/// The 32 key bytes are copied once into unmanaged memory the garbage collector never moves or copies, and are
/// zeroed and freed on <see cref="Dispose"/> (or by the finalizer if the owner forgets). Signing after disposal
/// throws <see cref="ObjectDisposedException"/>; a signature already in progress finishes before the key is zeroed.
/// </summary>
public sealed class InMemorySigner : ISigner, IDisposable
{
    private readonly ISignatureScheme _curve;
    private readonly SecretKeyMemory _key;

    /// <summary>
    /// Copies <paramref name="privateKey"/> (32 bytes in [1, n-1]; [1, n-2] for SM2); the caller zeroes its own copy.
    /// <paramref name="curve"/> is the chain suite's scheme (secp256k1 when null, or SM2 for a gm chain).
    /// </summary>
    public InMemorySigner(ReadOnlySpan<byte> privateKey, ISignatureScheme? curve = null)
    {
        _curve = curve ?? Secp256k1.Default;
        if (!_curve.IsValidPrivateKey(privateKey))
        {
            throw new ArgumentException($"a {_curve.Suite.ToName()} private key is 32 bytes in [1, n-1] ([1, n-2] for SM2)", nameof(privateKey));
        }

        _key = new SecretKeyMemory();
        privateKey.CopyTo(_key.Span);
        Address = _curve.GetAddress(_key.Span);
    }

    private InMemorySigner(SecretKeyMemory key, ISignatureScheme curve)
    {
        _curve = curve;
        _key = key;
        Address = curve.GetAddress(key.Span);
    }

    public Address Address { get; }

    /// <summary>A signer for a fresh key drawn from the OS CSPRNG straight into its protected buffer.</summary>
    public static InMemorySigner Generate(ISignatureScheme? curve = null)
    {
        curve ??= Secp256k1.Default;
        var key = new SecretKeyMemory();
        curve.GeneratePrivateKey(key.Span);
        return new InMemorySigner(key, curve);
    }

    public Signature Sign(in Hash256 digest)
    {
        var added = false;
        try
        {
            _key.DangerousAddRef(ref added);
            return _curve.Sign(digest, _key.Span);
        }
        finally
        {
            if (added)
            {
                _key.DangerousRelease();
            }
        }
    }

    /// <summary>Zeroes and frees the key (once no signature is in progress).</summary>
    public void Dispose() => _key.Dispose();

    public override string ToString() => $"in-memory signer {Address}";
}
