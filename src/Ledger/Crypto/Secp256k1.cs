using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace SmartCity.Ledger.Crypto;

/// <summary>
/// Chooses the secp256k1 implementation for this process and holds what both implementations share: the group
/// order, the checks every signature must pass before any curve arithmetic, and key generation.
/// </summary>
public static partial class Secp256k1
{
    /// <summary>The group order n, big-endian.</summary>
    internal static ReadOnlySpan<byte> Order =>
    [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
        0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41,
    ];

    /// <summary>⌊n/2⌋, big-endian: EIP-2's bound for s.</summary>
    internal static ReadOnlySpan<byte> HalfOrder =>
    [
        0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x5D, 0x57, 0x6E, 0x73, 0x57, 0xA4, 0x50, 0x1D, 0xDF, 0xE9, 0x2F, 0x46, 0x68, 0x1B, 0x20, 0xA0,
    ];

    private static readonly Lazy<ISecp256k1> SharedDefault = new(() => Create(null));

    /// <summary>The process-wide implementation: native when libsecp256k1 loads (the bundled build, else the system's), managed otherwise (silently).</summary>
    public static ISecp256k1 Default => SharedDefault.Value;

    /// <summary>
    /// Native libsecp256k1 when it loads, otherwise the managed BouncyCastle implementation; either way one log line
    /// says which, and the fallback is a warning because it is several times slower.
    /// </summary>
    public static ISecp256k1 Create(ILogger? logger)
    {
        NativeSecp256k1.TryLoad(out var native, out var reason);
        return Choose(native, reason, native?.Library ?? NativeSecp256k1.LibraryName, logger);
    }

    /// <summary>As <see cref="Create(ILogger?)"/> but with another library name, so tests can see the fallback.</summary>
    internal static ISecp256k1 Create(ILogger? logger, string libraryName)
    {
        var (native, reason) = NativeSecp256k1.Load(libraryName);
        return Choose(native, reason, libraryName, logger);
    }

    private static ISecp256k1 Choose(NativeSecp256k1? native, string reason, string libraryName, ILogger? logger)
    {
        if (native is not null)
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

        return ManagedSecp256k1.Instance;
    }

    /// <summary>Fills <paramref name="privateKey"/> (32 bytes) with a fresh key from the OS CSPRNG.</summary>
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

    /// <summary>32 bytes, big-endian, in [1, n-1].</summary>
    public static bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey)
        => privateKey.Length == 32 && privateKey.ContainsAnyExcept((byte)0) && privateKey.SequenceCompareTo(Order) < 0;

    /// <summary>Recovers from raw bytes, reporting a wrong length as a value rather than an exception.</summary>
    public static SignatureCheck Recover(this ISecp256k1 secp256k1, ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature, out Address signer)
    {
        if (digest.Length != Hash256.Size || signature.Length != Signature.Size)
        {
            signer = default;
            return SignatureCheck.InvalidLength;
        }

        return secp256k1.Recover(new Hash256(digest), new Signature(signature), out signer);
    }

    /// <summary>Verifies raw bytes, reporting a wrong length as a value rather than an exception.</summary>
    public static SignatureCheck Verify(this ISecp256k1 secp256k1, ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature, in Address expectedSigner)
    {
        if (digest.Length != Hash256.Size || signature.Length != Signature.Size)
        {
            return SignatureCheck.InvalidLength;
        }

        return secp256k1.Verify(new Hash256(digest), new Signature(signature), expectedSigner);
    }

    /// <summary>
    /// The checks done before any curve arithmetic: v in {0, 1, 27, 28}, 0 &lt; r &lt; n, 0 &lt; s ≤ n/2 (EIP-2).
    /// </summary>
    internal static SignatureCheck CheckForm(in Signature signature, out int recoveryId)
    {
        if (signature.Suite != CryptoSuiteId.Eth)
        {
            recoveryId = -1;
            return SignatureCheck.WrongSuite;
        }

        recoveryId = signature.RecoveryId;
        if (recoveryId < 0)
        {
            return SignatureCheck.BadRecoveryId;
        }

        var r = signature.R;
        var s = signature.S;
        if (!r.ContainsAnyExcept((byte)0) || !s.ContainsAnyExcept((byte)0) || r.SequenceCompareTo(Order) >= 0 || s.SequenceCompareTo(Order) >= 0)
        {
            return SignatureCheck.OutOfRange;
        }

        return s.SequenceCompareTo(HalfOrder) > 0 ? SignatureCheck.HighS : SignatureCheck.Ok;
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "secp256k1: native {Library} loaded; signatures are checked by libsecp256k1")]
    private static partial void LogNative(ILogger logger, string library);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "secp256k1: native {Library} not available ({Reason}); falling back to the managed BouncyCastle implementation, which gives identical results but is several times slower")]
    private static partial void LogManagedFallback(ILogger logger, string library, string reason);
}
