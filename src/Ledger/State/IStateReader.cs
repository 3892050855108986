using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>
/// Read access to ledger state by hashed state key: all the state machine needs, so it runs unchanged over the
/// in-memory dictionary, a store snapshot or the sparse Merkle tree. Null means the key is absent.
/// </summary>
public interface IStateReader
{
    /// <summary>The chain's crypto suite, whose hash turns a <see cref="StateKey"/> into its 256-bit tree key.</summary>
    CryptoSuite Suite { get; }

    byte[]? Get(Hash256 key);
}

public static class StateReaderExtensions
{
    public static byte[]? Get(this IStateReader state, StateKey key)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Get(key.HashIn(state.Suite));
    }

    /// <summary>The tree key of <paramref name="key"/> in this state's suite.</summary>
    public static Hash256 KeyHash(this IStateReader state, StateKey key)
    {
        ArgumentNullException.ThrowIfNull(state);
        return key.HashIn(state.Suite);
    }
}

/// <summary>The state committed by the sparse Merkle tree at one root, read by the state machine.</summary>
public sealed class StateTreeReader(StateTree tree, Hash256 root) : IStateReader
{
    public Hash256 Root => root;

    public CryptoSuite Suite => tree.Suite;

    public byte[]? Get(Hash256 key) => tree.Get(root, key);
}
