using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.Crypto;

public sealed class Hash256OrderTests
{
    [Fact]
    public void Hashes_order_as_their_bytes_do_whichever_byte_first_differs()
    {
        var random = new Random(9162);
        var bytes = new byte[32];
        for (var i = 0; i < 20_000; i++)
        {
            random.NextBytes(bytes);
            var left = new Hash256(bytes);

            // The same bytes up to a random position, then one byte changed (or none: equal hashes).
            var position = random.Next(33);
            if (position < 32)
            {
                bytes[position] = (byte)random.Next(256);
            }

            var right = new Hash256(bytes);
            var expected = Math.Sign(left.Bytes.SequenceCompareTo(right.Bytes));

            Assert.Equal(expected, Math.Sign(left.CompareTo(right)));
            Assert.Equal(-expected, Math.Sign(right.CompareTo(left)));
            Assert.Equal(expected < 0, left < right);
        }
    }

    [Fact]
    public void The_first_byte_is_the_most_significant()
    {
        var high = Hash256.Parse("0x0100000000000000000000000000000000000000000000000000000000000000");
        var low = Hash256.Parse("0x00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
        var lastByte = Hash256.Parse("0x0000000000000000000000000000000000000000000000000000000000000001");

        Assert.True(low < high);
        Assert.True(lastByte < low);
        Assert.True(Hash256.Zero < lastByte);
        Assert.Equal(0, high.CompareTo(Hash256.Parse(high.ToString())));
    }
}
