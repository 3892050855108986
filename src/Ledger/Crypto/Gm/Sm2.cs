using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace SmartCity.Ledger.Crypto.Gm;

/// <summary>
/// Chooses the SM2 implementation for this process (OpenSSL's libcrypto when it loads, else BouncyCastle) and holds
/// what both share: the curve order, the checks every signature passes before any curve arithmetic, key generation
/// and the gm suite's address derivation.
/// </summary>
public static partial class Sm2
{
    /// <summary>GM/T 0009-2012 §10's default distinguishing identifier, the ASCII bytes of "1234567812345678".</summary>
    public const string DefaultDistinguishingId = "1234567812345678";

    /// <summary>The longest identifier Z can hash: ENTL is a 16-bit count of bits.</summary>
    public const int MaxDistinguishingIdBytes = 8191;

    /// <summary>The order n of sm2p256v1's base point, big-endian.</summary>
    internal static ReadOnlySpan<byte> Order =>
    [
        0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x72, 0x03, 0xDF, 0x6B, 0x21, 0xC6, 0x05, 0x2B, 0x53, 0xBB, 0xF4, 0x09, 0x39, 0xD5, 0x41, 0x23,
    ];

    /// <summary>n − 1: a private key d must be below it (d ∈ [1, n−2], so that 1 + d is invertible).</summary>
    private static ReadOnlySpan<byte> OrderMinusOne =>
    [
        0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x72, 0x03, 0xDF, 0x6B, 0x21, 0xC6, 0x05, 0x2B, 0x53, 0xBB, 0xF4, 0x09, 0x39, 0xD5, 0x41, 0x22,
    ];

    private static readonly Lazy<ISm2> SharedDefault = new(() => Create(null, DefaultDistinguishingId));

    /// <summary>The process-wide implementation with the default identifier, chosen silently.</summary>
    public static ISm2 Default => SharedDefault.Value;

    /// <summary>
    /// Native (libcrypto.so.3) when it loads and has SM2/SM3, otherwise BouncyCastle; one log line says which, and the
    /// fallback is a warning because it is several times slower.
    /// </summary>
    public static ISm2 Create(ILogger? logger, string distinguishingId = DefaultDistinguishingId)
        => Choose(LibCrypto.TryGet(out var reason), reason, LibCrypto.LibraryName, distinguishingId, logger);

    /// <summary>As <see cref="Create(ILogger?, string)"/> with another library name, so tests can see the fallback.</summary>
    internal static ISm2 Create(ILogger? logger, string distinguishingId, string libraryName)
    {
        var (library, reason) = LibCrypto.Load(libraryName);
        return Choose(library, reason, libraryName, distinguishingId, logger);
    }

    /// <summary>The managed implementation whatever loads: the tests and the benchmark compare both paths.</summary>
    public static ISm2 CreateManaged(string distinguishingId = DefaultDistinguishingId) => new ManagedSm2(IdBytes(distinguishingId));

    /// <summary>The native implementation, or null with the reason when libcrypto.so.3 cannot be used.</summary>
    public static ISm2? TryCreateNative(string distinguishingId, out string reason)
    {
        var library = LibCrypto.TryGet(out reason);
        return library is null ? null : NativeSm2.TryCreate(library, IdBytes(distinguishingId), out reason);
    }

    private static ISm2 Choose(LibCrypto? library, string reason, string libraryName, string distinguishingId, ILogger? logger)
    {
        var id = IdBytes(distinguishingId);
        if (library is not null && NativeSm2.TryCreate(library, id, out reason) is { } native)
        {
            if (logger is not null)
            {
                LogNative(logger, libraryName);
            }

            return native;
        }

        if (logger is not null)
        {
            LogManagedFallback(logger, libraryName, reason);
        }

        return new ManagedSm2(id);
    }

