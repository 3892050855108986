using System.Text.Json.Nodes;
using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;

namespace SmartCity.Testing.TestKit;

/// <summary>A transaction as eth_signTypedData_v4 JSON: types from the schema, domain from genesis, message from the fields.</summary>
public static class TypedDataJson
{
    public static string Of(GenesisDocument genesis, SignedTransaction transaction)
    {
        var primaryType = TransactionCatalogue.PrimaryType(transaction.Kind);
        var message = new JsonObject();
        var writer = new MessageWriter(message);
        ((IFieldWriter)writer).UInt64(SignedTransaction.NonceField, transaction.Nonce);
        transaction.Body.WriteFields(writer);
        var types = new JsonObject
        {
            ["EIP712Domain"] = Members([("name", "string"), ("version", "string"), ("chainId", "uint256")]),
            [primaryType] = Members(TransactionCatalogue.Members(transaction.Kind)),
        };
        return new JsonObject
        {
            ["types"] = types,
            ["primaryType"] = primaryType,
            ["domain"] = new JsonObject { ["name"] = genesis.Eip712Domain.Name, ["version"] = genesis.Eip712Domain.Version, ["chainId"] = genesis.Eip712Domain.ChainId },
            ["message"] = message,
        }.ToJsonString();
    }

    private static JsonArray Members(IEnumerable<(string Name, string Type)> members)
        => [.. members.Select(m => new JsonObject { ["name"] = m.Name, ["type"] = m.Type })];

    private sealed class MessageWriter(JsonObject message) : IFieldWriter
    {
        public void UInt8(string name, byte value) => message[name] = value;

        public void UInt32(string name, uint value) => message[name] = value;

        public void UInt64(string name, ulong value) => message[name] = value.ToString(System.Globalization.CultureInfo.InvariantCulture);

        public void Bool(string name, bool value) => message[name] = value;

        public void Address(string name, Address value) => message[name] = value.ToString();

        public void Bytes32(string name, Hash256 value) => message[name] = value.ToString();

        public void String(string name, string value) => message[name] = value;

        public void StringArray(string name, IReadOnlyList<string> value) => message[name] = new JsonArray([.. value.Select(v => (JsonNode)v)]);
    }
}
