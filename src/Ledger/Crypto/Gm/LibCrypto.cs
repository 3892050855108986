using System.Runtime.InteropServices;

namespace SmartCity.Ledger.Crypto.Gm;

/// <summary>
/// The few OpenSSL 3 libcrypto functions the gm suite's native path needs (SM3 through <c>EVP_Digest</c>, SM2
/// verification through <c>EVP_DigestVerify</c> with the distinguishing identifier set by
/// <c>EVP_PKEY_CTX_set1_id</c>), bound once per process with <see cref="NativeLibrary"/> and unmanaged function
/// pointers. Debian 12's <c>libssl3</c> (OpenSSL 3.0) has both algorithms in its default provider.
/// </summary>
internal sealed unsafe class LibCrypto
{
    public const string LibraryName = "libcrypto.so.3";

    private static readonly Lazy<(LibCrypto? Instance, string Reason)> Shared = new(() => Load(LibraryName));

    private LibCrypto(nint library)
    {
        var fetch = (delegate* unmanaged<nint, byte*, byte*, nint>)NativeLibrary.GetExport(library, "EVP_MD_fetch");
        Digest = (delegate* unmanaged<byte*, nuint, byte*, uint*, nint, nint, int>)NativeLibrary.GetExport(library, "EVP_Digest");
        D2iPubKey = (delegate* unmanaged<nint, byte**, nint, nint>)NativeLibrary.GetExport(library, "d2i_PUBKEY");
        PKeyFree = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(library, "EVP_PKEY_free");
        PKeyIsA = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(library, "EVP_PKEY_is_a");
        MdCtxNew = (delegate* unmanaged<nint>)NativeLibrary.GetExport(library, "EVP_MD_CTX_new");
        MdCtxFree = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(library, "EVP_MD_CTX_free");
        MdCtxSetPKeyCtx = (delegate* unmanaged<nint, nint, void>)NativeLibrary.GetExport(library, "EVP_MD_CTX_set_pkey_ctx");
        PKeyCtxNew = (delegate* unmanaged<nint, nint, nint>)NativeLibrary.GetExport(library, "EVP_PKEY_CTX_new");
        PKeyCtxFree = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(library, "EVP_PKEY_CTX_free");
        PKeyCtxSet1Id = (delegate* unmanaged<nint, byte*, nint, int>)NativeLibrary.GetExport(library, "EVP_PKEY_CTX_set1_id");
        DigestVerifyInit = (delegate* unmanaged<nint, nint*, nint, nint, nint, int>)NativeLibrary.GetExport(library, "EVP_DigestVerifyInit");
        DigestVerify = (delegate* unmanaged<nint, byte*, nuint, byte*, nuint, int>)NativeLibrary.GetExport(library, "EVP_DigestVerify");
        ErrClearError = (delegate* unmanaged<void>)NativeLibrary.GetExport(library, "ERR_clear_error");

        ReadOnlySpan<byte> name = "SM3\0"u8;
        fixed (byte* n = name)
        {
            Sm3 = fetch(0, n, null);
        }

        if (Sm3 == 0)
        {
            ErrClearError();
            throw new InvalidOperationException($"{LibraryName} has no SM3 digest (EVP_MD_fetch(\"SM3\") returned NULL)");
        }
    }

    /// <summary>The fetched SM3 <c>EVP_MD*</c>, kept for the life of the process.</summary>
    public nint Sm3 { get; }

    public delegate* unmanaged<byte*, nuint, byte*, uint*, nint, nint, int> Digest { get; }

    public delegate* unmanaged<nint, byte**, nint, nint> D2iPubKey { get; }

    public delegate* unmanaged<nint, void> PKeyFree { get; }

    public delegate* unmanaged<nint, byte*, int> PKeyIsA { get; }

    public delegate* unmanaged<nint> MdCtxNew { get; }

    public delegate* unmanaged<nint, void> MdCtxFree { get; }

    public delegate* unmanaged<nint, nint, void> MdCtxSetPKeyCtx { get; }

    public delegate* unmanaged<nint, nint, nint> PKeyCtxNew { get; }

    public delegate* unmanaged<nint, void> PKeyCtxFree { get; }

    public delegate* unmanaged<nint, byte*, nint, int> PKeyCtxSet1Id { get; }

    public delegate* unmanaged<nint, nint*, nint, nint, nint, int> DigestVerifyInit { get; }

    public delegate* unmanaged<nint, byte*, nuint, byte*, nuint, int> DigestVerify { get; }

    public delegate* unmanaged<void> ErrClearError { get; }

    /// <summary>The process-wide binding, or null with the reason libcrypto could not be used.</summary>
    public static LibCrypto? TryGet(out string reason)
    {
        (var instance, reason) = Shared.Value;
        return instance;
    }

    /// <summary>Binds <paramref name="libraryName"/>; tests pass a missing name to exercise the managed fallback.</summary>
    public static (LibCrypto? Instance, string Reason) Load(string libraryName)
    {
        if (!NativeLibrary.TryLoad(libraryName, out var library))
        {
            return (null, $"{libraryName} not found (install the libssl3 package)");
        }

        try
        {
            return (new LibCrypto(library), "loaded");
        }
        catch (EntryPointNotFoundException e)
        {
            return (null, $"{libraryName} lacks a needed function (OpenSSL 3 is required): {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>SM3 of <paramref name="data"/> into 32 bytes; false only if OpenSSL fails (out of memory).</summary>
    public bool TrySm3(ReadOnlySpan<byte> data, Span<byte> output32)
    {
        uint size = 0;
        fixed (byte* d = data)
        fixed (byte* o = output32)
        {
            return Digest(d, (nuint)data.Length, o, &size, Sm3, 0) == 1 && size == 32;
        }
    }
}
