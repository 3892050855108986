using System.Buffers.Binary;
using System.Text;
using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.Codec;

/// <summary>
/// The transaction hasher's <c>hashStruct</c> against EIP-712's definition written out by hand: H(typeHash ‖ one
/// 32-byte word per member), a string's word H(UTF-8), a string[]'s H of its strings' hashes. Its string members are
/// hashed together when the struct is, so these cover counts below, at and above a group of lanes, strings between
/// other members, and a hasher reused for a second struct.
/// </summary>
public sealed class Eip712MessageHasherTests
{
    public static TheoryData<int, string> Counts()
    {
        var data = new TheoryData<int, string>();
        foreach (var count in new[] { 0, 1, 3, 4, 5, 8, 9, 17 })
        {
            data.Add(count, "eth");
            data.Add(count, "gm");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Hash_struct_is_the_hash_of_the_type_hash_and_one_word_per_member(int strings, string suiteName)
    {
        var suite = suiteName == "eth" ? CryptoSuite.Eth : CryptoSuite.Gm;
        var random = new Random(strings);
        var texts = Enumerable.Range(0, strings).Select(i => RandomText(random, i)).ToArray();

        var hasher = new Eip712MessageHasher("Sample", suite);
        hasher.String("warmUp", "a struct hashed before, with the same hasher");
        _ = hasher.HashStruct();
        hasher.Reset("Sample", suite);

        var expectedWords = new List<byte[]>();
        var members = new List<string>();
        hasher.UInt64("nonce", 7);
        expectedWords.Add(Integer(7));
        members.Add("uint64 nonce");
        for (var i = 0; i < strings; i++)
        {
            hasher.String($"s{i}", texts[i]);
            expectedWords.Add(suite.Hash(Encoding.UTF8.GetBytes(texts[i])).ToArray());
            members.Add($"string s{i}");
            if (i % 3 == 1)
            {
                hasher.Bool($"b{i}", true);
                expectedWords.Add(Integer(1));
                members.Add($"bool b{i}");
            }
        }

        hasher.StringArray("tags", ["x", "北京"]);
        expectedWords.Add(suite.Hash([.. suite.Hash("x"u8).Bytes, .. suite.Hash(Encoding.UTF8.GetBytes("北京")).Bytes]).ToArray());
        members.Add("string[] tags");

        var encodeType = $"Sample({string.Join(',', members)})";
        var expected = suite.Hash([.. suite.Hash(Encoding.UTF8.GetBytes(encodeType)).Bytes, .. expectedWords.SelectMany(w => w)]);

        Assert.Equal(encodeType, hasher.EncodeType);
        Assert.Equal(expected, hasher.HashStruct());
        Assert.Equal(expected, hasher.HashStruct()); // asking twice gives the same answer
    }

    [Fact]
    public void A_null_string_hashes_as_the_empty_one()
    {
        var withNull = new Eip712MessageHasher("Sample", CryptoSuite.Eth);
        withNull.String("s", null!);
        var withEmpty = new Eip712MessageHasher("Sample", CryptoSuite.Eth);
        withEmpty.String("s", "");

        Assert.Equal(withEmpty.HashStruct(), withNull.HashStruct());
    }

    private static byte[] Integer(ulong value)
    {
        var word = new byte[32];
        BinaryPrimitives.WriteUInt64BigEndian(word.AsSpan(24), value);
        return word;
    }

    // Lengths around Keccak's 136-byte block (one string of several blocks), ASCII and CJK, and the empty string.
    private static string RandomText(Random random, int index) => (index % 4) switch
    {
        0 => "",
        1 => new string((char)('a' + random.Next(26)), random.Next(1, 300)),
        2 => string.Concat(Enumerable.Range(0, random.Next(1, 60)).Select(_ => "京津冀雄"[random.Next(4)])),
        _ => "91110000MA01ABCD2X",
    };
}
