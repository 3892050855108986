using System.Text;
using SmartCity.Ledger.Crypto.Gm;

namespace SmartCity.Ledger.Tests.Crypto.Gm;

/// <summary>SM3 against GB/T 32905-2016 Annex A (also GM/T 0004-2012 Annex A), on both paths.</summary>
public sealed class Sm3Tests
{
    public static TheoryData<string> Paths => Sm2Implementations.Both;

    [Theory]
    [MemberData(nameof(Paths))]
    public void Hashes_the_standards_first_example_abc(string path)
        => Assert.Equal("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0", Convert.ToHexStringLower(Sm2Implementations.Sm3Of(path, "abc"u8)));

    [Theory]
    [MemberData(nameof(Paths))]
    public void Hashes_the_standards_second_example_of_512_bits_abcd_sixteen_times(string path)
        => Assert.Equal(
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732",
            Convert.ToHexStringLower(Sm2Implementations.Sm3Of(path, Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("abcd", 16))))));

    [Fact]
    public void Native_and_managed_agree_across_block_boundaries()
    {
        var random = new Random(3290);
        foreach (var length in new[] { 0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000, 4096 })
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(Sm2Implementations.Sm3Of(Sm2Implementations.Managed, data), Sm2Implementations.Sm3Of(Sm2Implementations.Native, data));
            Assert.Equal(Sm2Implementations.Sm3Of(Sm2Implementations.Managed, data), Sm3.Hash(data).Bytes.ToArray());
        }
    }
}
