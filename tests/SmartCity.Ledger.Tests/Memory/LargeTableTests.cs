using SmartCity.Ledger.Memory;

namespace SmartCity.Ledger.Tests.Memory;

public sealed class LargeTableTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(3 << 19)] // 12 MiB of longs: several huge pages and a tail
    public void A_new_table_is_zeroed_and_keeps_what_is_written_at_every_entry(int length)
    {
        var table = new LargeTable<long>(length);

        Assert.Equal(length, table.Length);
        Assert.True(table.Slice(0, length).IndexOfAnyExcept(0L) < 0);
        for (var i = 0; i < length; i += 4093)
        {
            table[i] = i + 1;
        }

        table[length - 1] = -7;
        for (var i = 0; i < length - 1; i += 4093)
        {
            Assert.Equal(i + 1, table[i]);
        }

        Assert.Equal(-7, table[length - 1]);
        Assert.Equal(-7, table.Slice(length - 1, 1)[0]);
    }

    [Fact]
    public void Entries_and_slices_outside_the_table_are_refused()
    {
        var table = new LargeTable<int>(16);

        Assert.Throws<IndexOutOfRangeException>(() => table[16]);
        Assert.Throws<IndexOutOfRangeException>(() => table[-1]);
        Assert.Throws<IndexOutOfRangeException>(() => table.Slice(10, 7));
        Assert.Throws<IndexOutOfRangeException>(() => table.Slice(17, 0));
        Assert.Equal(0, table.Slice(16, 0).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LargeTable<int>(0));
        table.Prefetch(16, 4); // a hint outside the table is ignored, never a fault
    }
}
