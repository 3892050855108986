namespace SmartCity.Ledger.Keys;

/// <summary>
/// Where a node's (or a tool's) key comes from: exactly one of <see cref="Keystore"/>, <see cref="Pkcs11"/> or
/// <see cref="Plaintext"/>. Bound from configuration (e.g. the section <c>Key</c>), validated at start-up by
/// <see cref="Validate"/>, opened by <see cref="KeySource.OpenSigner"/>. Passwords and PINs are never values in the
/// options, only where to find them (a file, an environment variable named here, or a prompt), so they stay out of
/// configuration files and command lines.
/// </summary>
public sealed class KeySourceOptions
{
    /// <summary>An encrypted Web3 Secret Storage (v3) keystore file, as geth, ethers and MetaMask write it.</summary>
    public KeystoreKeyOptions? Keystore { get; set; }

    /// <summary>A private key that never leaves a PKCS#11 token (an HSM; SoftHSM in tests).</summary>
    public Pkcs11KeyOptions? Pkcs11 { get; set; }

    /// <summary>A clear-text key file. Development only: refused unless <see cref="InsecurePlaintext"/> is true.</summary>
    public PlaintextKeyOptions? Plaintext { get; set; }

    /// <summary>Allows <see cref="Plaintext"/>. Off by default; the node logs a warning when it is used.</summary>
    public bool InsecurePlaintext { get; set; }

    /// <summary>Null when the options name exactly one complete source; otherwise the first problem.</summary>
    public KeySourceError? Validate()
    {
        var named = (Keystore is null ? 0 : 1) + (Pkcs11 is null ? 0 : 1) + (Plaintext is null ? 0 : 1);
        if (named != 1)
        {
            return Invalid(named == 0
                ? "the key source names none of Keystore, Pkcs11 or Plaintext"
                : "the key source names more than one of Keystore, Pkcs11 and Plaintext; choose one");
        }

        if (Keystore is { } keystore)
        {
            return string.IsNullOrWhiteSpace(keystore.Path) ? Invalid("Keystore.Path is empty") : keystore.Password.Validate("Keystore.Password");
        }

        if (Plaintext is { } plaintext)
        {
            if (!InsecurePlaintext)
            {
                return new KeySourceError(KeySourceErrorCode.PlaintextNotAllowed,
                    "a clear-text key file is refused unless InsecurePlaintext is true (development only); use a keystore or PKCS#11");
            }

            return string.IsNullOrWhiteSpace(plaintext.Path) ? Invalid("Plaintext.Path is empty") : null;
        }

        var pkcs11 = Pkcs11!;
        if (string.IsNullOrWhiteSpace(pkcs11.Module))
        {
            return Invalid("Pkcs11.Module (the path of the PKCS#11 library) is empty");
        }

        if ((pkcs11.Slot is null) == string.IsNullOrWhiteSpace(pkcs11.TokenLabel))
        {
            return Invalid("Pkcs11 names its token by exactly one of Slot and TokenLabel");
        }

        return string.IsNullOrWhiteSpace(pkcs11.KeyLabel) ? Invalid("Pkcs11.KeyLabel is empty") : pkcs11.Pin.Validate("Pkcs11.Pin");
    }

    internal static KeySourceError Invalid(string message) => new(KeySourceErrorCode.InvalidOptions, message);
}

public sealed class KeystoreKeyOptions
{
    /// <summary>The keystore file (mode 0600 or stricter).</summary>
    public string Path { get; set; } = "";

    /// <summary>Where the keystore's password comes from.</summary>
    public SecretSourceOptions Password { get; set; } = new();
}

public sealed class PlaintextKeyOptions
{
    /// <summary>A <c>{"address","privateKey"}</c> JSON file or a file holding 64 hex digits (mode 0600 or stricter).</summary>
    public string Path { get; set; } = "";
}

public sealed class Pkcs11KeyOptions
{
    /// <summary>The PKCS#11 library, e.g. <c>/usr/lib/softhsm/libsofthsm2.so</c>.</summary>
    public string Module { get; set; } = "";

    /// <summary>The slot id of the token; or name it by <see cref="TokenLabel"/> (preferred: slot ids can change).</summary>
    public ulong? Slot { get; set; }

    /// <summary>The token's label.</summary>
    public string? TokenLabel { get; set; }

    /// <summary>Where the user PIN comes from.</summary>
    public SecretSourceOptions Pin { get; set; } = new();

    /// <summary>The <c>CKA_LABEL</c> of the secp256k1 private key (and of its public key).</summary>
    public string KeyLabel { get; set; } = "";
}

/// <summary>
/// Where a password or PIN comes from: exactly one of a file (its first line; mode 0600 or stricter), an environment
/// variable named here, or an interactive prompt. Never a value in configuration or on a command line.
/// </summary>
public sealed class SecretSourceOptions
{
    public string? File { get; set; }

    public string? Environment { get; set; }

    public bool Prompt { get; set; }

    internal KeySourceError? Validate(string name)
    {
        var named = (string.IsNullOrWhiteSpace(File) ? 0 : 1) + (string.IsNullOrWhiteSpace(Environment) ? 0 : 1) + (Prompt ? 1 : 0);
        return named == 1 ? null : KeySourceOptions.Invalid($"{name} names its source by exactly one of File, Environment and Prompt");
    }
}
