using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Cli;

/// <summary>The key file format: <c>{ "address": "0x…", "privateKey": "0x…" }</c>.</summary>
internal static class KeyFile
{
    public static string Serialize(Address address, ReadOnlySpan<byte> privateKey)
        => JsonSerializer.Serialize(new KeyFileJson(address.ToString(), "0x" + Convert.ToHexStringLower(privateKey)), KeyFileJsonContext.Default.KeyFileJson);

    /// <summary>Reads the private key of a key file, checking it against the address the file states.</summary>
    public static async Task<byte[]> ReadPrivateKeyAsync(string path, CancellationToken cancellationToken)
    {
        var text = await CliFiles.ReadTextAsync("key", path, cancellationToken).ConfigureAwait(false);
        KeyFileJson? file;
        try
        {
            file = JsonSerializer.Deserialize(text, KeyFileJsonContext.Default.KeyFileJson);
        }
        catch (JsonException e)
        {
            throw new CliUsageException($"--key: '{path}' is not a key file: {e.Message}");
        }

        var hex = file?.PrivateKey;
        var privateKey = new byte[32];
        if (hex is null || !hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || hex.Length != 66
            || Convert.FromHexString(hex.AsSpan(2), privateKey, out _, out _) != OperationStatus.Done)
        {
            throw new CliUsageException($"--key: '{path}' has no privateKey of 0x and 64 hex digits");
        }

        if (!Secp256k1.IsValidPrivateKey(privateKey))
        {
            throw new CliUsageException($"--key: '{path}' holds a private key outside [1, n-1]");
        }

        if (file!.Address is { } stated && (!Address.TryParse(stated, out var address, out _) || address != Secp256k1.Default.GetAddress(privateKey)))
        {
            throw new CliUsageException($"--key: '{path}' states an address that does not belong to its private key");
        }

        return privateKey;
    }
}

internal sealed record KeyFileJson(
    [property: JsonPropertyName("address")] string? Address,
    [property: JsonPropertyName("privateKey")] string? PrivateKey);

[JsonSerializable(typeof(KeyFileJson))]
[JsonSourceGenerationOptions(WriteIndented = false)]
internal sealed partial class KeyFileJsonContext : JsonSerializerContext;
