using System.Security.Cryptography;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.Proofs;

/// <summary>
/// MTH, PATH and PROOF transcribed from the recursive definitions of RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, over
/// the leaf data itself: slow and obviously right, the yardstick for <c>HistoryTree</c>.
/// </summary>
internal static class Rfc9162Reference
{
    public static Hash256 Mth(IReadOnlyList<byte[]> d, int start, int end)
    {
        var n = end - start;
        if (n == 0)
        {
            return new Hash256(SHA256.HashData([]));
        }

        if (n == 1)
        {
            return new Hash256(SHA256.HashData([0x00, .. d[start]]));
        }

        var k = K(n);
        return Node(Mth(d, start, start + k), Mth(d, start + k, end));
    }

    public static List<Hash256> Path(int m, IReadOnlyList<byte[]> d, int start, int end)
    {
        var n = end - start;
        if (n == 1)
        {
            return [];
        }

        var k = K(n);
        if (m < k)
        {
            return [.. Path(m, d, start, start + k), Mth(d, start + k, end)];
        }

        return [.. Path(m - k, d, start + k, end), Mth(d, start, start + k)];
    }

    public static List<Hash256> Proof(int m, IReadOnlyList<byte[]> d, int n) => SubProof(m, d, 0, n, true);

    private static List<Hash256> SubProof(int m, IReadOnlyList<byte[]> d, int start, int end, bool b)
    {
        var n = end - start;
        if (m == n)
        {
            return b ? [] : [Mth(d, start, end)];
        }

        var k = K(n);
        if (m <= k)
        {
            return [.. SubProof(m, d, start, start + k, b), Mth(d, start + k, end)];
        }

        return [.. SubProof(m - k, d, start + k, end, false), Mth(d, start, start + k)];
    }

    /// <summary>The largest power of two smaller than n.</summary>
    private static int K(int n)
    {
        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }

    private static Hash256 Node(Hash256 left, Hash256 right) => new(SHA256.HashData([0x01, .. left.Bytes, .. right.Bytes]));
}
