using System.Buffers;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace SmartCity.Ledger.Crypto.Eip712;

/// <summary>One member of an EIP-712 struct type: <c>{ "name": "wallet", "type": "address" }</c>.</summary>
public readonly record struct Eip712Field(string Name, string Type);

/// <summary>
/// A general EIP-712 typed-data document in the <c>eth_signTypedData_v4</c> JSON format, and its encoder:
/// nested structs, dynamic, fixed and multi-dimensional arrays (of anything, structs included), <c>bytes</c>,
/// <c>bytesN</c>, UTF-8 <c>string</c>, every <c>intN</c>/<c>uintN</c> with range checks (JSON numbers, decimal and
/// 0x-hex strings), <c>address</c> (EIP-55 checked), <c>bool</c>, and any subset of the domain fields.
/// Bad input is an <see cref="Eip712Exception"/> with an <see cref="Eip712Error"/> and a JSON path; the
/// <c>Try…</c> methods return it as a value instead.
/// </summary>
public sealed class Eip712TypedData
{
    public const string DomainTypeName = "EIP712Domain";

    private readonly FrozenDictionary<string, Eip712Field[]> _types;
    private readonly Dictionary<string, Hash256> _typeHashes = new(StringComparer.Ordinal);
    private readonly Lock _typeHashLock = new();

    private Eip712TypedData(FrozenDictionary<string, Eip712Field[]> types, string primaryType, JsonElement domain, JsonElement message)
    {
        _types = types;
        PrimaryType = primaryType;
        Domain = domain;
        Message = message;
    }

    public string PrimaryType { get; }

    /// <summary>The struct types, <c>EIP712Domain</c> included (derived from the domain's members when the document omits it).</summary>
    public IReadOnlyDictionary<string, Eip712Field[]> Types => _types;

    public JsonElement Domain { get; }

    public JsonElement Message { get; }

