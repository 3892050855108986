using System.Text;

namespace SmartCity.Ledger.Keys;

/// <summary>Keystore files on disk: read (mode checked) and decrypt, encrypt and create (mode 0600, never overwritten).</summary>
public static class KeystoreFile
{
    /// <summary>Reads and decrypts the keystore at <paramref name="path"/>.</summary>
    public static KeyMaterial Read(string path, ReadOnlySpan<byte> password)
    {
        var json = Encoding.UTF8.GetString(SecretFiles.ReadPrivate(path, "keystore", maxBytes: 64 * 1024));
        return Keystore.Decrypt(json, password, $"keystore '{path}'");
    }

    /// <summary>Encrypts <paramref name="key"/> into a new keystore file at <paramref name="path"/>.</summary>
    public static void Write(string path, KeyMaterial key, ReadOnlySpan<byte> password, ScryptParameters? parameters = null)
        => SecretFiles.WriteNewPrivate(path, Encoding.UTF8.GetBytes(Keystore.Encrypt(key, password, parameters) + "\n"), "keystore");
}
