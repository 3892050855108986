using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Codec;

/// <summary>Records the member list of a struct as eth_signTypedData_v4 <c>types</c> entries (name, type).</summary>
public sealed class Eip712SchemaRecorder : IFieldWriter
{
    public List<(string Name, string Type)> Members { get; } = [];

    public void UInt8(string name, byte value) => Members.Add((name, "uint8"));

    public void UInt32(string name, uint value) => Members.Add((name, "uint32"));

    public void UInt64(string name, ulong value) => Members.Add((name, "uint64"));

    public void Bool(string name, bool value) => Members.Add((name, "bool"));

    public void Address(string name, Address value) => Members.Add((name, "address"));

    public void Bytes32(string name, Hash256 value) => Members.Add((name, "bytes32"));

    public void String(string name, string value) => Members.Add((name, "string"));

    public void StringArray(string name, IReadOnlyList<string> value) => Members.Add((name, "string[]"));
}
