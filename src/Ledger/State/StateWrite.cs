using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>
/// One change to the ledger state, as the state machine produces it and the state tree and stores consume it:
/// <see cref="Key"/> is Keccak-256 of the state key's canonical bytes; a null <see cref="Value"/> deletes the key.
/// </summary>
public readonly record struct StateWrite(Hash256 Key, byte[]? Value)
{
    public bool IsDelete => Value is null;
}
