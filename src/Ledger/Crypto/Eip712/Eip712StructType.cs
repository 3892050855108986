using System.Text;

namespace SmartCity.Ledger.Crypto.Eip712;

/// <summary>
/// The definition of one EIP-712 struct type for typed ledger messages: its name, its field list as EIP-712 writes it
/// (<c>"address to,uint256 amount"</c>), the struct types it references, and the derived encodeType and type hash.
/// </summary>
public sealed class Eip712StructType
{
    private Hash256? _gmTypeHash;

    public Eip712StructType(string name, string fields, params Eip712StructType[] referenced)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(referenced);
        Name = name;
        Fields = fields;
        FieldCount = fields.Length == 0 ? 0 : fields.Count(c => c == ',') + 1;
        Referenced = referenced;

        var all = new SortedDictionary<string, Eip712StructType>(StringComparer.Ordinal);
        Collect(referenced, all);
        all.Remove(name);
        var text = new StringBuilder().Append(name).Append('(').Append(fields).Append(')');
        foreach (var type in all.Values)
        {
            text.Append(type.Name).Append('(').Append(type.Fields).Append(')');
        }

        EncodedType = text.ToString();
        TypeHash = Keccak256.Hash(Encoding.UTF8.GetBytes(EncodedType));
    }

    public string Name { get; }

    public string Fields { get; }

    public int FieldCount { get; }

    public IReadOnlyList<Eip712StructType> Referenced { get; }

    /// <summary>encodeType: this type, then every referenced type sorted by name.</summary>
    public string EncodedType { get; }

    /// <summary>keccak256(encodeType): the eth suite's type hash.</summary>
    public Hash256 TypeHash { get; }

    /// <summary>The type hash under <paramref name="suite"/> (eth's <see cref="TypeHash"/> when null); computed once per suite id.</summary>
    public Hash256 TypeHashIn(CryptoSuite? suite)
    {
        if (suite is null || suite.Id == CryptoSuiteId.Eth)
        {
            return TypeHash;
        }

        return _gmTypeHash ??= suite.Hash(Encoding.UTF8.GetBytes(EncodedType));
    }

    private static void Collect(IEnumerable<Eip712StructType> types, SortedDictionary<string, Eip712StructType> found)
    {
        foreach (var type in types)
        {
            if (found.TryAdd(type.Name, type))
            {
                Collect(type.Referenced, found);
            }
        }
    }
}
