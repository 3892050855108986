using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;

namespace SmartCity.Ledger.Tests.Crypto.CrossCheck;

/// <summary>One random <c>eth_signTypedData_v4</c> document, the key to sign it with, and what it exercises.</summary>
public sealed record TypedDataCase(int Index, string Json, byte[] PrivateKey, IReadOnlySet<string> Features);

/// <summary>
/// Random typed data over the EIP-712 type grammar, replayable from a seed: a DAG of 1–5 struct types (a struct may
/// be used by several others, in fields and in arrays), fields of every atomic type (<c>bool</c>, <c>address</c>,
/// <c>string</c>, <c>bytes</c>, <c>bytes1</c>–<c>bytes32</c>, <c>int8</c>–<c>int256</c>, <c>uint8</c>–<c>uint256</c>),
/// dynamic and fixed-size arrays up to two dimensions (arrays of structs included, empty ones too), integer edge
/// values (0, ±1, min, max, max−1) written as JSON numbers, decimal strings or hex strings, addresses in checksum or
/// lower case, Unicode strings (CJK, combining marks, astral-plane characters, quotes and control characters), and
/// a random subset of the domain fields. Each case records the features it uses (<see cref="TypedDataCase.Features"/>).
/// </summary>
public sealed class TypedDataGenerator(int seed)
{
    private static readonly string[] StructNames = ["Person", "Mail", "Licence", "Record", "Region", "Measure", "Entry", "Court", "Bank", "Attestation", "Memo", "Wallet", "Group", "Asset"];
    private static readonly string[] Strings = ["", "Hello, Bob!", "京津冀协同发展", "雄安新区信用信息共享平台", "失信被执行人 91110000MA01ABCD2X", "Grüße, Zürich", "🚀 credit ✓", "a\"quote\\and\nnewline\ttab", "e\u0301 combining", "\u0000nul", "𠀋𠀌 astral"];
    private static readonly BigInteger SecpN = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private readonly Random _random = new(seed);
    private HashSet<string> _features = [];

    public int Seed => seed;