    public static Eip712TypedData Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var utf8 = Encoding.UTF8.GetBytes(json);
        return Parse(utf8);
    }

    public static Eip712TypedData Parse(ReadOnlySpan<byte> utf8Json)
    {
        JsonElement root;
        try
        {
            var reader = new Utf8JsonReader(utf8Json);
            root = JsonElement.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new Eip712Exception(Eip712Error.MalformedDocument, "", $"not valid JSON ({e.Message})");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new Eip712Exception(Eip712Error.MalformedDocument, "", "typed data is a JSON object with types, primaryType, domain and message");
        }

        var primaryType = root.TryGetProperty("primaryType", out var p) && p.ValueKind == JsonValueKind.String
            ? p.GetString()!
            : throw new Eip712Exception(Eip712Error.MalformedDocument, "primaryType", "missing or not a string");
        var domain = root.TryGetProperty("domain", out var d) && d.ValueKind == JsonValueKind.Object
            ? d
            : throw new Eip712Exception(Eip712Error.MalformedDocument, "domain", "missing or not an object");
        var types = ParseTypes(root, domain);
        if (!types.ContainsKey(primaryType))
        {
            throw new Eip712Exception(Eip712Error.UnknownType, "primaryType", $"'{primaryType}' is not defined in types");
        }

        JsonElement message = default;
        if (primaryType != DomainTypeName && !(root.TryGetProperty("message", out message) && message.ValueKind == JsonValueKind.Object))
        {
            throw new Eip712Exception(Eip712Error.MalformedDocument, "message", "missing or not an object");
        }

        return new Eip712TypedData(types, primaryType, domain, message);
    }

    public static bool TryParse(string json, [NotNullWhen(true)] out Eip712TypedData? typedData, [NotNullWhen(false)] out Eip712Exception? error)
    {
        try
        {
            typedData = Parse(json);
            error = null;
            return true;
        }
        catch (Eip712Exception e)
        {
            typedData = null;
            error = e;
            return false;
        }
    }

    /// <summary>Parses and hashes in one step, reporting bad input as a value.</summary>
    public static bool TryComputeDigest(string json, out Hash256 digest, [NotNullWhen(false)] out Eip712Exception? error)
    {
        try
        {
            digest = Parse(json).ComputeDigest();
            error = null;
            return true;
        }
        catch (Eip712Exception e)
        {
            digest = default;
            error = e;
            return false;
        }
    }

    /// <summary>keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(message)), the digest a wallet signs.</summary>
    public Hash256 ComputeDigest()
    {
        var domainSeparator = DomainSeparator();
        return PrimaryType == DomainTypeName
            ? Eip712Encoding.Digest(domainSeparator, null)
            : Eip712Encoding.Digest(domainSeparator, HashStruct(PrimaryType, Message));
    }

    /// <summary>hashStruct(EIP712Domain, domain).</summary>
    public Hash256 DomainSeparator() => HashStruct(DomainTypeName, Domain, "domain");

    /// <summary>hashStruct(s) = keccak256(typeHash ‖ encodeData(s)).</summary>
    public Hash256 HashStruct(string typeName, JsonElement value) => HashStruct(typeName, value, typeName == PrimaryType ? "message" : typeName);

    /// <summary>
    /// <c>Name(type1 name1,…)</c> followed by every struct type it references, directly or not, sorted by name.
    /// </summary>
    public string EncodeType(string typeName)
    {
        var fields = FieldsOf(typeName, "types");
        var referenced = new SortedSet<string>(StringComparer.Ordinal);
        CollectReferencedTypes(fields, referenced);
        referenced.Remove(typeName);
        var text = new StringBuilder();
        AppendType(text, typeName, fields);
        foreach (var name in referenced)
        {
            AppendType(text, name, _types[name]);
        }

        return text.ToString();
    }

    public Hash256 TypeHash(string typeName)
    {
        lock (_typeHashLock)
        {
            if (_typeHashes.TryGetValue(typeName, out var cached))
            {
                return cached;
            }
        }

        var hash = Keccak256.Hash(Encoding.UTF8.GetBytes(EncodeType(typeName)));
        lock (_typeHashLock)
        {
            _typeHashes[typeName] = hash;
        }

        return hash;
    }

    private Hash256 HashStruct(string typeName, JsonElement value, string path)
    {
        var fields = FieldsOf(typeName, path);
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new Eip712Exception(Eip712Error.InvalidValue, path, $"a {typeName} value is a JSON object");
        }

        var size = Hash256.Size * (fields.Length + 1);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var encoded = buffer.AsSpan(0, size);
            TypeHash(typeName).CopyTo(encoded);
            for (var i = 0; i < fields.Length; i++)
            {
                var field = fields[i];
                var fieldPath = $"{path}.{field.Name}";
                if (!value.TryGetProperty(field.Name, out var member) || member.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
                {
                    throw new Eip712Exception(Eip712Error.MissingValue, fieldPath, $"missing value of type {field.Type}");
                }

                EncodeValue(field.Type, member, encoded.Slice(Hash256.Size * (i + 1), Hash256.Size), fieldPath);
            }

            return Keccak256.Hash(encoded);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>encodeData of one value: a 32-byte word (atomic types inline, everything else hashed).</summary>
    private void EncodeValue(string type, JsonElement value, Span<byte> word, string path)
    {
        if (Eip712TypeName.TryGetArrayElement(type, out var elementType, out var fixedLength))
        {
            EncodeArray(elementType, fixedLength, value, word, path);
        }
        else if (_types.ContainsKey(type))
        {
            HashStruct(type, value, path).CopyTo(word);
        }
        else
        {
            EncodeElementary(type, value, word, path);
        }
    }

    private void EncodeArray(string elementType, int? fixedLength, JsonElement value, Span<byte> word, string path)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new Eip712Exception(Eip712Error.InvalidValue, path, $"an array of {elementType} is a JSON array");
        }

        var count = value.GetArrayLength();
        if (fixedLength is { } expected && count != expected)
        {
            throw new Eip712Exception(Eip712Error.WrongLength, path, $"the array has {count} elements, its type {elementType}[{expected}] needs {expected}");
        }

        var size = Hash256.Size * count;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        try
        {
            var encoded = buffer.AsSpan(0, size);
            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                EncodeValue(elementType, item, encoded.Slice(Hash256.Size * i, Hash256.Size), $"{path}[{i}]");
                i++;
            }

            Keccak256.Hash(encoded, word);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void EncodeElementary(string type, JsonElement value, Span<byte> word, string path)
    {
        word.Clear();
        switch (type)
        {
            case "bool":
                word[31] = value.ValueKind switch
                {
                    JsonValueKind.True => 1,
                    JsonValueKind.False => 0,
                    _ => throw new Eip712Exception(Eip712Error.InvalidValue, path, "a bool is true or false"),
                };
                return;
            case "address":
                if (value.ValueKind != JsonValueKind.String)
                {
                    throw new Eip712Exception(Eip712Error.InvalidValue, path, "an address is a hex string");
                }

                if (!Address.TryParse(value.GetString(), out var address, out var error))
                {
                    throw new Eip712Exception(Eip712Error.InvalidValue, path, error);
                }

                address.Bytes.CopyTo(word[12..]);
                return;
            case "string":
                if (value.ValueKind != JsonValueKind.String)
                {
                    throw new Eip712Exception(Eip712Error.InvalidValue, path, "a string value is a JSON string");
                }

                Keccak256.Hash(Utf8Of(value, path), word);
                return;
            case "bytes":
                Keccak256.Hash(ParseHex(value, path), word);
                return;
        }

        if (Eip712TypeName.TryParseFixedBytes(type, out var width))
        {
            var bytes = ParseHex(value, path);
            if (bytes.Length != width)
            {
                throw new Eip712Exception(Eip712Error.WrongLength, path, $"a {type} value is {width} bytes, got {bytes.Length}");
            }

            bytes.CopyTo(word);
        }
        else if (Eip712TypeName.TryParseInteger(type, out var signed, out var bits))
        {
            EncodeInteger(ParseInteger(value, path), signed, bits, type, word, path);
        }
        else
        {
            throw new Eip712Exception(Eip712Error.UnknownType, path, $"unknown type '{type}'");
        }
    }

    private static void EncodeInteger(BigInteger number, bool signed, int bits, string type, Span<byte> word, string path)
    {
        var fits = signed
            ? number >= -(BigInteger.One << (bits - 1)) && number < BigInteger.One << (bits - 1)
            : number.Sign >= 0 && number < BigInteger.One << bits;
        if (!fits)
        {
            throw new Eip712Exception(Eip712Error.IntegerOutOfRange, path, $"{number} does not fit {type}");
        }

        // Two's complement, big-endian, sign-extended to 256 bits.
        var unsigned = number.Sign >= 0;
        var length = number.GetByteCount(unsigned);
        word.Fill(unsigned ? (byte)0 : (byte)0xFF);
        number.TryWriteBytes(word[(Hash256.Size - length)..], out _, unsigned, isBigEndian: true);
    }

    /// <summary>A JSON integer, a decimal string, or a 0x-hex string (either optionally negative).</summary>
    private static BigInteger ParseInteger(JsonElement value, string path)
    {
        var text = value.ValueKind switch
        {
            JsonValueKind.Number or JsonValueKind.String => value.ValueKind == JsonValueKind.Number ? value.GetRawText() : value.GetString()!,
            _ => throw new Eip712Exception(Eip712Error.InvalidValue, path, "an integer is a JSON number or a decimal or 0x-hex string"),
        };
        var span = text.AsSpan();
        var negative = span.StartsWith('-');
        if (negative)
        {
            span = span[1..];
        }

        BigInteger magnitude = default;
        bool parsed;
        if (span.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && value.ValueKind == JsonValueKind.String)
        {
            span = span[2..];
            parsed = span.Length > 0 && !span.ContainsAnyExcept("0123456789abcdefABCDEF")
                && BigInteger.TryParse(string.Concat("0", span), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out magnitude);
        }
        else
        {
            parsed = span.Length > 0 && !span.ContainsAnyExcept("0123456789")
                && BigInteger.TryParse(span, NumberStyles.None, CultureInfo.InvariantCulture, out magnitude);
        }

        if (!parsed)
        {
            throw new Eip712Exception(Eip712Error.InvalidValue, path, $"'{text}' is not an integer");
        }

        return negative ? -magnitude : magnitude;
    }

    /// <summary>The UTF-8 bytes of a JSON string; a lone surrogate (valid JSON, not valid Unicode) is bad input.</summary>
    private static byte[] Utf8Of(JsonElement value, string path)
    {
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetBytes(value.GetString()!);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            throw new Eip712Exception(Eip712Error.InvalidValue, path, "the string is not valid Unicode (lone surrogate)");
        }
    }

    private static byte[] ParseHex(JsonElement value, string path)
    {
        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : null;
        if (text is null || !text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || text.Length % 2 != 0)
        {
            throw new Eip712Exception(Eip712Error.InvalidValue, path, "bytes are a 0x-prefixed hex string with an even number of digits");
        }

        try
        {
            return Convert.FromHexString(text.AsSpan(2));
        }
        catch (FormatException)
        {
            throw new Eip712Exception(Eip712Error.InvalidValue, path, "bytes are a 0x-prefixed hex string with an even number of digits");
        }
    }

    private Eip712Field[] FieldsOf(string typeName, string path)
        => _types.TryGetValue(typeName, out var fields)
            ? fields
            : throw new Eip712Exception(Eip712Error.UnknownType, path, $"'{typeName}' is not defined in types");

    private void CollectReferencedTypes(Eip712Field[] fields, SortedSet<string> found)
    {
        foreach (var field in fields)
        {
            var baseType = Eip712TypeName.BaseOf(field.Type);
            if (_types.TryGetValue(baseType, out var nested) && found.Add(baseType))
            {
                CollectReferencedTypes(nested, found);
            }
        }
    }

    private static void AppendType(StringBuilder text, string name, Eip712Field[] fields)
    {
        text.Append(name).Append('(');
        for (var i = 0; i < fields.Length; i++)
        {
            text.Append(i == 0 ? "" : ",").Append(fields[i].Type).Append(' ').Append(fields[i].Name);
        }

        text.Append(')');
    }

    private static FrozenDictionary<string, Eip712Field[]> ParseTypes(JsonElement root, JsonElement domain)
    {
        if (!root.TryGetProperty("types", out var typesElement) || typesElement.ValueKind != JsonValueKind.Object)
        {
            throw new Eip712Exception(Eip712Error.MalformedDocument, "types", "missing or not an object");
        }

        var types = new Dictionary<string, Eip712Field[]>(StringComparer.Ordinal);
        foreach (var type in typesElement.EnumerateObject())
        {
            var path = $"types.{type.Name}";
            if (!Eip712TypeName.IsIdentifier(type.Name) || Eip712TypeName.IsElementary(type.Name))
            {
                throw new Eip712Exception(Eip712Error.InvalidTypeDefinition, path, $"'{type.Name}' is not a valid struct name");
            }

            if (type.Value.ValueKind != JsonValueKind.Array)
            {
                throw new Eip712Exception(Eip712Error.MalformedDocument, path, "a type is an array of { name, type }");
            }

            var fields = new List<Eip712Field>();
            foreach (var member in type.Value.EnumerateArray())
            {
                var fieldPath = $"{path}[{fields.Count}]";
                if (member.ValueKind != JsonValueKind.Object
                    || !member.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                    || !member.TryGetProperty("type", out var fieldType) || fieldType.ValueKind != JsonValueKind.String)
                {
                    throw new Eip712Exception(Eip712Error.MalformedDocument, fieldPath, "a field is { \"name\": string, \"type\": string }");
                }

                var field = new Eip712Field(name.GetString()!, fieldType.GetString()!);
                if (!Eip712TypeName.IsIdentifier(field.Name) || fields.Exists(f => f.Name == field.Name))
                {
                    throw new Eip712Exception(Eip712Error.InvalidTypeDefinition, fieldPath, $"'{field.Name}' is not a valid or unique field name");
                }

                fields.Add(field);
            }

            types[type.Name] = [.. fields];
        }

        if (!types.ContainsKey(DomainTypeName))
        {
            types[DomainTypeName] = Eip712Domain.FieldsPresentIn(domain);
        }

        foreach (var (name, fields) in types)
        {
            for (var i = 0; i < fields.Length; i++)
            {
                var baseType = Eip712TypeName.BaseOf(fields[i].Type);
                if (!Eip712TypeName.IsWellFormedArraySuffix(fields[i].Type))
                {
                    throw new Eip712Exception(Eip712Error.InvalidTypeDefinition, $"types.{name}[{i}]", $"'{fields[i].Type}' has a malformed array suffix");
                }

                if (!types.ContainsKey(baseType) && !Eip712TypeName.IsElementary(baseType))
                {
                    throw new Eip712Exception(Eip712Error.UnknownType, $"types.{name}[{i}]", $"'{baseType}' is neither elementary nor defined in types");
                }
            }
        }

        return types.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
