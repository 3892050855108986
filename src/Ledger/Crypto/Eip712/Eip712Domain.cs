using System.Text;
using System.Text.Json;

namespace SmartCity.Ledger.Crypto.Eip712;

/// <summary>
/// An EIP-712 domain with any subset of the standard fields, its separator computed once. The ledger's own domain is
/// name, version and chainId of the consortium; the other fields are here so any wallet's domain can be checked.
/// </summary>
public sealed class Eip712Domain
{
    /// <summary>The standard fields in the order EIP-712 defines them.</summary>
    private static readonly Eip712Field[] StandardFields =
    [
        new("name", "string"),
        new("version", "string"),
        new("chainId", "uint256"),
        new("verifyingContract", "address"),
        new("salt", "bytes32"),
    ];

    public Eip712Domain(string? name = null, string? version = null, ulong? chainId = null, Address? verifyingContract = null, Hash256? salt = null)
    {
        Name = name;
        Version = version;
        ChainId = chainId;
        VerifyingContract = verifyingContract;
        Salt = salt;

        var type = new StringBuilder(Eip712TypedData.DomainTypeName).Append('(');
        Span<byte> encoded = stackalloc byte[Hash256.Size * 6];
        encoded.Clear();
        var words = 1;
        var present = new[] { name is not null, version is not null, chainId.HasValue, verifyingContract.HasValue, salt.HasValue };
        for (var i = 0; i < StandardFields.Length; i++)
        {
            if (!present[i])
            {
                continue;
            }

            type.Append(words == 1 ? "" : ",").Append(StandardFields[i].Type).Append(' ').Append(StandardFields[i].Name);
            var writer = new Eip712StructWriter(encoded.Slice(Hash256.Size * words, Hash256.Size));
            switch (i)
            {
                case 0: writer.WriteString(name); break;
                case 1: writer.WriteString(version); break;
                case 2: writer.WriteUInt(chainId!.Value); break;
                case 3: writer.WriteAddress(verifyingContract!.Value); break;
                default: writer.WriteBytes32(salt!.Value); break;
            }

            words++;
        }

        Keccak256.Hash(Encoding.UTF8.GetBytes(type.Append(')').ToString()), encoded);
        Separator = Keccak256.Hash(encoded[..(Hash256.Size * words)]);
    }

    public string? Name { get; }

    public string? Version { get; }

    public ulong? ChainId { get; }

    public Address? VerifyingContract { get; }

    public Hash256? Salt { get; }

    /// <summary>hashStruct(EIP712Domain, this).</summary>
    public Hash256 Separator { get; }

    /// <summary>The EIP712Domain type a document implies when it lists no such type: the standard fields its domain has.</summary>
    internal static Eip712Field[] FieldsPresentIn(JsonElement domain)
        => [.. StandardFields.Where(f => domain.TryGetProperty(f.Name, out var value) && value.ValueKind != JsonValueKind.Null)];
}
