using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// `smartcity keys new [--out FILE]`: a fresh secp256k1 key. With --out the key file (JSON: address and hex private
/// key) is created with mode 0600 and never overwritten, and the address is printed; without it the JSON goes to
/// stdout.
/// </summary>
internal static class KeysCommand
{
    public static CliCommand Create() => CliCommand.Group(
        "keys",
        "Member and validator keys (secp256k1, Ethereum addresses)",
        CliCommand.Leaf("new", "Create a new key; print its address", "[--out FILE]", NewAsync));

    private static async Task<int> NewAsync(CliInvocation invocation, CancellationToken cancellationToken)
    {
        invocation.RejectUnknown("out");
        var outPath = invocation.Optional("out");
        var privateKey = new byte[32];
        Secp256k1.GeneratePrivateKey(privateKey);
        var address = Secp256k1.Default.GetAddress(privateKey);
        var json = KeyFile.Serialize(address, privateKey);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(privateKey);

        if (outPath is null)
        {
            await invocation.Output.WriteLineAsync(json).ConfigureAwait(false);
            return CommandLine.Success;
        }

        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            var stream = new FileStream(outPath, options);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(json + "\n"), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"--out: cannot create '{outPath}' (an existing key file is never overwritten): {e.Message}");
        }

        await invocation.Output.WriteLineAsync(address.ToString()).ConfigureAwait(false);
        return CommandLine.Success;
    }
}

/// <summary>The key file format: <c>{ "address": "0x…", "privateKey": "0x…" }</c>.</summary>
internal static class KeyFile
{
    public static string Serialize(Address address, ReadOnlySpan<byte> privateKey)
        => JsonSerializer.Serialize(new KeyFileJson(address.ToString(), "0x" + Convert.ToHexStringLower(privateKey)), KeyFileJsonContext.Default.KeyFileJson);

    /// <summary>Opens a key file as a signer, checking its key against the address the file states.</summary>
    public static async Task<InMemorySigner> OpenSignerAsync(string path, CancellationToken cancellationToken)
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

        try
        {
            if (!Secp256k1.IsValidPrivateKey(privateKey))
            {
                throw new CliUsageException($"--key: '{path}' holds a private key outside [1, n-1]");
            }

            var signer = new InMemorySigner(privateKey);
            if (file!.Address is { } stated && (!Address.TryParse(stated, out var address, out _) || address != signer.Address))
            {
                signer.Dispose();
                throw new CliUsageException($"--key: '{path}' states an address that does not belong to its private key");
            }

            return signer;
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(privateKey);
        }
    }
}

internal sealed record KeyFileJson(
    [property: JsonPropertyName("address")] string? Address,
    [property: JsonPropertyName("privateKey")] string? PrivateKey);

[JsonSerializable(typeof(KeyFileJson))]
[JsonSourceGenerationOptions(WriteIndented = false)]
internal sealed partial class KeyFileJsonContext : JsonSerializerContext;
