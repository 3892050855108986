using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Nethereum.KeyStore.Crypto;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Keys;

/// <summary>
/// Web3 Secret Storage v3 keystores, the file geth, ethers and MetaMask read and write: the 32-byte key encrypted with
/// AES-128-CTR under the first half of a password-derived key (scrypt, or PBKDF2-HMAC-SHA256 when reading), and a
/// MAC = Keccak-256(second half ‖ ciphertext) that tells a wrong password from a right one. The KDF, the cipher and
/// the MAC come from Nethereum.KeyStore (PBKDF2 from .NET); this class owns the format: it checks every field before
/// any work, bounds the KDF cost a file may demand, and writes geth's layout. The password is the UTF-8 bytes of
/// what was typed, as geth and Nethereum use it (ethers first applies NFKC, which changes only compatibility
/// characters such as full-width letters: docs/keys.md).
/// </summary>
public static class Keystore
{
    private const int KeySize = 32;
    private const int MaxPbkdf2Iterations = 10_000_000;

    /// <summary>Decrypts a keystore's JSON with <paramref name="password"/>; every failure is a <see cref="KeySourceException"/>.</summary>
    public static KeyMaterial Decrypt(string json, ReadOnlySpan<byte> password, string source = "keystore")
    {
        var parsed = Parse(json, source);
        var passwordBytes = password.ToArray();
        byte[]? derived = null;
        byte[]? key = null;
        try
        {
            derived = parsed.Scrypt is { } scrypt
                ? new KeyStoreCrypto().GenerateDerivedScryptKey(passwordBytes, parsed.Salt, scrypt.N, scrypt.R, scrypt.P, KeySize)
                : Rfc2898DeriveBytes.Pbkdf2(passwordBytes, parsed.Salt, parsed.Pbkdf2Iterations, HashAlgorithmName.SHA256, KeySize);

            var mac = Mac(derived, parsed.CipherText);
            if (!CryptographicOperations.FixedTimeEquals(mac.Bytes, parsed.Mac))
            {
                throw new KeySourceException(KeySourceErrorCode.WrongPassword, $"{source}: wrong password (the keystore's MAC does not match)");
            }

            key = new KeyStoreCrypto().GenerateAesCtrCipher(parsed.Iv, derived[..16], parsed.CipherText);
            if (!Secp256k1.IsValidPrivateKey(key))
            {
                throw new KeySourceException(KeySourceErrorCode.NotAKeystore, $"{source}: the decrypted key is not a secp256k1 private key");
            }

            var material = KeyMaterial.Copy(key);
            if (parsed.Address is { } stated && stated != material.Address)
            {
                material.Dispose();
                throw new KeySourceException(KeySourceErrorCode.AddressMismatch,
                    $"{source}: the file states address {stated} but its key belongs to {material.Address}");
            }

            return material;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
            if (derived is not null)
            {
                CryptographicOperations.ZeroMemory(derived);
            }

            if (key is not null)
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }
    }

    /// <summary>Encrypts <paramref name="key"/> under <paramref name="password"/> (scrypt, <see cref="ScryptParameters.Standard"/> by default) as keystore JSON.</summary>
    public static string Encrypt(KeyMaterial key, ReadOnlySpan<byte> password, ScryptParameters? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        parameters ??= ScryptParameters.Standard;
        if (parameters.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(parameters));
        }

        if (password.IsEmpty)
        {
            throw new KeySourceException(KeySourceErrorCode.SecretUnavailable, "a keystore needs a non-empty password");
        }

