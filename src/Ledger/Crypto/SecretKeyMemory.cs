using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace SmartCity.Ledger.Crypto;

/// <summary>
/// 32 bytes of unmanaged memory for a private key: the garbage collector never moves or copies it, and it is zeroed
/// before it is freed (on <see cref="SafeHandle.Dispose()"/>, or by the finalizer if the owner forgets).
/// Reference-counted by <see cref="SafeHandle"/>, so a signature in progress finishes before the key is zeroed.
/// </summary>
public sealed unsafe class SecretKeyMemory : SafeHandle
{
    public const int Size = 32;

    public SecretKeyMemory()
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
