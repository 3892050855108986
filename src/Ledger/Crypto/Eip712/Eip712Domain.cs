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
        : this(null, name, version, chainId, verifyingContract, salt)
    {
    }

    /// <summary>
    /// A domain of a chain in <paramref name="suite"/>: its separator, and every digest made under it, use the suite's
    /// hash (Keccak-256 for eth, SM3 for gm: the EIP-712-shaped encoding of docs/crypto.md). Null means eth.
    /// </summary>
    public Eip712Domain(CryptoSuite? suite, string? name = null, string? version = null, ulong? chainId = null, Address? verifyingContract = null, Hash256? salt = null)
    {
        Suite = suite ?? CryptoSuite.Eth;
        var hashSuite = suite is null || suite.Id == CryptoSuiteId.Eth ? null : suite;
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
            var writer = new Eip712StructWriter(encoded.Slice(Hash256.Size * words, Hash256.Size), hashSuite);
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

        var typeText = Encoding.UTF8.GetBytes(type.Append(')').ToString());
        if (hashSuite is null)
        {
            Keccak256.Hash(typeText, encoded);
            Separator = Keccak256.Hash(encoded[..(Hash256.Size * words)]);
        }
        else
        {
            hashSuite.Hash(typeText, encoded);
            Separator = hashSuite.Hash(encoded[..(Hash256.Size * words)]);
        }
    }

    /// <summary>The crypto suite whose hash this domain's separator and digests use (eth unless given).</summary>
    public CryptoSuite Suite { get; }

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
