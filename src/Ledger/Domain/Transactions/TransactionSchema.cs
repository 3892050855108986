using System.Text;
using System.Text.Json;

namespace SmartCity.Ledger.Domain.Transactions;

/// <summary>
/// The EIP-712 types of every transaction kind in eth_signTypedData_v4 form, as committed in
/// contracts/eip712/transactions.json: pick <c>types[kind]</c> (plus EIP712Domain) and sign with any Ethereum tool.
/// </summary>
public static class TransactionSchema
{
    public static string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("$comment", "EIP-712 types of SmartCity.Ledger transactions (generated from the C# field order; do not edit by hand). Domain: EIP712Domain(string name,string version,uint256 chainId) with the values of the genesis file.");
            json.WriteStartObject("types");
            WriteType(json, "EIP712Domain", [("name", "string"), ("version", "string"), ("chainId", "uint256")]);
            foreach (var kind in TransactionCatalogue.Kinds.Order())
            {
                WriteType(json, TransactionCatalogue.PrimaryType(kind), TransactionCatalogue.Members(kind));
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
    }

    private static void WriteType(Utf8JsonWriter json, string name, IReadOnlyList<(string Name, string Type)> members)
    {
        json.WriteStartArray(name);
        foreach (var (memberName, type) in members)
        {
            json.WriteStartObject();
            json.WriteString("name", memberName);
            json.WriteString("type", type);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}
