using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace SmartCity.Ledger.Crypto;

/// <summary>
/// secp256k1 on libsecp256k1 (recovery module) through unmanaged function pointers: the build that ships in the
/// Secp256k1.Net package (libsecp256k1 0.6, <c>runtimes/{rid}/native/libsecp256k1.so</c> beside the application) when
/// it loads, else Debian's <c>libsecp256k1-1</c> (0.2.0). Both compute the same results (a test holds them to it);
/// the newer one recovers a key ~10 % faster on this project's machines (docs/crypto.md).
/// One context, created once with SIGN|VERIFY and randomised against side channels, serves every thread (the library
/// allows concurrent use of a context for everything but re-randomisation). Verification and recovery allocate
/// nothing: the library's opaque 64/65-byte structs live on the stack.
/// </summary>
public sealed unsafe class NativeSecp256k1 : ISecp256k1
{
    /// <summary>The system library (Debian's <c>libsecp256k1-1</c>), used when the bundled build does not load.</summary>
    public const string LibraryName = "libsecp256k1.so.1";

    /// <summary>
    /// The build the Secp256k1.Net package ships for each runtime identifier, found the way a <c>DllImport</c> would
    /// find it (the application's <c>runtimes/{rid}/native</c> directory, from its deps.json).
    /// </summary>
    public const string BundledLibraryName = "libsecp256k1";

    private const uint ContextSign = (1 << 0) | (1 << 9);
    private const uint ContextVerify = (1 << 0) | (1 << 8);
    private const uint SerializeUncompressed = 1 << 1;

    private static readonly Lazy<(NativeSecp256k1? Instance, string Reason)> Shared = new(Load);

    private readonly nint _context;
    private readonly delegate* unmanaged<nint, byte*, int> _seckeyVerify;
    private readonly delegate* unmanaged<nint, PublicKey*, byte*, int> _pubkeyCreate;
    private readonly delegate* unmanaged<nint, byte*, nuint*, PublicKey*, uint, int> _pubkeySerialize;
    private readonly delegate* unmanaged<nint, RecoverableSignature*, byte*, byte*, nint, nint, int> _signRecoverable;
    private readonly delegate* unmanaged<nint, byte*, int*, RecoverableSignature*, int> _serializeCompact;
    private readonly delegate* unmanaged<nint, RecoverableSignature*, byte*, int, int> _parseCompact;
    private readonly delegate* unmanaged<nint, PublicKey*, RecoverableSignature*, byte*, int> _recover;

    private NativeSecp256k1(nint library, string libraryName)
    {
        Library = libraryName;
        var create = (delegate* unmanaged<uint, nint>)NativeLibrary.GetExport(library, "secp256k1_context_create");
        var randomize = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(library, "secp256k1_context_randomize");
        _seckeyVerify = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(library, "secp256k1_ec_seckey_verify");
        _pubkeyCreate = (delegate* unmanaged<nint, PublicKey*, byte*, int>)NativeLibrary.GetExport(library, "secp256k1_ec_pubkey_create");
        _pubkeySerialize = (delegate* unmanaged<nint, byte*, nuint*, PublicKey*, uint, int>)NativeLibrary.GetExport(library, "secp256k1_ec_pubkey_serialize");
        _signRecoverable = (delegate* unmanaged<nint, RecoverableSignature*, byte*, byte*, nint, nint, int>)NativeLibrary.GetExport(library, "secp256k1_ecdsa_sign_recoverable");
        _serializeCompact = (delegate* unmanaged<nint, byte*, int*, RecoverableSignature*, int>)NativeLibrary.GetExport(library, "secp256k1_ecdsa_recoverable_signature_serialize_compact");
        _parseCompact = (delegate* unmanaged<nint, RecoverableSignature*, byte*, int, int>)NativeLibrary.GetExport(library, "secp256k1_ecdsa_recoverable_signature_parse_compact");
        _recover = (delegate* unmanaged<nint, PublicKey*, RecoverableSignature*, byte*, int>)NativeLibrary.GetExport(library, "secp256k1_ecdsa_recover");

        _context = create(ContextSign | ContextVerify);
        if (_context == 0)
        {
            throw new InvalidOperationException("secp256k1_context_create returned NULL");
        }

        Span<byte> seed = stackalloc byte[32];
        RandomNumberGenerator.Fill(seed);
        fixed (byte* s = seed)
        {
            if (randomize(_context, s) != 1)
            {
                throw new InvalidOperationException("secp256k1_context_randomize failed");
            }
        }

        CryptographicOperations.ZeroMemory(seed);
    }

    /// <summary>Which library this instance runs on (<see cref="BundledLibraryName"/>'s file or <see cref="LibraryName"/>).</summary>
    public string Library { get; }

    public string Name => $"native ({Library})";

    /// <summary>The process-wide instance, or false with the reason the library could not be used.</summary>
    public static bool TryLoad([NotNullWhen(true)] out NativeSecp256k1? instance, out string reason)
    {
        (instance, reason) = Shared.Value;
        return instance is not null;
    }

    /// <summary>The bundled build when it loads and works, else the system library.</summary>
    private static (NativeSecp256k1?, string) Load()
    {
        var bundled = LoadBundled();
        return bundled.Instance is not null ? bundled : Load(LibraryName);
    }

    /// <summary>The build shipped beside the application (Secp256k1.Net's), with a context of its own.</summary>
    internal static (NativeSecp256k1? Instance, string Reason) LoadBundled()
    {
        // Probed as DllImport probes: the application's native asset directories first, never a bare dlopen search.
        if (!NativeLibrary.TryLoad(BundledLibraryName, typeof(NativeSecp256k1).Assembly, DllImportSearchPath.AssemblyDirectory, out var library))
        {
            return (null, $"{BundledLibraryName} is not beside the application (the Secp256k1.Net package's native asset)");
        }

        return Create(library, $"{BundledLibraryName} {BundledVersion(library)}");
    }

