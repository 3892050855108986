using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>
/// Read access to ledger state by hashed state key: all the state machine needs, so it runs unchanged over the
/// in-memory dictionary, a store snapshot or the sparse Merkle tree. Null means the key is absent.
/// </summary>
public interface IStateReader
{
    byte[]? Get(Hash256 key);
}

public static class StateReaderExtensions
{
    public static byte[]? Get(this IStateReader state, StateKey key) => state.Get(key.Hash);
}

/// <summary>The state committed by the sparse Merkle tree at one root, read by the state machine.</summary>
public sealed class StateTreeReader(StateTree tree, Hash256 root) : IStateReader
{
    public Hash256 Root => root;

    public byte[]? Get(Hash256 key) => tree.Get(root, key);
}
