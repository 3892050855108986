using System.Security.Cryptography;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.Proofs;

/// <summary>
/// MTH, PATH and PROOF transcribed from the recursive definitions of RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, over
/// the leaf data itself: slow and obviously right, the yardstick for <c>HistoryTree</c>. H is SHA-256 for the eth suite
/// and SM3 for the gm suite, both taken from other libraries (.NET's SHA256, BouncyCastle's SM3Digest) than the
/// project's <c>CryptoSuite</c>.
/// </summary>
internal static class Rfc9162Reference
{
    public static Hash256 Mth(CryptoSuiteId h, IReadOnlyList<byte[]> d, int start, int end)
    {
        var n = end - start;
        if (n == 0)
        {
            return H(h, []);
        }

        if (n == 1)
        {
            return H(h, [0x00, .. d[start]]);
        }

        var k = K(n);
        return Node(h, Mth(h, d, start, start + k), Mth(h, d, start + k, end));
    }

    public static List<Hash256> Path(CryptoSuiteId h, int m, IReadOnlyList<byte[]> d, int start, int end)
    {
        var n = end - start;
        if (n == 1)
        {
            return [];
        }

        var k = K(n);
        if (m < k)
        {
            return [.. Path(h, m, d, start, start + k), Mth(h, d, start + k, end)];
        }

        return [.. Path(h, m - k, d, start + k, end), Mth(h, d, start, start + k)];
    }

    public static List<Hash256> Proof(CryptoSuiteId h, int m, IReadOnlyList<byte[]> d, int n) => SubProof(h, m, d, 0, n, true);

    private static List<Hash256> SubProof(CryptoSuiteId h, int m, IReadOnlyList<byte[]> d, int start, int end, bool b)
    {
        var n = end - start;
        if (m == n)
        {
            return b ? [] : [Mth(h, d, start, end)];
        }

        var k = K(n);
        if (m <= k)
        {
            return [.. SubProof(h, m, d, start, start + k, b), Mth(h, d, start + k, end)];
        }

        return [.. SubProof(h, m - k, d, start + k, end, false), Mth(h, d, start, start + k)];
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

    private static Hash256 Node(CryptoSuiteId h, Hash256 left, Hash256 right) => H(h, [0x01, .. left.Bytes, .. right.Bytes]);

    private static Hash256 H(CryptoSuiteId h, byte[] data)
    {
        if (h == CryptoSuiteId.Eth)
        {
            return new Hash256(SHA256.HashData(data));
        }

        var sm3 = new Org.BouncyCastle.Crypto.Digests.SM3Digest();
        sm3.BlockUpdate(data);
        var output = new byte[32];
        sm3.DoFinal(output);
        return new Hash256(output);
    }
}
