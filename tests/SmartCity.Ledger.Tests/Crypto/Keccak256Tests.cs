using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.Crypto;

public sealed class Keccak256Tests
{
    // Known answers: Keccak-256 of "" and "abc" as published with the Keccak reference implementation and used
    // across Ethereum clients (e.g. the empty-code hash c5d2…a470 of the Ethereum Yellow Paper).
    [Theory]
    [InlineData("", "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")]
    [InlineData("abc", "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")]
    public void Hash_of_ascii_text_matches_the_published_value(string text, string expected)
        => Assert.Equal(expected, Keccak256.Hash(Encoding.ASCII.GetBytes(text)).ToString());

    [Fact]
    public void Keccak_256_differs_from_sha3_256()
        => Assert.NotEqual(
            Convert.ToHexStringLower(System.Security.Cryptography.SHA3_256.IsSupported ? System.Security.Cryptography.SHA3_256.HashData([]) : new byte[32]),
            Convert.ToHexStringLower(Keccak256.Hash([]).Bytes));

    [Fact]
    public void Address_text_is_eip55_checksummed_and_a_wrong_checksum_is_rejected()
    {
        // EIP-55's own examples.
        const string Checksummed = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        var address = Address.Parse(Checksummed.ToLowerInvariant());
        Assert.Equal(Checksummed, address.ToString());
        Assert.True(Address.TryParse(Checksummed, out _, out _));
        Assert.False(Address.TryParse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", out _, out var error));
        Assert.Contains("checksum", error, StringComparison.Ordinal);
    }
}

public sealed class Keccak256MultiBlockTests
{
    public static TheoryData<int> Indexes => [.. Enumerable.Range(0, EthersVectors.KeccakVectors.Count)];

    // Lengths 0 to 1000 around the 136-byte rate (135, 136, 137, 271, 272, 273 …), hashed by ethers' keccak256.
    [Theory]
    [MemberData(nameof(Indexes))]
    public void Hash_of_multi_block_input_matches_ethers(int index)
    {
        var vector = EthersVectors.KeccakVectors[index];
        var input = Convert.FromHexString(vector.GetProperty("input").GetString()![2..]);
        Assert.Equal(vector.GetProperty("hash").GetString(), Keccak256.Hash(input).ToString());
    }
}

public sealed class Keccak256ManyTests
{
    /// <summary>
    /// The lane widths this machine runs: 8 (AVX-512) and 4 (AVX2) where it has them, and 0, whatever it picks (one at
    /// a time on neither). A width the machine lacks is not listed, so the test count says which widths were checked.
    /// </summary>
    public static TheoryData<int> Widths => [.. SupportedWidths];

    private static IEnumerable<int> SupportedWidths =>
        new[] { (8, Avx512F.IsSupported), (4, Avx2.IsSupported), (0, true) }.Where(w => w.Item2).Select(w => w.Item1);

    [Theory]
    [MemberData(nameof(Widths))]
    public void Hashing_ethers_multi_block_vectors_side_by_side_gives_ethers_hashes(int width)
    {
        // Every vector (lengths 0 to 1000, so lanes of one group end in different blocks) in one call.
        var inputs = EthersVectors.KeccakVectors.Select(v => Convert.FromHexString(v.GetProperty("input").GetString()![2..])).ToArray();
        var (data, starts, lengths) = Concatenate(inputs);
        var outputs = new Hash256[inputs.Length];

        HashMany(width, data, starts, lengths, outputs);

        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(EthersVectors.KeccakVectors[i].GetProperty("hash").GetString(), outputs[i].ToString());
        }
    }

