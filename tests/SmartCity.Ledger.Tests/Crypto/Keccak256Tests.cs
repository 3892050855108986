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