    /// <summary>Loads <paramref name="libraryName"/> with a context of its own; tests use it to exercise the fallback.</summary>
    internal static (NativeSecp256k1? Instance, string Reason) Load(string libraryName)
    {
        if (!NativeLibrary.TryLoad(libraryName, out var library))
        {
            return (null, $"{libraryName} not found (install the libsecp256k1-1 package)");
        }

        return Create(library, libraryName);
    }

    // 0.5 added secp256k1_ec_pubkey_sort and 0.6 the MuSig2 module; the package's release notes name the version.
    private static string BundledVersion(nint library)
        => NativeLibrary.TryGetExport(library, "secp256k1_musig_pubkey_agg", out _) ? "0.6+" : NativeLibrary.TryGetExport(library, "secp256k1_ec_pubkey_sort", out _) ? "0.5" : "< 0.5";

    private static (NativeSecp256k1? Instance, string Reason) Create(nint library, string libraryName)
    {
        try
        {
            return (new NativeSecp256k1(library, libraryName), "loaded");
        }
        catch (EntryPointNotFoundException e)
        {
            NativeLibrary.Free(library);
            return (null, $"{libraryName} lacks a needed function (is the recovery module built in?): {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            return (null, e.Message);
        }
    }

    public void GeneratePrivateKey(Span<byte> privateKey) => Secp256k1.GeneratePrivateKey(privateKey);

    public bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != 32)
        {
            return false;
        }

        fixed (byte* key = privateKey)
        {
            return _seckeyVerify(_context, key) == 1;
        }
    }

    public void GetPublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey64)
    {
        if (publicKey64.Length != 64)
        {
            throw new ArgumentException("the public key buffer must be 64 bytes", nameof(publicKey64));
        }

        PublicKey publicKey;
        fixed (byte* key = RequireValidKey(privateKey))
        {
            if (_pubkeyCreate(_context, &publicKey, key) != 1)
            {
                ThrowInvalidKey();
            }
        }

        Serialize(&publicKey, publicKey64);
    }

    public Address GetAddress(ReadOnlySpan<byte> privateKey)
    {
        Span<byte> publicKey = stackalloc byte[64];
        GetPublicKey(privateKey, publicKey);
        return Address.FromPublicKey(publicKey);
    }

    public Signature Sign(in Hash256 digest, ReadOnlySpan<byte> privateKey)
    {
        RecoverableSignature signature;
        Span<byte> compact = stackalloc byte[64];
        int recoveryId;
        fixed (byte* key = RequireValidKey(privateKey))
        fixed (byte* message = digest.Bytes)
        fixed (byte* output = compact)
        {
            // A NULL nonce function selects the library's RFC 6979 (HMAC-SHA256) default; its signatures are low-s.
            if (_signRecoverable(_context, &signature, message, key, 0, 0) != 1)
            {
                ThrowInvalidKey();
            }

            _serializeCompact(_context, output, &recoveryId, &signature);
        }

        return Signature.FromCompact(compact, recoveryId);
    }

    [SkipLocalsInit]
    public SignatureCheck Recover(in Hash256 digest, in Signature signature, out Address signer)
    {
        signer = default;
        var check = Secp256k1.CheckForm(signature, out var recoveryId);
        if (check != SignatureCheck.Ok)
        {
            return check;
        }

        RecoverableSignature parsed;
        PublicKey publicKey;
        fixed (byte* compact = signature.Compact)
        fixed (byte* message = digest.Bytes)
        {
            if (_parseCompact(_context, &parsed, compact, recoveryId) != 1)
            {
                return SignatureCheck.OutOfRange;
            }

            if (_recover(_context, &publicKey, &parsed, message) != 1)
            {
                return SignatureCheck.Invalid;
            }
        }

        Span<byte> uncompressed = stackalloc byte[64];
        Serialize(&publicKey, uncompressed);
        signer = Address.FromPublicKey(uncompressed);
        return SignatureCheck.Ok;
    }

    public SignatureCheck Verify(in Hash256 digest, in Signature signature, in Address expectedSigner)
    {
        var check = Recover(digest, signature, out var signer);
        return check != SignatureCheck.Ok ? check : signer == expectedSigner ? SignatureCheck.Ok : SignatureCheck.WrongSigner;
    }

    /// <summary>Serialises uncompressed (0x04‖x‖y) and keeps x‖y.</summary>
    [SkipLocalsInit]
    private void Serialize(PublicKey* publicKey, Span<byte> publicKey64)
    {
        var uncompressed = stackalloc byte[65];
        nuint length = 65;
        _pubkeySerialize(_context, uncompressed, &length, publicKey, SerializeUncompressed);
        new ReadOnlySpan<byte>(uncompressed + 1, 64).CopyTo(publicKey64);
    }

    private ReadOnlySpan<byte> RequireValidKey(ReadOnlySpan<byte> privateKey)
    {
        if (!IsValidPrivateKey(privateKey))
        {
            ThrowInvalidKey();
        }

        return privateKey;
    }

    [DoesNotReturn]
    private static void ThrowInvalidKey() => throw new ArgumentException("a private key is 32 bytes in [1, n-1]");

    /// <summary>libsecp256k1's opaque <c>secp256k1_pubkey</c> (64 bytes).</summary>
    [InlineArray(64)]
    private struct PublicKey
    {
        private byte _element;
    }

    /// <summary>libsecp256k1's opaque <c>secp256k1_ecdsa_recoverable_signature</c> (65 bytes).</summary>
    [InlineArray(65)]
    private struct RecoverableSignature
    {
        private byte _element;
    }
}
