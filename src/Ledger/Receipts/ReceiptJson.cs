using System.Collections.Immutable;
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
            json.WriteNumber("version", receipt.HandOvers.IsEmpty ? Receipt.Version : Receipt.HandOverVersion);
            json.WriteString("type", receipt switch
            {
                InclusionReceipt => InclusionReceipt.Type,
                StateReceipt => StateReceipt.Type,
                LicenceReceipt => LicenceReceipt.Type,
                ConsistencyReceipt => ConsistencyReceipt.Type,
                _ => "unknown",
            });
            json.WriteString("chainId", receipt.ChainId.ToString(CultureInfo.InvariantCulture));
            json.WriteString("crypto", receipt.Crypto.ToName());
            json.WriteNumber("height", receipt.Header.Height);
            json.WriteString("headerHash", receipt.Header.Hash.ToString());
            json.WriteString("blockTime", Rfc3339Text(receipt.Header.Timestamp));
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
                case LicenceReceipt licence:
                    json.WriteString("transaction", Hex(licence.Transaction));
                    json.WriteNumber("leafIndex", licence.Inclusion.LeafIndex);
                    json.WriteNumber("treeSize", licence.Inclusion.TreeSize);
                    WriteHashes(json, "inclusionPath", licence.Inclusion.Path.AsSpan());
                    json.WriteString("stateKey", licence.StateKey);
                    json.WriteString("value", Hex(licence.Value));
                    json.WriteString("stateProof", Hex(licence.StateProof.Encode()));
                    break;
                case ConsistencyReceipt consistency:
                    json.WriteNumber("fromHeight", consistency.FromHeader.Height);
                    json.WriteString("fromHeaderHash", consistency.FromHeader.Hash.ToString());
                    json.WriteString("fromBlockTime", Rfc3339Text(consistency.FromHeader.Timestamp));
                    json.WriteString("fromHeader", Hex(consistency.FromHeader.Encode()));
                    json.WriteString("fromCertificate", Hex(consistency.FromCertificate.Encode()));
                    WriteHashes(json, "consistencyPath", consistency.Proof.Path.AsSpan());
                    break;
            }

            if (!receipt.HandOvers.IsEmpty)
            {
                json.WriteStartArray("handOvers");
                foreach (var handOver in receipt.HandOvers)
                {
                    json.WriteStartObject();
                    json.WriteNumber("height", handOver.Header.Height);
                    json.WriteString("header", Hex(handOver.Header.Encode()));
                    json.WriteString("certificate", Hex(handOver.Certificate.Encode()));
                    json.WriteStartArray("validators");
                    foreach (var validator in handOver.Validators.Members)
                    {
                        json.WriteStringValue(validator.ToString().ToLowerInvariant());
                    }

                    json.WriteEndArray();
                    json.WriteString("validatorSetProof", Hex(handOver.Proof.Encode()));
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Rfc3339Text(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static void WriteHashes(Utf8JsonWriter json, string name, ReadOnlySpan<Hash256> hashes)
    {
        json.WriteStartArray(name);
        foreach (var hash in hashes)
        {
            json.WriteStringValue(hash.ToString());
        }

        json.WriteEndArray();
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
                return WithHandOvers(Decode(fields), fields);
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
        MaxDepth = 5, // version 3: receipt → handOvers → hand-over → validators
    };

    private static readonly string[] CommonFields = ["format", "version", "type", "chainId", "height", "headerHash", "blockTime", "header", "certificate"];

    private static readonly string[] InclusionFields = [.. CommonFields, "transaction", "leafIndex", "treeSize", "inclusionPath"];

    private static readonly string[] StateFields = [.. CommonFields, "stateKey", "value", "stateProof"];

    private static readonly string[] LicenceFields = [.. CommonFields, "transaction", "leafIndex", "treeSize", "inclusionPath", "stateKey", "value", "stateProof"];

    private static readonly string[] ConsistencyFields = [.. CommonFields, "fromHeight", "fromHeaderHash", "fromBlockTime", "fromHeader", "fromCertificate", "consistencyPath"];

    private static readonly string TypeNames = $"'{InclusionReceipt.Type}', '{StateReceipt.Type}', '{LicenceReceipt.Type}' or '{ConsistencyReceipt.Type}'";

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
        if (version is not (1 or Receipt.Version or Receipt.HandOverVersion))
        {
            throw new ReceiptFormatException($"version: this verifier reads versions 1 to {Receipt.HandOverVersion}, got {version}");
        }

        // Version 2 names its crypto suite; version 1 predates the field and is an eth receipt.
        var crypto = CryptoSuiteId.Eth;
        if (version >= 2 && !CryptoSuiteNames.TryParse(String(root, "crypto"), out crypto))
        {
            throw new ReceiptFormatException($"crypto: expected '{CryptoSuiteNames.Eth}' or '{CryptoSuiteNames.Gm}'");
        }

        var type = String(root, "type");
        var allowed = type switch
        {
            InclusionReceipt.Type => InclusionFields,
            StateReceipt.Type => StateFields,
            LicenceReceipt.Type => LicenceFields,
            ConsistencyReceipt.Type => ConsistencyFields,
            _ => throw new ReceiptFormatException($"type: expected {TypeNames}, got '{type}'"),
        };
        foreach (var property in root.EnumerateObject())
        {
            if (Array.IndexOf(allowed, property.Name) < 0 && !(version >= 2 && property.Name == "crypto") && !(version >= Receipt.HandOverVersion && property.Name == "handOvers"))
            {
                throw new ReceiptFormatException($"{property.Name}: not a field of a {type} receipt (unknown fields are refused)");
            }
        }

        var fields = new ReceiptFields
        {
            Type = type,
            Crypto = crypto,
            ChainId = DecimalString(root, "chainId"),
            Height = Integer(root, "height"),
            HeaderHash = HashString(root, "headerHash"),
            BlockTime = Rfc3339(root, "blockTime"),
            Header = Bytes(root, "header"),
            Certificate = Bytes(root, "certificate"),
        };
        if (type is InclusionReceipt.Type or LicenceReceipt.Type)
        {
            fields.Transaction = Bytes(root, "transaction");
            fields.LeafIndex = Integer(root, "leafIndex");
            fields.TreeSize = Integer(root, "treeSize");
            fields.InclusionPath = Hashes(root, "inclusionPath");
        }

        if (type is StateReceipt.Type or LicenceReceipt.Type)
        {
            fields.StateKey = String(root, "stateKey");
            var value = Property(root, "value");
            // A licence receipt proves a licence, never an absence: its value is always bytes.
            fields.Value = value.ValueKind == JsonValueKind.Null && type == StateReceipt.Type ? null : Bytes(root, "value");
            fields.StateProof = Bytes(root, "stateProof");
        }

        if (version >= Receipt.HandOverVersion)
        {
            fields.HandOvers = HandOverFields(root);
        }

        if (type == ConsistencyReceipt.Type)
        {
            fields.FromHeight = Integer(root, "fromHeight");
            fields.FromHeaderHash = HashString(root, "fromHeaderHash");
            fields.FromBlockTime = Rfc3339(root, "fromBlockTime");
            fields.FromHeader = Bytes(root, "fromHeader");
            fields.FromCertificate = Bytes(root, "fromCertificate");
            fields.ConsistencyPath = Hashes(root, "consistencyPath");
        }

        return fields;
    }

    /// <summary>The most hand-overs a document may carry (a receipt of a chain whose set changed more often is refused).</summary>
    private const int MaxHandOvers = 1_024;

    /// <summary>The most validators one hand-over may name.</summary>
    private const int MaxValidators = 1_024;

    private static readonly string[] HandOverFieldNames = ["height", "header", "certificate", "validators", "validatorSetProof"];

    /// <summary>Version 3's <c>"handOvers"</c>: a non-empty array of objects with exactly the hand-over fields.</summary>
    private static HandOverField[] HandOverFields(JsonElement root)
    {
        var array = Property(root, "handOvers");
        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() is 0 or > MaxHandOvers)
        {
            throw new ReceiptFormatException($"handOvers: expected an array of 1 to {MaxHandOvers} hand-overs (a receipt without hand-overs is version {Receipt.Version})");
        }

        var result = new HandOverField[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var at = $"handOvers[{i}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new ReceiptFormatException($"{at}: expected an object");
            }

            foreach (var property in item.EnumerateObject())
            {
                if (Array.IndexOf(HandOverFieldNames, property.Name) < 0)
                {
                    throw new ReceiptFormatException($"{at}.{property.Name}: not a field of a hand-over (unknown fields are refused)");
                }
            }

            var validators = Property(item, "validators");
            if (validators.ValueKind != JsonValueKind.Array || validators.GetArrayLength() is 0 or > MaxValidators)
            {
                throw new ReceiptFormatException($"{at}.validators: expected an array of 1 to {MaxValidators} addresses");
            }

            var addresses = new List<Address>(validators.GetArrayLength());
            foreach (var validator in validators.EnumerateArray())
            {
                if (validator.ValueKind != JsonValueKind.String || !Address.TryParse(validator.GetString()!, out var address, out _))
                {
                    throw new ReceiptFormatException($"{at}.validators[{addresses.Count}]: expected a 0x-prefixed 20-byte address");
                }

                if (addresses.Count > 0 && address.CompareTo(addresses[^1]) <= 0)
                {
                    throw new ReceiptFormatException($"{at}.validators[{addresses.Count}]: addresses are listed once each in ascending order");
                }

                addresses.Add(address);
            }

            result[i] = new HandOverField(Integer(item, "height"), Bytes(item, "header"), Bytes(item, "certificate"), addresses, Bytes(item, "validatorSetProof"));
            i++;
        }

        return result;
    }

    /// <summary>Step 2 for the hand-overs: headers, certificates and proofs decode, and each height copy matches its header.</summary>
    private static ReceiptReading WithHandOvers(ReceiptReading reading, ReceiptFields fields)
    {
        if (reading.Receipt is not { } receipt || fields.HandOvers is null)
        {
            return reading;
        }

        var suite = CryptoSuite.For(receipt.Crypto);
        var handOvers = ImmutableArray.CreateBuilder<ValidatorSetHandOver>(fields.HandOvers.Length);
        for (var i = 0; i < fields.HandOvers.Length; i++)
        {
            var field = fields.HandOvers[i];
            if (!BlockHeader.TryDecode(field.Header, out var header, out var headerError))
            {
                return ReceiptReading.Invalid(ReceiptCheck.Malformed, $"handOvers[{i}].header: {headerError}");
            }

            if (!CommitCertificate.TryDecode(field.Certificate, out var certificate, out var certificateError))
            {
                return ReceiptReading.Invalid(ReceiptCheck.Malformed, $"handOvers[{i}].certificate: {certificateError}");
            }

            if (field.Height != header!.Height)
            {
                return ReceiptReading.Invalid(ReceiptCheck.CopyMismatch, $"handOvers[{i}].height: {field.Height} does not match the header's height {header.Height}");
            }

            if (!StateProof.TryDecode(field.Proof, out var proof))
            {
                return ReceiptReading.Invalid(ReceiptCheck.Malformed, $"handOvers[{i}].validatorSetProof: not a valid state proof encoding");
            }

            handOvers.Add(new ValidatorSetHandOver(header, certificate!, new ValidatorSet(field.Validators, suite), proof));
        }

        return ReceiptReading.Parsed(receipt with { HandOvers = handOvers.MoveToImmutable() });
    }

    private sealed record HandOverField(long Height, byte[] Header, byte[] Certificate, List<Address> Validators, byte[] Proof);

    private static Hash256[] Hashes(JsonElement root, string name)
    {
        var path = Property(root, name);
        if (path.ValueKind != JsonValueKind.Array || path.GetArrayLength() > MaxPathEntries)
        {
            throw new ReceiptFormatException($"{name}: expected an array of at most {MaxPathEntries} hashes");
        }

        var hashes = new Hash256[path.GetArrayLength()];
        var i = 0;
        foreach (var item in path.EnumerateArray())
        {
            hashes[i] = item.ValueKind == JsonValueKind.String && TryParseHash(item.GetString()!, out var hash)
                ? hash
                : throw new ReceiptFormatException($"{name}[{i}]: expected a 0x-prefixed 32-byte hash");
            i++;
        }

        return hashes;
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
        if (fields.Crypto != header!.Crypto)
        {
            return ReceiptReading.Invalid(ReceiptCheck.CopyMismatch, $"crypto: '{fields.Crypto.ToName()}' does not match the header's suite '{header.Crypto.ToName()}'");
        }

        if (fields.ChainId != header.ChainId)
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

        if (fields.Type == ConsistencyReceipt.Type)
        {
            return DecodeConsistency(fields, header, certificate!);
        }

        InclusionProof? inclusion = null;
        if (fields.Type is InclusionReceipt.Type or LicenceReceipt.Type)
        {
            if (fields.LeafIndex < 0 || fields.TreeSize <= fields.LeafIndex || fields.InclusionPath!.Length > 64)
            {
                return ReceiptReading.Invalid(ReceiptCheck.ProofInvalid, $"inclusion proof: leaf {fields.LeafIndex} of a tree of {fields.TreeSize} with {fields.InclusionPath!.Length} steps cannot exist");
            }

            inclusion = new InclusionProof(fields.LeafIndex, fields.TreeSize, fields.InclusionPath);
            if (fields.Type == InclusionReceipt.Type)
            {
                return ReceiptReading.Parsed(new InclusionReceipt(fields.ChainId, header, certificate!, fields.Transaction!, inclusion));
            }
        }

        var key = fields.StateKey!;
        if (key.Length is 0 or > 512 || key.Any(c => c is < ' ' or > '~'))
        {
            return ReceiptReading.Invalid(ReceiptCheck.Malformed, "stateKey: a state key is printable ASCII, 1-512 characters");
        }

        if (fields.Type == LicenceReceipt.Type && (!key.StartsWith(LicenceReceipt.KeyPrefix, StringComparison.Ordinal) || key.Length == LicenceReceipt.KeyPrefix.Length))
        {
            return ReceiptReading.Invalid(ReceiptCheck.Malformed, $"stateKey: a licence receipt proves a key '{LicenceReceipt.KeyPrefix}{{identifier}}', got '{key}'");
        }

        if (!StateProof.TryDecode(fields.StateProof!, out var proof))
        {
            return ReceiptReading.Invalid(ReceiptCheck.Malformed, "stateProof: not a valid state proof encoding");
        }

        return fields.Type == LicenceReceipt.Type
            ? ReceiptReading.Parsed(new LicenceReceipt(fields.ChainId, header, certificate!, fields.Transaction!, inclusion!, key, fields.Value!, proof))
            : ReceiptReading.Parsed(new StateReceipt(fields.ChainId, header, certificate!, key, fields.Value, proof));
    }

    private static ReceiptReading DecodeConsistency(ReceiptFields fields, BlockHeader header, CommitCertificate certificate)
    {
        if (!BlockHeader.TryDecode(fields.FromHeader, out var from, out var headerError))
        {
            return ReceiptReading.Invalid(ReceiptCheck.Malformed, $"fromHeader: {headerError}");
        }

        if (!CommitCertificate.TryDecode(fields.FromCertificate, out var fromCertificate, out var certificateError))
        {
            return ReceiptReading.Invalid(ReceiptCheck.Malformed, $"fromCertificate: {certificateError}");
        }

        if (fields.FromHeight != from!.Height)
        {
            return ReceiptReading.Invalid(ReceiptCheck.CopyMismatch, $"fromHeight: {fields.FromHeight} does not match the earlier header's height {from.Height}");
        }

        if (fields.FromHeaderHash != from.Hash)
        {
            return ReceiptReading.Invalid(ReceiptCheck.CopyMismatch, $"fromHeaderHash: {fields.FromHeaderHash} does not match the earlier header's bytes ({from.Hash})");
        }

        if (fields.FromBlockTime != from.Timestamp)
        {
            return ReceiptReading.Invalid(ReceiptCheck.CopyMismatch, $"fromBlockTime: {fields.FromBlockTime:O} is not the earlier header's time {from.Timestamp:O}");
        }

        if (fields.ConsistencyPath!.Length > 128)
        {
            return ReceiptReading.Invalid(ReceiptCheck.ProofInvalid, $"consistency proof: {fields.ConsistencyPath.Length} steps cannot exist");
        }

        var proof = new ConsistencyProof(from.HistorySize, header.HistorySize, fields.ConsistencyPath);
        return ReceiptReading.Parsed(new ConsistencyReceipt(fields.ChainId, from, fromCertificate!, header, certificate, proof));
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

        public required CryptoSuiteId Crypto { get; init; }

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

        public long FromHeight { get; set; }

        public Hash256 FromHeaderHash { get; set; }

        public DateTimeOffset FromBlockTime { get; set; }

        public byte[]? FromHeader { get; set; }

        public byte[]? FromCertificate { get; set; }

        public Hash256[]? ConsistencyPath { get; set; }

        public HandOverField[]? HandOvers { get; set; }
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
