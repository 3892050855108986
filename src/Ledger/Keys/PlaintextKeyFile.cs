using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Keys;

/// <summary>
/// The clear-text development key file: <c>{"address":"0x…","privateKey":"0x…"}</c> (what <c>smartcity keys new</c>
/// wrote before keystores; an SM2 key adds <c>"suite":"gm"</c>, and a file without it is eth), or a file holding just
/// the 64 hex digits of a key (what wallets export; its suite is the caller's <c>assumedSuite</c>, eth by default). Reading or
/// writing one is for development and for migrating to a keystore; callers require an explicit opt-in.
/// </summary>
public static class PlaintextKeyFile
{
    /// <summary>
    /// Reads a clear-text key file (mode 0600 or stricter), checking the address it states if any. A file that states
    /// its suite is read in that suite (and refused with <see cref="KeySourceErrorCode.WrongSuite"/> if
    /// <paramref name="assumedSuite"/> names the other); bare hex is read in <paramref name="assumedSuite"/> (eth by default).
    /// </summary>
    public static KeyMaterial Read(string path, CryptoSuiteId? assumedSuite = null)
    {
        var bytes = SecretFiles.ReadPrivate(path, "clear-text key file", maxBytes: 4096);
        var key = new byte[32];
        try
        {
            if (!System.Text.Unicode.Utf8.IsValid(bytes))
            {
                throw NotAKeyFile(path, "not UTF-8 text");
            }

            var text = Encoding.UTF8.GetString(bytes).Trim();
            string? hex;
            string? stated = null;
            CryptoSuiteId? statedSuite = null;
            if (text.StartsWith('{'))
            {
                try
                {
                    using var document = JsonDocument.Parse(text);
                    var root = document.RootElement;
                    hex = root.TryGetProperty("privateKey", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
                    stated = root.TryGetProperty("address", out var address) && address.ValueKind == JsonValueKind.String ? address.GetString() : null;
                    if (root.TryGetProperty("suite", out var suiteValue))
                    {
                        statedSuite = suiteValue.ValueKind == JsonValueKind.String && CryptoSuiteNames.TryParse(suiteValue.GetString(), out var parsedSuite)
                            ? parsedSuite
                            : throw NotAKeyFile(path, $"\"suite\" {suiteValue.GetRawText()} is neither \"eth\" nor \"gm\"");
                    }
                }
                catch (JsonException e)
                {
                    throw NotAKeyFile(path, $"not JSON ({e.Message})");
                }
            }
            else
            {
                hex = text;
            }

            if (hex is not null && hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                hex = hex[2..];
            }

            if (hex is not { Length: 64 } || Convert.FromHexString(hex, key, out _, out _) != System.Buffers.OperationStatus.Done)
            {
                throw NotAKeyFile(path, "no private key of 64 hex digits");
            }

            if (statedSuite is { } fileSuite && assumedSuite is { } askedSuite && fileSuite != askedSuite)
            {
                throw new KeySourceException(KeySourceErrorCode.WrongSuite, $"clear-text key file '{path}' holds a{(fileSuite == CryptoSuiteId.Gm ? " gm (SM2)" : "n eth (secp256k1)")} key, not a{(askedSuite == CryptoSuiteId.Gm ? " gm (SM2)" : "n eth (secp256k1)")} one");
            }

            var suite = statedSuite ?? assumedSuite ?? CryptoSuiteId.Eth;
            if (!KeyMaterial.IsValidPrivateKey(key, suite))
            {
                throw NotAKeyFile(path, suite == CryptoSuiteId.Gm ? "the private key is outside [1, n-2] of sm2p256v1" : "the private key is outside [1, n-1]");
            }

            var material = KeyMaterial.Copy(key, suite);
            if (stated is not null && (!Address.TryParse(stated, out var statedAddress, out _) || statedAddress != material.Address))
            {
                material.Dispose();
                throw new KeySourceException(KeySourceErrorCode.AddressMismatch, $"clear-text key file '{path}' states an address that does not belong to its private key");
            }

            return material;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The clear-text JSON form of a key (the caller decides where it may go).</summary>
    public static string Format(KeyMaterial key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var suite = key.Suite == CryptoSuiteId.Eth ? string.Empty : $"\"suite\":\"{key.Suite.ToName()}\",";
        return $"{{{suite}\"address\":\"{key.Address}\",\"privateKey\":\"0x{Convert.ToHexStringLower(key.Bytes)}\"}}";
    }

    /// <summary>Writes a new clear-text key file with mode 0600; never overwrites.</summary>
    public static void Write(string path, KeyMaterial key)
    {
        var text = Encoding.UTF8.GetBytes(Format(key) + "\n");
        try
        {
            SecretFiles.WriteNewPrivate(path, text, "clear-text key file");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(text);
        }
    }

    private static KeySourceException NotAKeyFile(string path, string why) => new(KeySourceErrorCode.NotAKeyFile, $"clear-text key file '{path}': {why}");
}
