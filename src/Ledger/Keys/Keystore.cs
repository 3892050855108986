using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Nethereum.KeyStore.Crypto;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;
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
/// <para>
/// An SM2 key (the gm suite) is kept in the same layout with <c>"suite": "gm"</c> at the top level, encrypted with
/// SM4-128 in CTR mode (<c>"cipher": "sm4-ctr"</c>, GB/T 32907) and MACed with SM3 in place of Keccak-256, so that a
/// gm key at rest uses only national algorithms (the KDF stays scrypt: there is no national password KDF) and an
/// Ethereum tool cannot mistake it for a secp256k1 key (its MAC check fails). A file without <c>"suite"</c> is eth.
/// </para>
/// </summary>
public static class Keystore
{
    private const int KeySize = 32;
    private const int MaxPbkdf2Iterations = 10_000_000;
    private const string SuiteField = "suite";
    private const string AesCtr = "aes-128-ctr";
    private const string Sm4Ctr = "sm4-ctr";

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

            var mac = Mac(parsed.Suite, derived, parsed.CipherText);
            if (!CryptographicOperations.FixedTimeEquals(mac.Bytes, parsed.Mac))
            {
                throw new KeySourceException(KeySourceErrorCode.WrongPassword, $"{source}: wrong password (the keystore's MAC does not match)");
            }

            key = Cipher(parsed.Suite, parsed.Iv, derived.AsSpan(0, 16), parsed.CipherText);
            if (!KeyMaterial.IsValidPrivateKey(key, parsed.Suite))
            {
                throw new KeySourceException(KeySourceErrorCode.NotAKeystore, $"{source}: the decrypted key is not {(parsed.Suite == CryptoSuiteId.Gm ? "an SM2" : "a secp256k1")} private key");
            }

            var material = KeyMaterial.Copy(key, parsed.Suite);
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
            var cipherText = Cipher(key.Suite, iv, derived.AsSpan(0, 16), plain);
            var mac = Mac(key.Suite, derived, cipherText);

            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            {
                writer.WriteStartObject();
                writer.WriteString("address", Convert.ToHexStringLower(key.Address.Bytes));
                if (key.Suite != CryptoSuiteId.Eth)
                {
                    // Written only for gm, so an eth keystore stays byte-for-byte what geth writes.
                    writer.WriteString(SuiteField, key.Suite.ToName());
                }

                writer.WriteStartObject("crypto");
                writer.WriteString("cipher", key.Suite == CryptoSuiteId.Gm ? Sm4Ctr : AesCtr);
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

    /// <summary>The suite of the key a keystore holds (<c>"suite"</c>; eth when absent), without decrypting it.</summary>
    public static CryptoSuiteId StatedSuite(string json, string source = "keystore") => Parse(json, source).Suite;

    /// <summary>The KDF a keystore uses, e.g. "scrypt n=262144 r=8 p=1" or "pbkdf2 c=262144".</summary>
    public static string DescribeKdf(string json, string source = "keystore")
    {
        var parsed = Parse(json, source);
        return parsed.Scrypt?.ToString() ?? $"pbkdf2 c={parsed.Pbkdf2Iterations}";
    }

    /// <summary>Web3 Secret Storage's MAC, H(derived[16..32] ‖ ciphertext), with the suite's hash: Keccak-256 (eth), SM3 (gm).</summary>
    private static Hash256 Mac(CryptoSuiteId suite, byte[] derived, byte[] cipherText)
    {
        var input = new byte[16 + cipherText.Length];
        derived.AsSpan(16, 16).CopyTo(input);
        cipherText.CopyTo(input, 16);
        var mac = CryptoSuite.For(suite).Hash(input);
        CryptographicOperations.ZeroMemory(input);
        return mac;
    }

    /// <summary>CTR mode is its own inverse: AES-128-CTR (eth, via Nethereum) or SM4-CTR (gm, BouncyCastle's SM4Engine).</summary>
    private static byte[] Cipher(CryptoSuiteId suite, byte[] iv, ReadOnlySpan<byte> key16, byte[] input)
    {
        var key = key16.ToArray();
        try
        {
            if (suite != CryptoSuiteId.Gm)
            {
                return new KeyStoreCrypto().GenerateAesCtrCipher(iv, key, input);
            }

            var cipher = new BufferedBlockCipher(new SicBlockCipher(new SM4Engine()));
            cipher.Init(forEncryption: true, new ParametersWithIV(new KeyParameter(key), iv));
            return cipher.DoFinal(input);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
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

            var suite = CryptoSuiteId.Eth;
            if (root.TryGetProperty(SuiteField, out var suiteValue))
            {
                var suiteText = suiteValue.ValueKind == JsonValueKind.String ? suiteValue.GetString() : null;
                if (!CryptoSuiteNames.TryParse(suiteText, out suite))
                {
                    throw Unsupported(source, $"\"suite\" {suiteValue.GetRawText()}; only \"eth\" and \"gm\" are known");
                }
            }

            var cipher = String(crypto, "cipher", source);
            var expectedCipher = suite == CryptoSuiteId.Gm ? Sm4Ctr : AesCtr;
            if (cipher != expectedCipher)
            {
                throw Unsupported(source, $"cipher '{cipher}' for a{(suite == CryptoSuiteId.Gm ? " gm (SM2)" : "n eth (secp256k1)")} key; only {expectedCipher} is accepted");
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

            return new ParsedKeystore(suite, cipherText, iv, mac, salt, scrypt, iterations, address);
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

    private sealed record ParsedKeystore(CryptoSuiteId Suite, byte[] CipherText, byte[] Iv, byte[] Mac, byte[] Salt, ScryptParameters? Scrypt, int Pbkdf2Iterations, Address? Address);
}
