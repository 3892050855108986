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

public sealed class Keccak256x8Tests
{
    [Fact]
    public void Hashing_ethers_multi_block_vectors_side_by_side_gives_ethers_hashes()
    {
        // Every vector (lengths 0 to 1000, so lanes of one group end in different blocks) in one call.
        var inputs = EthersVectors.KeccakVectors.Select(v => Convert.FromHexString(v.GetProperty("input").GetString()![2..])).ToArray();
        var (data, starts, lengths) = Concatenate(inputs);
        var outputs = new Hash256[inputs.Length];

        Keccak256x8.HashMany(data, starts, lengths, outputs);

        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(EthersVectors.KeccakVectors[i].GetProperty("hash").GetString(), outputs[i].ToString());
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(65)]
    public void Any_count_of_random_messages_hashes_as_one_at_a_time(int count)
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
            Keccak256x8.HashMany(data, starts, lengths, outputs);
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

    [Fact]
    public void Mismatched_starts_lengths_or_outputs_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Keccak256x8.HashMany(new byte[10], [0, 5], [5], new Hash256[2]));
        Assert.Throws<ArgumentException>(() => Keccak256x8.HashMany(new byte[10], [0, 5], [5, 5], new Hash256[1]));
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
