using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Proofs;

/// <summary>
/// An RFC 9162 §2.1.3 inclusion proof: leaf <see cref="LeafIndex"/> is in the history tree of <see cref="TreeSize"/>
/// leaves. <see cref="Path"/> lists sibling hashes from the leaf's level up to the root.
/// </summary>
public sealed class InclusionProof
{
    public InclusionProof(long leafIndex, long treeSize, Hash256[] path)
    {
        LeafIndex = leafIndex;
        TreeSize = treeSize;
        Path = ImmutableCollectionsMarshal.AsImmutableArray(path);
    }

    public long LeafIndex { get; }

    public long TreeSize { get; }

    public ImmutableArray<Hash256> Path { get; }

    /// <summary>Binary form: see <see cref="HistoryProofEncoding"/> (a = leaf index, b = tree size).</summary>
    public byte[] Encode() => HistoryProofEncoding.Encode(LeafIndex, TreeSize, Path.AsSpan());

    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out InclusionProof? proof)
    {
        proof = HistoryProofEncoding.TryDecode(encoded, out var index, out var size, out var path) ? new InclusionProof(index, size, path) : null;
        return proof is not null;
    }

    /// <summary>JSON form: <c>{"version":1,"leafIndex":…,"treeSize":…,"path":["0x…",…]}</c>.</summary>
    public string ToJson() => HistoryProofEncoding.ToJson("leafIndex", LeafIndex, "treeSize", TreeSize, Path.AsSpan());

    public static bool TryParseJson(string json, [NotNullWhen(true)] out InclusionProof? proof)
    {
        proof = HistoryProofEncoding.TryParseJson(json, "leafIndex", "treeSize", out var index, out var size, out var path) ? new InclusionProof(index, size, path) : null;
        return proof is not null;
    }

    /// <summary>Checks this proof for <paramref name="leafHash"/> against the root of a tree of <see cref="TreeSize"/>.</summary>
    public bool Verify(in Hash256 leafHash, in Hash256 root) => Verify(leafHash, LeafIndex, TreeSize, Path.AsSpan(), root, CryptoSuite.Eth);

    /// <summary>As <see cref="Verify(in Hash256, in Hash256)"/> for a tree hashed with <paramref name="suite"/>'s history hash.</summary>
    public bool Verify(in Hash256 leafHash, in Hash256 root, CryptoSuite suite) => Verify(leafHash, LeafIndex, TreeSize, Path.AsSpan(), root, suite);

    /// <summary>
    /// The verification algorithm of RFC 9162 §2.1.3.2, needing nothing but hashes and sizes: true when
    /// <paramref name="path"/> proves the leaf with hash <paramref name="leafHash"/> at <paramref name="leafIndex"/>
    /// is in the tree of <paramref name="treeSize"/> leaves whose root is <paramref name="root"/>.
    /// </summary>
    public static bool Verify(in Hash256 leafHash, long leafIndex, long treeSize, ReadOnlySpan<Hash256> path, in Hash256 root)
        => Verify(leafHash, leafIndex, treeSize, path, root, CryptoSuite.Eth);

    /// <summary>RFC 9162 §2.1.3.2 with the history hash of <paramref name="suite"/> (SHA-256 for eth, SM3 for gm).</summary>
    public static bool Verify(in Hash256 leafHash, long leafIndex, long treeSize, ReadOnlySpan<Hash256> path, in Hash256 root, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (leafIndex < 0 || leafIndex >= treeSize)
        {
            return false;
        }

        var fn = leafIndex;
        var sn = treeSize - 1;
        var r = leafHash;
        foreach (ref readonly var p in path)
        {
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = suite.HistoryNodeHash(p, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                r = suite.HistoryNodeHash(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && r == root;
    }
}