    /// <summary>The identifier's bytes (UTF-8; the default is ASCII), refusing one that Z cannot hash.</summary>
    public static byte[] IdBytes(string distinguishingId)
    {
        ArgumentNullException.ThrowIfNull(distinguishingId);
        var bytes = Encoding.UTF8.GetBytes(distinguishingId);
        if (bytes.Length is 0 or > MaxDistinguishingIdBytes)
        {
            throw new ArgumentException($"an SM2 distinguishing identifier is 1 to {MaxDistinguishingIdBytes} bytes", nameof(distinguishingId));
        }

        return bytes;
    }

    /// <summary>32 bytes, big-endian, in [1, n−2].</summary>
    public static bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey)
        => privateKey.Length == 32 && privateKey.ContainsAnyExcept((byte)0) && privateKey.SequenceCompareTo(OrderMinusOne) < 0;

    /// <summary>Fills 32 bytes with a fresh key from the OS CSPRNG, drawn again until it is in [1, n−2].</summary>
    public static void GeneratePrivateKey(Span<byte> privateKey)
    {
        if (privateKey.Length != 32)
        {
            throw new ArgumentException("a private key is 32 bytes", nameof(privateKey));
        }

        do
        {
            RandomNumberGenerator.Fill(privateKey);
        }
        while (!IsValidPrivateKey(privateKey));
    }

    /// <summary>
    /// The gm suite's address of a public key x‖y: the last 20 bytes of SM3(x‖y), as FISCO BCOS derives its
    /// national-crypto accounts (the eth suite takes the last 20 bytes of Keccak-256(x‖y)).
    /// </summary>
    public static Address AddressOf(ReadOnlySpan<byte> publicKey64)
    {
        if (publicKey64.Length != 64)
        {
            throw new ArgumentException("a public key is 64 bytes x‖y", nameof(publicKey64));
        }

        Span<byte> hash = stackalloc byte[Hash256.Size];
        Sm3.Hash(publicKey64, hash);
        return new Address(hash[12..]);
    }

    /// <summary>The checks before any curve arithmetic: the gm form, and 1 ≤ r, s ≤ n − 1.</summary>
    internal static SignatureCheck CheckForm(in Signature signature)
    {
        if (signature.Suite != CryptoSuiteId.Gm)
        {
            return SignatureCheck.WrongSuite;
        }

        var r = signature.R;
        var s = signature.S;
        return !r.ContainsAnyExcept((byte)0) || !s.ContainsAnyExcept((byte)0) || r.SequenceCompareTo(Order) >= 0 || s.SequenceCompareTo(Order) >= 0
            ? SignatureCheck.OutOfRange
            : SignatureCheck.Ok;
    }

    /// <summary>
    /// SM2's "recovery", the same on every path: the signature's form is checked, r‖s is verified against the public
    /// key it carries, and the signer is that key's address. Generic, so each path's check is called directly.
    /// </summary>
    internal static SignatureCheck RecoverBy<TVerifier>(TVerifier verifier, in Hash256 digest, in Signature signature, out Address signer)
        where TVerifier : ISm2MessageVerifier
    {
        signer = default;
        var check = CheckForm(signature);
        if (check != SignatureCheck.Ok)
        {
            return check;
        }

        if (!verifier.VerifyMessage(digest.Bytes, signature))
        {
            return SignatureCheck.Invalid;
        }

        signer = AddressOf(signature.PublicKey);
        return SignatureCheck.Ok;
    }

    /// <summary>Checks the expected signer by "recovering" (verifying against the carried key) and comparing addresses.</summary>
    internal static SignatureCheck VerifyBy(ISm2 sm2, in Hash256 digest, in Signature signature, in Address expectedSigner)
    {
        var check = sm2.Recover(digest, signature, out var signer);
        return check != SignatureCheck.Ok ? check : signer == expectedSigner ? SignatureCheck.Ok : SignatureCheck.WrongSigner;
    }

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "SM2/SM3: native {Library} loaded; gm signatures are checked by OpenSSL")]
    private static partial void LogNative(ILogger logger, string library);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "SM2/SM3: native {Library} not available ({Reason}); falling back to the managed BouncyCastle implementation, which gives identical verdicts but is several times slower")]
    private static partial void LogManagedFallback(ILogger logger, string library, string reason);
}
