using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Keys.Pkcs11;

namespace SmartCity.Ledger.Keys;

/// <summary>
/// The one entry point a node (or a tool) uses to get its signer: validates the options, applies the start-up checks
/// and opens the key. Checks, in order: exactly one complete source is named; a clear-text key is refused unless
/// <c>InsecurePlaintext</c>; key, password and PIN files must be private to their owner (no group or other access);
/// the password or PIN source must yield a secret; the keystore must decrypt (a wrong password is one clear line);
/// the token must be present, accept the PIN, hold exactly one key with the label, and sign a self-test; and the key's
/// address must be <c>expectedAddress</c> when one is configured (e.g. this node's validator address). Given the
/// chain's signature scheme (<c>genesis.Crypto</c>'s suite), the key must be of that suite
/// (<see cref="KeySourceErrorCode.WrongSuite"/>) and signs with that scheme (for gm, the chain's SM2 identifier); PKCS#11
/// holds eth keys only (<see cref="KeySourceErrorCode.UnsupportedSuite"/>). Without it, a key file's own suite is used.
/// </summary>
public static partial class KeySource
{
    /// <summary>Opens the signer, or throws a <see cref="KeySourceException"/> whose message is the one line to print.</summary>
    public static KeySigner OpenSigner(KeySourceOptions options, Address? expectedAddress = null, ISecretPrompt? prompt = null, ILogger? logger = null, ISignatureScheme? chainScheme = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } invalid)
        {
            throw new KeySourceException(invalid);
        }

        if (options.Pkcs11 is { } token && chainScheme is { Suite: not CryptoSuiteId.Eth })
        {
            throw new KeySourceException(KeySourceErrorCode.UnsupportedSuite,
                $"PKCS#11 key '{token.KeyLabel}': the chain's crypto suite is {chainScheme.Suite.ToName()} (SM2), and PKCS#11 defines no SM2 signature mechanism (SoftHSM2 offers only CKM_ECDSA); keep a gm validator's key in a keystore (docs/keys.md, \"PKCS#11 and the gm suite\")");
        }

        var signer = Open(options, prompt, logger, chainScheme);
        if (expectedAddress is { } expected && signer.Address != expected)
        {
            var actual = signer.Address;
            var where = signer.Description;
            signer.Dispose();
            throw new KeySourceException(KeySourceErrorCode.AddressMismatch,
                $"the key in {where} belongs to {actual}, but the configuration expects {expected}");
        }

        if (logger is not null)
        {
            LogOpened(logger, signer.Address.ToString(), signer.Description);
        }

        return signer;
    }

    /// <summary>As <see cref="OpenSigner"/>, with the failure as a value.</summary>
    public static bool TryOpenSigner(KeySourceOptions options, Address? expectedAddress, ISecretPrompt? prompt, ILogger? logger,
        [NotNullWhen(true)] out KeySigner? signer, [NotNullWhen(false)] out KeySourceError? error)
        => TryOpenSigner(options, expectedAddress, prompt, logger, chainScheme: null, out signer, out error);

    /// <summary>As <see cref="OpenSigner"/> for a chain whose signature scheme is <paramref name="chainScheme"/>, with the failure as a value.</summary>
    public static bool TryOpenSigner(KeySourceOptions options, Address? expectedAddress, ISecretPrompt? prompt, ILogger? logger, ISignatureScheme? chainScheme,
        [NotNullWhen(true)] out KeySigner? signer, [NotNullWhen(false)] out KeySourceError? error)
    {
        try
        {
            signer = OpenSigner(options, expectedAddress, prompt, logger, chainScheme);
            error = null;
            return true;
        }
        catch (KeySourceException e)
        {
            signer = null;
            error = e.Error;
            return false;
        }
    }

    private static KeySigner Open(KeySourceOptions options, ISecretPrompt? prompt, ILogger? logger, ISignatureScheme? chainScheme)
    {
        if (options.Keystore is { } keystore)
        {
            // Check the file before asking for a password nobody should type for an unprotected file.
            SecretFiles.EnsurePrivateIfExists(keystore.Path, "keystore");
            var password = KeySecrets.Read(keystore.Password, "keystore password", prompt);
            try
            {
                using var key = KeystoreFile.Read(keystore.Path, password);
                var where = $"keystore '{keystore.Path}'";
                return new KeySigner(ToSigner(key, chainScheme, where), key.Suite, KeySourceKind.Keystore, where);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(password);
            }
        }

        if (options.Plaintext is { } plaintext)
        {
            if (logger is not null)
            {
                LogPlaintext(logger, plaintext.Path);
            }

            using var key = PlaintextKeyFile.Read(plaintext.Path);
            var where = $"clear-text key file '{plaintext.Path}'";
            return new KeySigner(ToSigner(key, chainScheme, where), key.Suite, KeySourceKind.Plaintext, where);
        }

        var pkcs11 = options.Pkcs11!;
        var pin = KeySecrets.Read(pkcs11.Pin, "PIN", prompt);
        try
        {
            var signer = Pkcs11Signer.Open(pkcs11, pin);
            var token = pkcs11.TokenLabel is { } label ? $"token '{label}'" : $"slot {pkcs11.Slot}";
            return new KeySigner(signer, CryptoSuiteId.Eth, KeySourceKind.Pkcs11, $"PKCS#11 {token} key '{pkcs11.KeyLabel}'");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pin);
        }
    }

    private static InMemorySigner ToSigner(KeyMaterial key, ISignatureScheme? chainScheme, string where)
        => chainScheme is null || chainScheme.Suite == key.Suite
            ? key.ToSigner(chainScheme)
            : throw new KeySourceException(KeySourceErrorCode.WrongSuite,
                $"{where} holds {Describe(key.Suite)} key ({key.Address}), but the chain's crypto suite is {chainScheme.Suite.ToName()}: it needs {Describe(chainScheme.Suite)} key");

    private static string Describe(CryptoSuiteId suite) => suite == CryptoSuiteId.Gm ? "a gm (SM2)" : "an eth (secp256k1)";

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "keys: signing as {Address} with the key in {Source}")]
    private static partial void LogOpened(ILogger logger, string address, string source);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "keys: the key is read from the CLEAR-TEXT file '{Path}' (InsecurePlaintext); anyone who can read it can sign as this node. Development only: use a keystore or PKCS#11")]
    private static partial void LogPlaintext(ILogger logger, string path);
}
