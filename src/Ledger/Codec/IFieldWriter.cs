using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Codec;

/// <summary>
/// Receives the fields of a message in their one fixed order. The same <c>WriteFields</c> call drives the canonical
/// binary encoding, the EIP-712 struct hash and the published EIP-712 schema, so the three cannot drift apart.
/// The EIP-712 type of each method is in its name: uint8, uint32, uint64, bool, address, bytes32, string, string[].
/// </summary>
public interface IFieldWriter
{
    void UInt8(string name, byte value);

    void UInt32(string name, uint value);

    void UInt64(string name, ulong value);

    void Bool(string name, bool value);

    void Address(string name, Address value);

    void Bytes32(string name, Hash256 value);

    void String(string name, string value);

    void StringArray(string name, IReadOnlyList<string> value);
}

/// <summary>Reads the fields back in the same order (by position in binary, by name in JSON).</summary>
public interface IFieldReader
{
    byte UInt8(string name);

    uint UInt32(string name);

    ulong UInt64(string name);

    bool Bool(string name);

    Address Address(string name);

    Hash256 Bytes32(string name);

    string String(string name);

    IReadOnlyList<string> StringArray(string name);
}