    /// <summary>Each width with counts around its group size: one message, part of a group, whole groups and a remainder.</summary>
    public static TheoryData<int, int> WidthsAndCounts
    {
        get
        {
            var data = new TheoryData<int, int>();
            foreach (var width in SupportedWidths)
            {
                foreach (var count in new[] { 1, 3, 4, 5, 7, 8, 9, 65 })
                {
                    data.Add(width, count);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(WidthsAndCounts))]
    public void Any_count_of_random_messages_hashes_as_one_at_a_time(int width, int count)
    {
        var random = new Random(count);
        for (var round = 0; round < 50; round++)
        {
            var inputs = new byte[count][];
            for (var i = 0; i < count; i++)
            {
                inputs[i] = new byte[random.Next(4) == 0 ? random.Next(0, 700) : 65];
                random.NextBytes(inputs[i]);
            }

            var (data, starts, lengths) = Concatenate(inputs);
            var outputs = new Hash256[count];
            HashMany(width, data, starts, lengths, outputs);
            var suiteOutputs = new Hash256[count];
            CryptoSuite.Eth.HashMany(data, starts, lengths, suiteOutputs);

            for (var i = 0; i < count; i++)
            {
                Assert.Equal(Keccak256.Hash(inputs[i]), outputs[i]);
                Assert.Equal(outputs[i], suiteOutputs[i]);
            }
        }
    }

    [Fact]
    public void The_gm_suite_hashes_many_messages_with_sm3_one_by_one()
    {
        var inputs = new[] { "abc"u8.ToArray(), new byte[200], Array.Empty<byte>() };
        var (data, starts, lengths) = Concatenate(inputs);
        var outputs = new Hash256[inputs.Length];

        CryptoSuite.Gm.HashMany(data, starts, lengths, outputs);

        Assert.Equal([.. inputs.Select(i => CryptoSuite.Gm.Hash(i))], outputs);
        Assert.NotEqual(CryptoSuite.Eth.Hash(inputs[0]), outputs[0]);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Mismatched_starts_lengths_or_outputs_are_refused(int width)
    {
        Assert.Throws<ArgumentException>(() => HashMany(width, new byte[10], [0, 5], [5], new Hash256[2]));
        Assert.Throws<ArgumentException>(() => HashMany(width, new byte[10], [0, 5], [5, 5], new Hash256[1]));
    }

    [Fact]
    public void The_machine_hashes_with_the_widest_lanes_it_has()
    {
        var expected = Avx512F.IsSupported ? 8 : Avx2.IsSupported ? 4 : 1;
        Assert.Equal(expected, Keccak256Many.Lanes);
        Assert.Equal(expected > 1, Keccak256Many.IsAccelerated);
    }

    [Fact]
    public void A_width_the_machine_lacks_is_refused_not_faked()
    {
        if (!Avx512F.IsSupported)
        {
            Assert.Throws<PlatformNotSupportedException>(() => Keccak256Many.HashMany<Avx512Lanes, Vector512<ulong>>(new byte[2], [0, 1], [1, 1], new Hash256[2]));
        }

        if (!Avx2.IsSupported)
        {
            Assert.Throws<PlatformNotSupportedException>(() => Keccak256Many.HashMany<Avx2Lanes, Vector256<ulong>>(new byte[2], [0, 1], [1, 1], new Hash256[2]));
        }

        Assert.Contains(Keccak256Many.Lanes, new[] { 1, 4, 8 });
    }

    private static void HashMany(int width, byte[] data, int[] starts, int[] lengths, Hash256[] outputs)
    {
        switch (width)
        {
            case 8:
                Keccak256Many.HashMany<Avx512Lanes, Vector512<ulong>>(data, starts, lengths, outputs);
                break;
            case 4:
                Keccak256Many.HashMany<Avx2Lanes, Vector256<ulong>>(data, starts, lengths, outputs);
                break;
            default:
                Keccak256Many.HashMany(data, starts, lengths, outputs);
                break;
        }
    }

    private static (byte[] Data, int[] Starts, int[] Lengths) Concatenate(byte[][] inputs)
    {
        var starts = new int[inputs.Length];
        var lengths = new int[inputs.Length];
        var total = 0;
        for (var i = 0; i < inputs.Length; i++)
        {
            starts[i] = total;
            lengths[i] = inputs[i].Length;
            total += inputs[i].Length;
        }

        var data = new byte[total];
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i].CopyTo(data, starts[i]);
        }

        return (data, starts, lengths);
    }
}
