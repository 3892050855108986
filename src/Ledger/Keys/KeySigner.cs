using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Keys;

/// <summary>What kind of source a <see cref="KeySigner"/> came from.</summary>
public enum KeySourceKind
{
    Keystore,
    Pkcs11,
    Plaintext,
}

/// <summary>
/// A signer opened by <see cref="KeySource"/>: the in-memory key of a decrypted keystore (or clear-text file), or a
/// PKCS#11 key. The opener owns it; <see cref="Dispose"/> zeroes the key or closes the token session.
/// </summary>
public sealed class KeySigner : ISigner, IDisposable
{
    private readonly ISigner _inner;

    internal KeySigner(ISigner inner, CryptoSuiteId suite, KeySourceKind kind, string description)
    {
        _inner = inner;
        Suite = suite;
        Kind = kind;
        Description = description;
    }

    public Address Address => _inner.Address;

    public KeySourceKind Kind { get; }

    /// <summary>The crypto suite of the key: eth (secp256k1, 65-byte signatures) or gm (SM2, 128-byte signatures).</summary>
    public CryptoSuiteId Suite { get; }

    /// <summary>Where the key is, for logs: "keystore '/etc/…/bj.json'", "PKCS#11 token 'bj' key 'validator'".</summary>
    public string Description { get; }

    public Signature Sign(in Hash256 digest) => _inner.Sign(digest);

    public void Dispose() => (_inner as IDisposable)?.Dispose();

    public override string ToString() => $"{Address} from {Description}";
}