    public IEnumerable<TypedDataCase> Cases(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return Next(i);
        }
    }

    public TypedDataCase Next(int index)
    {
        _features = [];
        var types = new JsonObject();
        var structs = RandomStructs();
        var primary = structs[0].Name;
        var domain = RandomDomain(out var domainFields);
        var domainType = new JsonArray();
        foreach (var (name, type) in domainFields)
        {
            domainType.Add(new JsonObject { ["name"] = name, ["type"] = type });
        }

        types["EIP712Domain"] = domainType;
        foreach (var s in structs)
        {
            types[s.Name] = new JsonArray([.. s.Fields.Select(f => (JsonNode)new JsonObject { ["name"] = f.Name, ["type"] = f.Type })]);
        }

        var lookup = structs.ToDictionary(s => s.Name);
        var document = new JsonObject
        {
            ["types"] = types,
            ["primaryType"] = primary,
            ["domain"] = domain,
            ["message"] = RandomValue(primary, lookup, 0),
        };
        return new TypedDataCase(index, document.ToJsonString(), RandomPrivateKey(), _features);
    }

    private sealed record StructType(string Name, List<(string Name, string Type)> Fields);

    /// <summary>Struct 0 is the primary type; struct i may refer only to structs after it, so the types form a DAG reachable from 0.</summary>
    private List<StructType> RandomStructs()
    {
        var names = StructNames.OrderBy(_ => _random.Next()).Take(1 + _random.Next(5)).ToList();
        var structs = names.Select(n => new StructType(n, [])).ToList();
        for (var i = structs.Count - 1; i >= 0; i--)
        {
            var fieldCount = 1 + _random.Next(5);
            for (var f = 0; f < fieldCount; f++)
            {
                string type;
                if (i + 1 < structs.Count && _random.Next(3) == 0)
                {
                    type = structs[i + 1 + _random.Next(structs.Count - i - 1)].Name;
                    _features.Add("struct field");
                }
                else
                {
                    type = RandomAtomicType();
                }

                type += RandomArraySuffix(type);
                structs[i].Fields.Add(($"f{f}_{new string([.. type.Where(char.IsAsciiLetterOrDigit)])}", type));
            }
        }

        // Every non-primary struct must be reachable from the primary type (as wallets and ethers require).
        for (var i = 1; i < structs.Count; i++)
        {
            if (!structs.Take(i).Any(s => s.Fields.Any(f => BaseType(f.Type) == structs[i].Name)))
            {
                var holder = structs[_random.Next(i)];
                var type = structs[i].Name + RandomArraySuffix(structs[i].Name);
                holder.Fields.Add(($"f{holder.Fields.Count}_{structs[i].Name}", type));
                _features.Add("struct field");
            }
        }

        return structs;
    }

    private string RandomAtomicType() => _random.Next(8) switch
    {
        0 => "bool",
        1 => "address",
        2 => "string",
        3 => "bytes",
        4 => $"bytes{1 + _random.Next(32)}",
        5 => $"int{8 * (1 + _random.Next(32))}",
        _ => $"uint{8 * (1 + _random.Next(32))}",
    };

    private string RandomArraySuffix(string elementType)
    {
        var dimensions = _random.Next(10) switch { < 6 => 0, < 9 => 1, _ => 2 };
        var suffix = new StringBuilder();
        for (var d = 0; d < dimensions; d++)
        {
            suffix.Append(_random.Next(2) == 0 ? "[]" : $"[{1 + _random.Next(3)}]");
        }

        return suffix.ToString();
    }

    private static string BaseType(string type) => type.IndexOf('[', StringComparison.Ordinal) is var i and >= 0 ? type[..i] : type;

    private JsonNode? RandomValue(string type, Dictionary<string, StructType> structs, int depth)
    {
        if (type.EndsWith(']'))
        {
            var open = type.LastIndexOf('[');
            var element = type[..open];
            var size = type[(open + 1)..^1];
            var length = size.Length == 0 ? _random.Next(4) : int.Parse(size, CultureInfo.InvariantCulture);
            _features.Add(size.Length == 0 ? "dynamic array" : "fixed-size array");
            _features.Add(element.EndsWith(']') ? "nested array" : structs.ContainsKey(element) ? "array of structs" : "array of atomic values");
            if (length == 0)
            {
                _features.Add("empty array");
            }

            return new JsonArray([.. Enumerable.Range(0, length).Select(_ => RandomValue(element, structs, depth + 1))]);
        }

        if (structs.TryGetValue(type, out var structType))
        {
            var value = new JsonObject();
            foreach (var field in structType.Fields)
            {
                value[field.Name] = RandomValue(field.Type, structs, depth + 1);
            }

            return value;
        }

        switch (type)
        {
            case "bool":
                return _random.Next(2) == 0;
            case "address":
                var address = "0x" + Convert.ToHexStringLower(RandomBytes(20));
                _features.Add("address");

                // EIP-55 checksum case (written by the project, checked by Nethereum and ethers) or all lower case.
                return _random.Next(2) == 0 ? address : SmartCity.Ledger.Crypto.Address.Parse(address).ToString();
            case "string":
                _features.Add("string");
                var text = RandomString();
                if (text.Any(char.IsSurrogate))
                {
                    _features.Add("astral-plane string");
                }

                return text;
            case "bytes":
                _features.Add("bytes");
                var bytes = RandomBytes(_random.Next(4) == 0 ? 0 : _random.Next(70));
                if (bytes.Length == 0)
                {
                    _features.Add("empty bytes");
                }

                return "0x" + Convert.ToHexStringLower(bytes);
        }

        if (type.StartsWith("bytes", StringComparison.Ordinal))
        {
            _features.Add("bytesN");
            return "0x" + Convert.ToHexStringLower(RandomBytes(int.Parse(type[5..], CultureInfo.InvariantCulture)));
        }

        var signed = type[0] == 'i';
        var bits = int.Parse(type[(signed ? 3 : 4)..], CultureInfo.InvariantCulture);
        return FormatInteger(RandomInteger(signed, bits));
    }

    private BigInteger RandomInteger(bool signed, int bits)
    {
        var max = signed ? (BigInteger.One << (bits - 1)) - 1 : (BigInteger.One << bits) - 1;
        var min = signed ? -(BigInteger.One << (bits - 1)) : BigInteger.Zero;
        var value = _random.Next(7) switch
        {
            0 => BigInteger.Zero,
            1 => max,
            2 => signed ? min : BigInteger.One,
            3 => signed ? BigInteger.MinusOne : max - 1,
            4 => signed ? min + 1 : new BigInteger(_random.Next(1000)) % (max + 1),
            _ => new BigInteger(RandomBytes(bits / 8), isUnsigned: true, isBigEndian: true) + min,
        };
        _features.Add(signed ? "intN" : "uintN");
        if (value == max || (signed && value == min))
        {
            _features.Add(signed ? "intN at its min or max" : "uintN at its max");
        }

        if (value.Sign < 0)
        {
            _features.Add("negative intN");
        }

        return value;
    }

    /// <summary>An integer in one of the JSON forms eth_signTypedData_v4 takes: a number (when exact), a decimal string, a 0x-hex string (non-negative).</summary>
    private JsonNode FormatInteger(BigInteger value)
    {
        var form = _random.Next(3);
        if (form == 0 && BigInteger.Abs(value) <= (BigInteger.One << 53) - 1)
        {
            _features.Add("integer as JSON number");
            return (long)value;
        }

        if (form == 1 && value.Sign >= 0)
        {
            _features.Add("integer as hex string");
            return "0x" + (value.IsZero ? "0" : value.ToString("x", CultureInfo.InvariantCulture).TrimStart('0'));
        }

        _features.Add("integer as decimal string");
        return value.ToString(CultureInfo.InvariantCulture);
    }

    private string RandomString()
    {
        if (_random.Next(3) != 0)
        {
            return Strings[_random.Next(Strings.Length)];
        }

        var text = new StringBuilder();
        for (var i = _random.Next(16); i >= 0; i--)
        {
            switch (_random.Next(5))
            {
                case 0:
                    text.Append((char)(0x20 + _random.Next(0x5f)));
                    break;
                case 1:
                    text.Append(char.ConvertFromUtf32(0x1F300 + _random.Next(0x200)));
                    break;
                default:
                    text.Append((char)(0x4E00 + _random.Next(0x5000)));
                    break;
            }
        }

        return text.ToString();
    }

    private JsonObject RandomDomain(out List<(string Name, string Type)> fields)
    {
        fields = [];
        var domain = new JsonObject();
        if (_random.Next(5) != 0)
        {
            fields.Add(("name", "string"));
            domain["name"] = new[] { "SmartCity.Ledger", "Ether Mail", "京津冀信用链", "" }[_random.Next(4)];
        }

        if (_random.Next(10) < 7)
        {
            fields.Add(("version", "string"));
            domain["version"] = new[] { "1", "2", "0.1.0" }[_random.Next(3)];
        }

        if (_random.Next(5) != 0)
        {
            fields.Add(("chainId", "uint256"));
            var chainId = new[] { BigInteger.One, new BigInteger(8610), BigInteger.Zero, new BigInteger(_random.Next(1_000_000_000)) }[_random.Next(4)];
            domain["chainId"] = _random.Next(2) == 0 ? (long)chainId : chainId.ToString(CultureInfo.InvariantCulture);
        }

        if (_random.Next(10) < 4)
        {
            fields.Add(("verifyingContract", "address"));
            domain["verifyingContract"] = "0x" + Convert.ToHexStringLower(RandomBytes(20));
            _features.Add("domain verifyingContract");
        }

        if (_random.Next(10) < 3)
        {
            fields.Add(("salt", "bytes32"));
            domain["salt"] = "0x" + Convert.ToHexStringLower(RandomBytes(32));
            _features.Add("domain salt");
        }

        if (fields.Count == 0)
        {
            _features.Add("empty domain");
        }

        return domain;
    }

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        _random.NextBytes(bytes);
        return bytes;
    }

    private byte[] RandomPrivateKey()
    {
        while (true)
        {
            var key = RandomBytes(32);
            var value = new BigInteger(key, isUnsigned: true, isBigEndian: true);
            if (value.Sign > 0 && value < SecpN)
            {
                return key;
            }
        }
    }
}
