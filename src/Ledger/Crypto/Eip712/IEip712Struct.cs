namespace SmartCity.Ledger.Crypto.Eip712;

/// <summary>
/// A ledger message type with a fixed EIP-712 struct type. The type hash is computed once per type
/// (<see cref="Eip712StructType"/>); hashing an instance writes its fields as 32-byte words into a stack buffer.
/// <code>
/// public readonly record struct Transfer(Address To, ulong Amount, string Memo) : IEip712Struct
/// {
///     public static Eip712StructType StructType { get; } = new("Transfer", "address to,uint256 amount,string memo");
///     public void WriteFields(ref Eip712StructWriter writer)
///     {
///         writer.WriteAddress(To);
///         writer.WriteUInt(Amount);
///         writer.WriteString(Memo);
///     }
/// }
/// </code>
/// </summary>
public interface IEip712Struct
{
    static abstract Eip712StructType StructType { get; }

    /// <summary>Writes every field, in the order of the type's definition, one call per field.</summary>
    void WriteFields(ref Eip712StructWriter writer);
}
