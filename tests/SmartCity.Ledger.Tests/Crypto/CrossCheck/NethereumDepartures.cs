using System.Text.Json;

namespace SmartCity.Ledger.Tests.Crypto.CrossCheck;

/// <summary>
/// The ways Nethereum.Signer.EIP712 6.1.0 departs from EIP-712, as the cross-check has found them. In each, ethers
/// (and the project) hash the document and Nethereum does not. A disagreement that matches none of them is not
/// excused: the cross-check fails until it is understood and named here.
/// </summary>
public static class NethereumDepartures
{
    /// <summary>Arrays of <c>bytesN</c> (<c>bytes9[]</c>, <c>bytes32[2]</c>): Nethereum refuses their 0x-hex values with an AbiEncodingException, though it takes the same value in a plain <c>bytesN</c> field.</summary>
    public const string ArraysOfFixedBytes = "arrays of bytesN: Nethereum refuses hex values (AbiEncodingException)";

    /// <summary>Arrays of arrays of structs (<c>Mail[][]</c>, <c>Measure[2][2]</c>): Nethereum throws an InvalidCastException; one-dimensional arrays of structs work.</summary>
    public const string MultiDimensionalArraysOfStructs = "multi-dimensional arrays of structs: Nethereum throws InvalidCastException";

    /// <summary>The named departure <paramref name="c"/> shows, or null when it shows none of the known ones.</summary>
    public static string? Name(TypedDataCase c, string nethereum)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(nethereum);
        var fieldTypes = FieldTypes(c.Json, out var structs);
        if (nethereum.Contains("AbiEncodingException", StringComparison.Ordinal) && fieldTypes.Any(t => IsFixedBytes(Element(t)) && t.Contains('[', StringComparison.Ordinal)))
        {
            return ArraysOfFixedBytes;
        }

        if (nethereum.Contains("InvalidCastException", StringComparison.Ordinal) && fieldTypes.Any(t => t.Count(ch => ch == '[') >= 2 && structs.Contains(Element(t))))
        {
            return MultiDimensionalArraysOfStructs;
        }

        return null;
    }

    private static string Element(string type) => type.IndexOf('[', StringComparison.Ordinal) is var i and >= 0 ? type[..i] : type;

    private static bool IsFixedBytes(string type) => type.StartsWith("bytes", StringComparison.Ordinal) && type.Length > 5;

    private static List<string> FieldTypes(string json, out HashSet<string> structs)
    {
        using var document = JsonDocument.Parse(json);
        var types = document.RootElement.GetProperty("types");
        structs = [.. types.EnumerateObject().Select(t => t.Name)];
        return [.. types.EnumerateObject().SelectMany(t => t.Value.EnumerateArray()).Select(f => f.GetProperty("type").GetString()!)];
    }
}