        var salt = RandomNumberGenerator.GetBytes(32);
        var iv = RandomNumberGenerator.GetBytes(16);
        var passwordBytes = password.ToArray();
        var plain = key.Bytes.ToArray();
        byte[]? derived = null;
        try
        {
            var crypto = new KeyStoreCrypto();
            derived = crypto.GenerateDerivedScryptKey(passwordBytes, salt, parameters.N, parameters.R, parameters.P, KeySize);
            var cipherText = crypto.GenerateAesCtrCipher(iv, derived[..16], plain);
            var mac = Mac(derived, cipherText);

            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            {
                writer.WriteStartObject();
                writer.WriteString("address", Convert.ToHexStringLower(key.Address.Bytes));
                writer.WriteStartObject("crypto");
                writer.WriteString("cipher", "aes-128-ctr");
                writer.WriteString("ciphertext", Convert.ToHexStringLower(cipherText));
                writer.WriteStartObject("cipherparams");
                writer.WriteString("iv", Convert.ToHexStringLower(iv));
                writer.WriteEndObject();
                writer.WriteString("kdf", "scrypt");
                writer.WriteStartObject("kdfparams");
                writer.WriteNumber("dklen", KeySize);
                writer.WriteNumber("n", parameters.N);
                writer.WriteNumber("p", parameters.P);
                writer.WriteNumber("r", parameters.R);
                writer.WriteString("salt", Convert.ToHexStringLower(salt));
                writer.WriteEndObject();
                writer.WriteString("mac", Convert.ToHexStringLower(mac.Bytes));
                writer.WriteEndObject();
                writer.WriteString("id", Guid.NewGuid().ToString());
                writer.WriteNumber("version", 3);
                writer.WriteEndObject();
            }

            return Encoding.UTF8.GetString(buffer.ToArray());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
            CryptographicOperations.ZeroMemory(plain);
            if (derived is not null)
            {
                CryptographicOperations.ZeroMemory(derived);
            }
        }
    }

    /// <summary>The address a keystore states (geth, ethers and we always write one), without decrypting it.</summary>
    public static Address? StatedAddress(string json, string source = "keystore") => Parse(json, source).Address;

    /// <summary>The KDF a keystore uses, e.g. "scrypt n=262144 r=8 p=1" or "pbkdf2 c=262144".</summary>
    public static string DescribeKdf(string json, string source = "keystore")
    {
        var parsed = Parse(json, source);
        return parsed.Scrypt?.ToString() ?? $"pbkdf2 c={parsed.Pbkdf2Iterations}";
    }

    private static Hash256 Mac(byte[] derived, byte[] cipherText)
    {
        var input = new byte[16 + cipherText.Length];
        derived.AsSpan(16, 16).CopyTo(input);
        cipherText.CopyTo(input, 16);
        var mac = Keccak256.Hash(input);
        CryptographicOperations.ZeroMemory(input);
        return mac;
    }

    private static ParsedKeystore Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw NotAKeystore(source, $"not JSON ({e.Message})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw NotAKeystore(source, "not a JSON object");
            }

            if (!root.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number)
            {
                throw NotAKeystore(source, "no \"version\"");
            }

            if (!version.TryGetInt32(out var v) || v != 3)
            {
                throw Unsupported(source, $"version {version.GetRawText()}; only Web3 Secret Storage version 3 is accepted");
            }

            // geth writes "crypto", ethers "Crypto"; both are version 3.
            if (!(root.TryGetProperty("crypto", out var crypto) || root.TryGetProperty("Crypto", out crypto)) || crypto.ValueKind != JsonValueKind.Object)
            {
                throw NotAKeystore(source, "no \"crypto\" object");
            }

            var cipher = String(crypto, "cipher", source);
            if (cipher != "aes-128-ctr")
            {
                throw Unsupported(source, $"cipher '{cipher}'; only aes-128-ctr is accepted");
            }

            var cipherText = Hex(crypto, "ciphertext", source, KeySize);
            var iv = crypto.TryGetProperty("cipherparams", out var cipherParams) && cipherParams.ValueKind == JsonValueKind.Object
                ? Hex(cipherParams, "iv", source, 16)
                : throw NotAKeystore(source, "no \"cipherparams\" object");
            var mac = Hex(crypto, "mac", source, 32);
            if (!crypto.TryGetProperty("kdfparams", out var kdfParams) || kdfParams.ValueKind != JsonValueKind.Object)
            {
                throw NotAKeystore(source, "no \"kdfparams\" object");
            }

            var salt = Hex(kdfParams, "salt", source, expectedLength: null);
            if (salt.Length == 0)
            {
                throw NotAKeystore(source, "an empty KDF salt");
            }

            if (Int(kdfParams, "dklen", source) != KeySize)
            {
                throw Unsupported(source, "a derived key length (dklen) other than 32");
            }

            ScryptParameters? scrypt = null;
            var iterations = 0;
            var kdf = String(crypto, "kdf", source);
            if (kdf == "scrypt")
            {
                scrypt = new ScryptParameters(Int(kdfParams, "n", source), Int(kdfParams, "r", source), Int(kdfParams, "p", source));
                if (scrypt.Problem() is { } problem)
                {
                    throw Unsupported(source, problem);
                }
            }
            else if (kdf == "pbkdf2")
            {
                iterations = Int(kdfParams, "c", source);
                if (String(kdfParams, "prf", source) != "hmac-sha256")
                {
                    throw Unsupported(source, "a PBKDF2 PRF other than hmac-sha256");
                }

                if (iterations is < 1 or > MaxPbkdf2Iterations)
                {
                    throw Unsupported(source, $"PBKDF2 c = {iterations} outside [1, {MaxPbkdf2Iterations}]");
                }
            }
            else
            {
                throw Unsupported(source, $"KDF '{kdf}'; only scrypt and pbkdf2 are accepted");
            }

            Address? address = null;
            if (root.TryGetProperty("address", out var stated) && stated.ValueKind == JsonValueKind.String && stated.GetString() is { Length: > 0 } text)
            {
                address = Address.TryParse(text, out var parsed, out var error) ? parsed : throw NotAKeystore(source, $"its \"address\" is malformed: {error}");
            }

            return new ParsedKeystore(cipherText, iv, mac, salt, scrypt, iterations, address);
        }
    }

    private static string String(JsonElement parent, string name, string source)
        => parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : throw NotAKeystore(source, $"no \"{name}\" string");

    private static int Int(JsonElement parent, string name, string source)
        => parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw NotAKeystore(source, $"no \"{name}\" integer");

    private static byte[] Hex(JsonElement parent, string name, string source, int? expectedLength)
    {
        var text = String(parent, name, source);
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            text = text[2..];
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            throw NotAKeystore(source, $"\"{name}\" is not hex");
        }

        return expectedLength is { } length && bytes.Length != length
            ? throw NotAKeystore(source, $"\"{name}\" is {bytes.Length} bytes, expected {length}")
            : bytes;
    }

    private static KeySourceException NotAKeystore(string source, string why)
        => new(KeySourceErrorCode.NotAKeystore, $"{source} is not a Web3 Secret Storage keystore: {why}");

    private static KeySourceException Unsupported(string source, string why)
        => new(KeySourceErrorCode.UnsupportedKeystore, $"{source}: unsupported keystore: {why}");

    private sealed record ParsedKeystore(byte[] CipherText, byte[] Iv, byte[] Mac, byte[] Salt, ScryptParameters? Scrypt, int Pbkdf2Iterations, Address? Address);
}
