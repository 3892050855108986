using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Receipts;

/// <summary>
/// The versioned JSON form of receipts (docs/receipts.md). Binary parts — header, certificate, transaction, state
/// value, state proof — travel as their canonical encodings in 0x-hex, so the JSON adds no second encoding a
/// verifier would have to trust; the decoded header fields are written beside them for people and checked on read.
/// </summary>
public static class ReceiptJson
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(Receipt receipt)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("format", Receipt.Format);
            json.WriteNumber("version", Receipt.Version);
            json.WriteString("type", receipt switch { InclusionReceipt => InclusionReceipt.Type, StateReceipt => StateReceipt.Type, _ => "unknown" });
            json.WriteString("chainId", receipt.ChainId.ToString(CultureInfo.InvariantCulture));
            json.WriteNumber("height", receipt.Header.Height);
            json.WriteString("headerHash", receipt.Header.Hash.ToString());
            json.WriteString("blockTime", receipt.Header.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("header", Hex(receipt.Header.Encode()));
            json.WriteString("certificate", Hex(receipt.Certificate.Encode()));
            switch (receipt)
            {
                case InclusionReceipt inclusion:
                    json.WriteString("transaction", Hex(inclusion.Transaction));
                    json.WriteNumber("leafIndex", inclusion.Proof.LeafIndex);
                    json.WriteNumber("treeSize", inclusion.Proof.TreeSize);
                    json.WriteStartArray("inclusionPath");
                    foreach (var hash in inclusion.Proof.Path)
                    {
                        json.WriteStringValue(hash.ToString());
                    }

                    json.WriteEndArray();
                    break;
                case StateReceipt state:
                    json.WriteString("stateKey", state.StateKey);
                    if (state.Value is null)
                    {
                        json.WriteNull("value");
                    }
                    else
                    {
                        json.WriteString("value", Hex(state.Value));
                    }

                    json.WriteString("stateProof", Hex(state.Proof.Encode()));
                    break;
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Parses a receipt; any deviation from the format is a precise error naming the field.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out Receipt? receipt, [NotNullWhen(false)] out string? error)
    {
        receipt = null;
        try
        {
            using var document = JsonDocument.Parse(text);
            receipt = Read(document.RootElement);
            error = null;
            return true;
        }
        catch (JsonException e)
        {
            error = $"not JSON: {e.Message}";
        }
        catch (ReceiptFormatException e)
        {
            error = e.Message;
        }

        return false;
    }

    private static Receipt Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ReceiptFormatException("a receipt is a JSON object");
        }

        if (String(root, "format") != Receipt.Format)
        {
            throw new ReceiptFormatException($"format: expected '{Receipt.Format}'");
        }

        if (!Property(root, "version").TryGetInt32(out var version) || version != Receipt.Version)
        {
            throw new ReceiptFormatException($"version: this verifier reads version {Receipt.Version}");
        }

        if (!ulong.TryParse(String(root, "chainId"), NumberStyles.None, CultureInfo.InvariantCulture, out var chainId))
        {
            throw new ReceiptFormatException("chainId: expected a decimal string");
        }

        if (!BlockHeader.TryDecode(Bytes(root, "header"), out var header, out var headerError))
        {
            throw new ReceiptFormatException($"header: {headerError}");
        }

        if (!CommitCertificate.TryDecode(Bytes(root, "certificate"), out var certificate, out var certificateError))
        {
            throw new ReceiptFormatException($"certificate: {certificateError}");
        }

        // The readable copies must agree with the canonical bytes, so what a person reads is what was verified.
        if (root.TryGetProperty("headerHash", out _) && String(root, "headerHash") != header!.Hash.ToString())
        {
            throw new ReceiptFormatException("headerHash: does not match the header bytes");
        }

        if (root.TryGetProperty("height", out var height) && (!height.TryGetInt64(out var h) || h != header!.Height))
        {
            throw new ReceiptFormatException("height: does not match the header bytes");
        }

        if (root.TryGetProperty("blockTime", out _)
            && (!DateTimeOffset.TryParse(String(root, "blockTime"), CultureInfo.InvariantCulture, DateTimeStyles.None, out var time) || time != header!.Timestamp))
        {
            throw new ReceiptFormatException("blockTime: does not match the header bytes");
        }

        var type = String(root, "type");
        return type switch
        {
            InclusionReceipt.Type => new InclusionReceipt(chainId, header!, certificate!, Bytes(root, "transaction"), ReadInclusionProof(root)),
            StateReceipt.Type => ReadStateReceipt(root, chainId, header!, certificate!),
            _ => throw new ReceiptFormatException($"type: expected '{InclusionReceipt.Type}' or '{StateReceipt.Type}', got '{type}'"),
        };
    }

    private static InclusionProof ReadInclusionProof(JsonElement root)
    {
        if (!Property(root, "leafIndex").TryGetInt64(out var index) || index < 0)
        {
            throw new ReceiptFormatException("leafIndex: expected a non-negative integer");
        }

        if (!Property(root, "treeSize").TryGetInt64(out var size) || size <= index)
        {
            throw new ReceiptFormatException("treeSize: expected an integer greater than leafIndex");
        }

        var pathElement = Property(root, "inclusionPath");
        if (pathElement.ValueKind != JsonValueKind.Array || pathElement.GetArrayLength() > 64)
        {
            throw new ReceiptFormatException("inclusionPath: expected an array of at most 64 hashes");
        }

        var path = new Hash256[pathElement.GetArrayLength()];
        var i = 0;
        foreach (var item in pathElement.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !Hash256.TryParse(item.GetString(), out path[i]))
            {
                throw new ReceiptFormatException($"inclusionPath[{i}]: expected a 0x-prefixed 32-byte hash");
            }

            i++;
        }

        return new InclusionProof(index, size, path);
    }

    private static StateReceipt ReadStateReceipt(JsonElement root, ulong chainId, BlockHeader header, CommitCertificate certificate)
    {
        var key = String(root, "stateKey");
        if (key.Length == 0 || key.Length > 512 || key.Any(c => c is < ' ' or > '~'))
        {
            throw new ReceiptFormatException("stateKey: expected printable ASCII, 1-512 characters");
        }

        var valueElement = Property(root, "value");
        var value = valueElement.ValueKind == JsonValueKind.Null ? null : Bytes(root, "value");
        if (!StateProof.TryDecode(Bytes(root, "stateProof"), out var proof))
        {
            throw new ReceiptFormatException("stateProof: not a valid state proof encoding");
        }

        return new StateReceipt(chainId, header, certificate, key, value, proof);
    }

    private static JsonElement Property(JsonElement root, string name)
        => root.TryGetProperty(name, out var value) ? value : throw new ReceiptFormatException($"{name}: missing");

    private static string String(JsonElement root, string name)
    {
        var value = Property(root, name);
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new ReceiptFormatException($"{name}: expected a string");
    }

    private static byte[] Bytes(JsonElement root, string name)
    {
        var text = String(root, name);
        if (!text.StartsWith("0x", StringComparison.Ordinal) || text.Length % 2 != 0)
        {
            throw new ReceiptFormatException($"{name}: expected 0x-prefixed hex");
        }

        try
        {
            return Convert.FromHexString(text.AsSpan(2));
        }
        catch (FormatException)
        {
            throw new ReceiptFormatException($"{name}: expected 0x-prefixed hex");
        }
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);

    private sealed class ReceiptFormatException(string message) : Exception(message);
}
