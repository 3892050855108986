using System.Buffers.Binary;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Benchmarks.Proofs;

/// <summary>The benchmark state: 1,000,000 keys (Keccak-256 of an index) with 64-byte values, in memory.</summary>
internal static class MillionKeyState
{
    public const int Size = 1_000_000;

    public static (StateTree Tree, Hash256 Root) Build(StateTreeLayout layout = StateTreeLayout.Binary)
    {
        var tree = new StateTree(new InMemoryStateNodeStore(), CryptoSuite.Eth, layout);
        var writes = new StateWrite[Size];
        for (var i = 0; i < Size; i++)
        {
            writes[i] = new StateWrite(Key(i), Value(i, 0));
        }

        return (tree, tree.Apply(StateTree.EmptyRoot, writes));
    }

    public static Hash256 Key(int i)
    {
        Span<byte> seed = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(seed, i);
        return Keccak256.Hash(seed);
    }

    /// <summary>About the size of an encoded credit record or licence status.</summary>
    public static byte[] Value(int i, int version)
    {
        var value = new byte[64];
        BinaryPrimitives.WriteInt32BigEndian(value, i);
        BinaryPrimitives.WriteInt32BigEndian(value.AsSpan(4), version);
        return value;
    }
}
