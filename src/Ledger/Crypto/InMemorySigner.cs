using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace SmartCity.Ledger.Crypto;

/// <summary>
/// A signer whose private key lives in process memory: tests, development, and the decrypted form of a keystore.
/// The 32 key bytes are copied once into unmanaged memory the garbage collector never moves or copies, and are
/// zeroed and freed on <see cref="Dispose"/> (or by the finalizer if the owner forgets). Signing after disposal
/// throws <see cref="ObjectDisposedException"/>; a signature already in progress finishes before the key is zeroed.
/// </summary>
public sealed class InMemorySigner : ISigner, IDisposable
{
    private readonly ISecp256k1 _curve;
    private readonly KeyMemory _key;

    /// <summary>Copies <paramref name="privateKey"/> (32 bytes in [1, n-1]); the caller zeroes its own copy.</summary>
    public InMemorySigner(ReadOnlySpan<byte> privateKey, ISecp256k1? curve = null)
    {
        if (!Secp256k1.IsValidPrivateKey(privateKey))
        {
            throw new ArgumentException("a secp256k1 private key is 32 bytes in [1, n-1]", nameof(privateKey));
        }

        _curve = curve ?? Secp256k1.Default;
        _key = new KeyMemory();
        privateKey.CopyTo(_key.Span);
        Address = _curve.GetAddress(_key.Span);
    }

    private InMemorySigner(KeyMemory key, ISecp256k1 curve)
    {
        _curve = curve;
        _key = key;
        Address = curve.GetAddress(key.Span);
    }

    public Address Address { get; }

    /// <summary>A signer for a fresh key drawn from the OS CSPRNG straight into its protected buffer.</summary>
    public static InMemorySigner Generate(ISecp256k1? curve = null)
    {
        var key = new KeyMemory();
        Secp256k1.GeneratePrivateKey(key.Span);
        return new InMemorySigner(key, curve ?? Secp256k1.Default);
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

    /// <summary>32 bytes of unmanaged memory, zeroed before it is freed; reference-counted by <see cref="SafeHandle"/>.</summary>
    private sealed unsafe class KeyMemory : SafeHandle
    {
        private const int Size = 32;

        public KeyMemory()
            : base(0, ownsHandle: true)
            => SetHandle((nint)NativeMemory.AllocZeroed(Size));

        public override bool IsInvalid => handle == 0;

        public Span<byte> Span => new((void*)handle, Size);

        protected override bool ReleaseHandle()
        {
            CryptographicOperations.ZeroMemory(new Span<byte>((void*)handle, Size));
            NativeMemory.Free((void*)handle);
            return true;
        }
    }
}
