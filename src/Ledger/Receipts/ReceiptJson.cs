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
public static partial class ReceiptJson
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

    /// <summary>
    /// Parses a receipt for callers that only need "a receipt or not" (round trips, tools): false with the reason for
    /// anything <see cref="Read(ReadOnlySpan{byte})"/> does not turn into a receipt.
    /// </summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out Receipt? receipt, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reading = Read(Encoding.UTF8.GetBytes(text));
        receipt = reading.Receipt;
        error = reading.Receipt is null ? reading.Unproven?.Reason ?? reading.NotAReceipt : null;
        return receipt is not null;
    }

    /// <summary>
    /// Reads a receipt from its UTF-8 JSON bytes in two steps (docs/receipts.md, "One meaning"):
    /// <list type="number">
    /// <item>the document must be a receipt: strict UTF-8 JSON, one object, no duplicate or unknown fields, every
    /// field present with its JSON type and syntax (hex, decimal string, RFC 3339 time with an offset) — otherwise
    /// <see cref="ReceiptReading.NotAReceipt"/> says which field is wrong;</item>
    /// <item>its contents must decode and agree: header, certificate and proof encodings, the readable copies
    /// (chainId, height, headerHash, blockTime) equal to the header's fields — otherwise
    /// <see cref="ReceiptReading.Unproven"/> is the verdict, because such a document claims something it does not
    /// prove.</item>
    /// </list>
    /// Never throws for any input.
    /// </summary>
    public static ReceiptReading Read(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.StartsWith(Utf8Bom))
        {
            utf8Json = utf8Json[Utf8Bom.Length..];
        }

        if (!System.Text.Unicode.Utf8.IsValid(utf8Json))
        {
            return ReceiptReading.NotReceipt("not UTF-8 text");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), DocumentOptions);
        }
        catch (JsonException e)
        {
            return ReceiptReading.NotReceipt($"not JSON: {e.Message}");
        }

        using (document)
        {
            try
            {
                var fields = ReadFields(document.RootElement);
                return Decode(fields);
            }
            catch (ReceiptFormatException e)
            {
                return ReceiptReading.NotReceipt(e.Message);
            }
        }
    }

    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowDuplicateProperties = false,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 4,
    };

    private static readonly string[] CommonFields = ["format", "version", "type", "chainId", "height", "headerHash", "blockTime", "header", "certificate"];

    private static readonly string[] InclusionFields = [.. CommonFields, "transaction", "leafIndex", "treeSize", "inclusionPath"];

    private static readonly string[] StateFields = [.. CommonFields, "stateKey", "value", "stateProof"];

    /// <summary>The most proof steps a syntactically valid document may carry; more is not a receipt (and no allocation).</summary>
    private const int MaxPathEntries = 256;

    /// <summary>Step 1: the document's fields, each checked for presence, JSON type and syntax.</summary>
    private static ReceiptFields ReadFields(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ReceiptFormatException("a receipt is a JSON object");
        }

        if (String(root, "format") != Receipt.Format)
        {
            throw new ReceiptFormatException($"format: expected '{Receipt.Format}'");
        }

        var version = Integer(root, "version");
        if (version != Receipt.Version)
        {
            throw new ReceiptFormatException($"version: this verifier reads version {Receipt.Version}, got {version}");
        }

        var type = String(root, "type");
        var allowed = type switch
        {
            InclusionReceipt.Type => InclusionFields,
            StateReceipt.Type => StateFields,
            _ => throw new ReceiptFormatException($"type: expected '{InclusionReceipt.Type}' or '{StateReceipt.Type}', got '{type}'"),
        };
        foreach (var property in root.EnumerateObject())
        {
            if (Array.IndexOf(allowed, property.Name) < 0)
            {
                throw new ReceiptFormatException($"{property.Name}: not a field of a {type} receipt (unknown fields are refused)");
            }
        }

        var fields = new ReceiptFields
        {
            Type = type,
            ChainId = DecimalString(root, "chainId"),
            Height = Integer(root, "height"),
            HeaderHash = HashString(root, "headerHash"),
            BlockTime = Rfc3339(root, "blockTime"),
            Header = Bytes(root, "header"),
            Certificate = Bytes(root, "certificate"),
        };
        if (type == InclusionReceipt.Type)
        {
            fields.Transaction = Bytes(root, "transaction");
            fields.LeafIndex = Integer(root, "leafIndex");
            fields.TreeSize = Integer(root, "treeSize");
            var path = Property(root, "inclusionPath");
            if (path.ValueKind != JsonValueKind.Array || path.GetArrayLength() > MaxPathEntries)
            {
                throw new ReceiptFormatException($"inclusionPath: expected an array of at most {MaxPathEntries} hashes");
            }

            var hashes = new Hash256[path.GetArrayLength()];
            var i = 0;
            foreach (var item in path.EnumerateArray())
            {
                hashes[i] = item.ValueKind == JsonValueKind.String && TryParseHash(item.GetString()!, out var hash)
                    ? hash
                    : throw new ReceiptFormatException($"inclusionPath[{i}]: expected a 0x-prefixed 32-byte hash");
                i++;
            }

            fields.InclusionPath = hashes;
        }
        else
        {
            fields.StateKey = String(root, "stateKey");
            var value = Property(root, "value");
            fields.Value = value.ValueKind == JsonValueKind.Null ? null : Bytes(root, "value");
            fields.StateProof = Bytes(root, "stateProof");
        }

        return fields;
    }

    /// <summary>Step 2: decode the binary parts and check the readable copies against the header.</summary>
    private static ReceiptReading Decode(ReceiptFields fields)
    {
        if (!BlockHeader.TryDecode(fields.Header, out var header, out var headerError))
        {
            return ReceiptReading.Invalid(ReceiptCheck.Malformed, $"header: {headerError}");
        }

        if (!CommitCertificate.TryDecode(fields.Certificate, out var certificate, out var certificateError))
        {
            return ReceiptReading.Invalid(ReceiptCheck.Malformed, $"certificate: {certificateError}");
        }

        // The readable copies must agree with the canonical bytes, so what a person reads is what was verified.
        if (fields.ChainId != header!.ChainId)
        {
            return ReceiptReading.Invalid(ReceiptCheck.CopyMismatch, $"chainId: {fields.ChainId} does not match the header's chain {header.ChainId}");
        }

        if (fields.Height != header.Height)
        {
            return ReceiptReading.Invalid(ReceiptCheck.CopyMismatch, $"height: {fields.Height} does not match the header's height {header.Height}");
        }

        if (fields.HeaderHash != header.Hash)
        {
            return ReceiptReading.Invalid(ReceiptCheck.CopyMismatch, $"headerHash: {fields.HeaderHash} does not match the header bytes ({header.Hash})");
        }

        if (fields.BlockTime != header.Timestamp)
        {
            return ReceiptReading.Invalid(ReceiptCheck.CopyMismatch, $"blockTime: {fields.BlockTime:O} is not the header's time {header.Timestamp:O}");
        }

        if (fields.Type == InclusionReceipt.Type)
        {
            if (fields.LeafIndex < 0 || fields.TreeSize <= fields.LeafIndex || fields.InclusionPath!.Length > 64)
            {
                return ReceiptReading.Invalid(ReceiptCheck.ProofInvalid, $"inclusion proof: leaf {fields.LeafIndex} of a tree of {fields.TreeSize} with {fields.InclusionPath!.Length} steps cannot exist");
            }

            return ReceiptReading.Parsed(new InclusionReceipt(fields.ChainId, header, certificate!, fields.Transaction!, new InclusionProof(fields.LeafIndex, fields.TreeSize, fields.InclusionPath)));
        }

        var key = fields.StateKey!;
        if (key.Length is 0 or > 512 || key.Any(c => c is < ' ' or > '~'))
        {
            return ReceiptReading.Invalid(ReceiptCheck.Malformed, "stateKey: a state key is printable ASCII, 1-512 characters");
        }

        return StateProof.TryDecode(fields.StateProof!, out var proof)
            ? ReceiptReading.Parsed(new StateReceipt(fields.ChainId, header, certificate!, key, fields.Value, proof))
            : ReceiptReading.Invalid(ReceiptCheck.Malformed, "stateProof: not a valid state proof encoding");
    }

    private static JsonElement Property(JsonElement root, string name)
        => root.TryGetProperty(name, out var value) ? value : throw new ReceiptFormatException($"{name}: missing");

    private static string String(JsonElement root, string name)
    {
        var value = Property(root, name);
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new ReceiptFormatException($"{name}: expected a string");
    }

    /// <summary>A JSON number that is a whole number in the signed 64-bit range (no fraction, no exponent form).</summary>
    private static long Integer(JsonElement root, string name)
    {
        var value = Property(root, name);
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number)
            ? number
            : throw new ReceiptFormatException($"{name}: expected an integer");
    }

    /// <summary>Unsigned decimal digits without sign, spaces or leading zeros, within 64 bits.</summary>
    private static ulong DecimalString(JsonElement root, string name)
    {
        var text = String(root, name);
        var canonical = text.Length > 0 && text.All(char.IsAsciiDigit) && (text.Length == 1 || text[0] != '0');
        return canonical && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new ReceiptFormatException($"{name}: expected a decimal string");
    }

    private static Hash256 HashString(JsonElement root, string name)
        => TryParseHash(String(root, name), out var hash) ? hash : throw new ReceiptFormatException($"{name}: expected a 0x-prefixed 32-byte hash");

    /// <summary>RFC 3339 date-time with an explicit offset (<c>Z</c> or ±hh:mm): never read in the machine's time zone.</summary>
    private static DateTimeOffset Rfc3339(JsonElement root, string name)
    {
        var text = String(root, name);
        return Rfc3339Time().IsMatch(text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
            ? time
            : throw new ReceiptFormatException($"{name}: expected an RFC 3339 time with an offset, e.g. 2026-09-21T14:13:20.003Z");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?(Z|[+-][0-9]{2}:[0-9]{2})$", System.Text.RegularExpressions.RegexOptions.CultureInvariant | System.Text.RegularExpressions.RegexOptions.ExplicitCapture)]
    private static partial System.Text.RegularExpressions.Regex Rfc3339Time();

    /// <summary>0x-prefixed hex with an even number of digits, either case.</summary>
    private static byte[] Bytes(JsonElement root, string name)
        => TryParseHex(String(root, name), out var bytes) ? bytes : throw new ReceiptFormatException($"{name}: expected 0x-prefixed hex");

    private static bool TryParseHash(string text, out Hash256 hash)
    {
        hash = default;
        if (text.Length != 66 || !TryParseHex(text, out var bytes))
        {
            return false;
        }

        hash = new Hash256(bytes);
        return true;
    }

    private static bool TryParseHex(string text, [NotNullWhen(true)] out byte[]? bytes)
    {
        bytes = null;
        if (!text.StartsWith("0x", StringComparison.Ordinal) || text.Length % 2 != 0 || text.AsSpan(2).ContainsAnyExcept(HexDigits))
        {
            return false;
        }

        bytes = Convert.FromHexString(text.AsSpan(2));
        return true;
    }

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    private static string Hex(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);

    private sealed class ReceiptFormatException(string message) : Exception(message);

    /// <summary>What step 1 found, before any binary part is decoded.</summary>
    private sealed class ReceiptFields
    {
        public required string Type { get; init; }

        public required ulong ChainId { get; init; }

        public required long Height { get; init; }

        public required Hash256 HeaderHash { get; init; }

        public required DateTimeOffset BlockTime { get; init; }

        public required byte[] Header { get; init; }

        public required byte[] Certificate { get; init; }

        public byte[]? Transaction { get; set; }

        public long LeafIndex { get; set; }

        public long TreeSize { get; set; }

        public Hash256[]? InclusionPath { get; set; }

        public string? StateKey { get; set; }

        public byte[]? Value { get; set; }

        public byte[]? StateProof { get; set; }
    }
}

/// <summary>
/// The result of reading a receipt document: a <see cref="Receipt"/> to verify, or why the document is not a receipt
/// at all (exit 2 in the CLI), or why it is a receipt that cannot prove what it claims (exit 1).
/// </summary>
public sealed record ReceiptReading(Receipt? Receipt, string? NotAReceipt, ReceiptVerdict? Unproven)
{
    public static ReceiptReading Parsed(Receipt receipt) => new(receipt, null, null);

    public static ReceiptReading NotReceipt(string reason) => new(null, reason, null);

    public static ReceiptReading Invalid(ReceiptCheck check, string reason) => new(null, null, ReceiptVerdict.Fail(check, reason));
}
