using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Proofs;

/// <summary>
/// An RFC 9162 §2.1.4 consistency proof: the history tree of <see cref="FirstSize"/> leaves is a prefix of the tree of
/// <see cref="SecondSize"/> leaves, so nothing certified at the first size was rewritten by the second.
/// </summary>
public sealed class ConsistencyProof
{
    public ConsistencyProof(long firstSize, long secondSize, Hash256[] path)
    {
        FirstSize = firstSize;
        SecondSize = secondSize;
        Path = ImmutableCollectionsMarshal.AsImmutableArray(path);
    }

    public long FirstSize { get; }

    public long SecondSize { get; }

    public ImmutableArray<Hash256> Path { get; }

    /// <summary>Binary form: see <see cref="HistoryProofEncoding"/> (a = first size, b = second size).</summary>
    public byte[] Encode() => HistoryProofEncoding.Encode(FirstSize, SecondSize, Path.AsSpan());

    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out ConsistencyProof? proof)
    {
        proof = HistoryProofEncoding.TryDecode(encoded, out var first, out var second, out var path) ? new ConsistencyProof(first, second, path) : null;
        return proof is not null;
    }

    /// <summary>JSON form: <c>{"version":1,"firstSize":…,"secondSize":…,"path":["0x…",…]}</c>.</summary>
    public string ToJson() => HistoryProofEncoding.ToJson("firstSize", FirstSize, "secondSize", SecondSize, Path.AsSpan());

    public static bool TryParseJson(string json, [NotNullWhen(true)] out ConsistencyProof? proof)
    {
        proof = HistoryProofEncoding.TryParseJson(json, "firstSize", "secondSize", out var first, out var second, out var path) ? new ConsistencyProof(first, second, path) : null;
        return proof is not null;
    }

    /// <summary>Checks this proof against the two roots.</summary>
    public bool Verify(in Hash256 firstRoot, in Hash256 secondRoot) => Verify(FirstSize, SecondSize, firstRoot, secondRoot, Path.AsSpan(), CryptoSuite.Eth);

    /// <summary>As <see cref="Verify(in Hash256, in Hash256)"/> for trees hashed with <paramref name="suite"/>'s history hash.</summary>
    public bool Verify(in Hash256 firstRoot, in Hash256 secondRoot, CryptoSuite suite) => Verify(FirstSize, SecondSize, firstRoot, secondRoot, Path.AsSpan(), suite);

    /// <summary>
    /// The verification algorithm of RFC 9162 §2.1.4.2, needing nothing but hashes and sizes. The RFC defines
    /// proofs for 0 &lt; first &lt; second; the two degenerate cases are settled here as PROOF produces them: an
    /// empty proof shows any tree extends the empty tree (first = 0, whose root must be H("")), and shows a
    /// tree is consistent with itself (first = second, equal roots).
    /// </summary>
    public static bool Verify(long first, long second, in Hash256 firstRoot, in Hash256 secondRoot, ReadOnlySpan<Hash256> path)
        => Verify(first, second, firstRoot, secondRoot, path, CryptoSuite.Eth);

    /// <summary>RFC 9162 §2.1.4.2 with the history hash of <paramref name="suite"/> (the empty root is H("") of that hash).</summary>
    public static bool Verify(long first, long second, in Hash256 firstRoot, in Hash256 secondRoot, ReadOnlySpan<Hash256> path, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (first < 0 || second < first)
        {
            return false;
        }

        if (first == 0)
        {
            return path.IsEmpty && firstRoot == suite.EmptyHistoryRoot;
        }

        if (first == second)
        {
            return path.IsEmpty && firstRoot == secondRoot;
        }

        if (path.IsEmpty)
        {
            return false;
        }

        // Step 2: when first is a power of two, its root is the proof's implicit first element.
        var isPowerOfTwo = (first & (first - 1)) == 0;
        var seed = isPowerOfTwo ? firstRoot : path[0];
        var rest = isPowerOfTwo ? path : path[1..];

        var fn = first - 1;
        var sn = second - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        var fr = seed;
        var sr = seed;
        foreach (ref readonly var c in rest)
        {
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                fr = suite.HistoryNodeHash(c, fr);
                sr = suite.HistoryNodeHash(c, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                sr = suite.HistoryNodeHash(sr, c);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && fr == firstRoot && sr == secondRoot;
    }
}
