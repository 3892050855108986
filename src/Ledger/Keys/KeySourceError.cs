namespace SmartCity.Ledger.Keys;

/// <summary>Why a key could not be opened, created or converted. Each has one precise, secret-free message.</summary>
public enum KeySourceErrorCode
{
    /// <summary>The options name no source, several sources, or leave a required field empty.</summary>
    InvalidOptions = 1,

    /// <summary>A key, password or PIN file does not exist or cannot be read.</summary>
    FileUnreadable,

    /// <summary>A key, password or PIN file is readable or writable by its group or by others.</summary>
    PermissionsTooOpen,

    /// <summary>A file to be written exists already (keys are never overwritten) or cannot be created.</summary>
    FileNotWritable,

    /// <summary>The file is not a Web3 Secret Storage keystore (not JSON, or a required field is missing or malformed).</summary>
    NotAKeystore,

    /// <summary>A keystore of a version, cipher, KDF or KDF parameters this node does not accept.</summary>
    UnsupportedKeystore,

    /// <summary>The keystore's MAC does not match: the password is wrong (or the file was altered).</summary>
    WrongPassword,

    /// <summary>The password or PIN source gives nothing: an unset environment variable, an empty file, no terminal.</summary>
    SecretUnavailable,

    /// <summary>A clear-text key was named without <c>insecurePlaintext</c>.</summary>
    PlaintextNotAllowed,

    /// <summary>A clear-text key file that holds no valid secp256k1 private key.</summary>
    NotAKeyFile,

    /// <summary>The key's address is not the configured one, or not the one the file states.</summary>
    AddressMismatch,

    /// <summary>The PKCS#11 module cannot be loaded or initialised.</summary>
    ModuleUnavailable,

    /// <summary>No token with the configured label or in the configured slot (absent or removed).</summary>
    TokenNotFound,

    /// <summary>The token refused the PIN.</summary>
    WrongPin,

    /// <summary>The token's user PIN is locked after too many wrong attempts.</summary>
    PinLocked,

    /// <summary>No private key with the configured label on the token.</summary>
    KeyNotFound,

    /// <summary>More than one private key (or a key already) carries the label.</summary>
    KeyAmbiguous,

    /// <summary>The key on the token is not a secp256k1 EC key, or its public key cannot be read.</summary>
    UnsupportedKey,

    /// <summary>Any other failure reported by the PKCS#11 module (its CKR_ code is in the message).</summary>
    DeviceError,

    /// <summary>The key belongs to the other crypto suite than the chain's (an eth key on a gm chain or the reverse), or a key file states another suite than the one asked for.</summary>
    WrongSuite,

    /// <summary>The source cannot hold keys of the chain's suite: PKCS#11 keys are secp256k1 only (no PKCS#11 mechanism for SM2 signatures; docs/keys.md).</summary>
    UnsupportedSuite,
}

/// <summary>A key-source failure as a value: the code for programs, the message (one line, no secrets) for people.</summary>
public sealed record KeySourceError(KeySourceErrorCode Code, string Message)
{
    public override string ToString() => Message;
}

/// <summary>A key-source failure thrown by the convenience entry points (<see cref="KeySource.OpenSigner"/>).</summary>
public sealed class KeySourceException : Exception
{
    public KeySourceException(KeySourceError error)
        : base(error?.Message)
        => Error = error ?? throw new ArgumentNullException(nameof(error));

    public KeySourceException(KeySourceErrorCode code, string message)
        : this(new KeySourceError(code, message))
    {
    }

    public KeySourceException(KeySourceErrorCode code, string message, Exception innerException)
        : base(message, innerException)
        => Error = new KeySourceError(code, message);

    public KeySourceError Error { get; }

    public KeySourceErrorCode Code => Error.Code;
}
