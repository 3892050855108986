using System.Text;

namespace SmartCity.Ledger.Keys;

/// <summary>Keystore files on disk: read (mode checked) and decrypt, encrypt and create (mode 0600, never overwritten).</summary>
public static class KeystoreFile
{
    /// <summary>Reads and decrypts the keystore at <paramref name="path"/>.</summary>
    public static KeyMaterial Read(string path, ReadOnlySpan<byte> password)
    {
        var bytes = SecretFiles.ReadPrivate(path, "keystore", maxBytes: 64 * 1024);
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            // JSON is UTF-8 (RFC 8259, 8.1): invalid bytes are refused, never read as U+FFFD.
            throw new KeySourceException(KeySourceErrorCode.NotAKeystore, $"keystore '{path}' is not UTF-8 text");
        }

        var json = Encoding.UTF8.GetString(bytes);
        return Keystore.Decrypt(json, password, $"keystore '{path}'");
    }

    /// <summary>What a keystore file states without decrypting it: its key's suite, its address (if stated) and its KDF.</summary>
    public static (SmartCity.Ledger.Crypto.CryptoSuiteId Suite, SmartCity.Ledger.Crypto.Address? Address, string Kdf) Describe(string path)
    {
        var bytes = SecretFiles.ReadPrivate(path, "keystore", maxBytes: 64 * 1024);
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            throw new KeySourceException(KeySourceErrorCode.NotAKeystore, $"keystore '{path}' is not UTF-8 text");
        }

        var json = Encoding.UTF8.GetString(bytes);
        var source = $"keystore '{path}'";
        return (Keystore.StatedSuite(json, source), Keystore.StatedAddress(json, source), Keystore.DescribeKdf(json, source));
    }

    /// <summary>Encrypts <paramref name="key"/> into a new keystore file at <paramref name="path"/>.</summary>
    public static void Write(string path, KeyMaterial key, ReadOnlySpan<byte> password, ScryptParameters? parameters = null)
        => SecretFiles.WriteNewPrivate(path, Encoding.UTF8.GetBytes(Keystore.Encrypt(key, password, parameters) + "\n"), "keystore");
}
