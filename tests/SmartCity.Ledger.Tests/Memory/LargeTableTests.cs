using System.Runtime.InteropServices;
using SmartCity.Ledger.Memory;

namespace SmartCity.Ledger.Tests.Memory;

public sealed class LargeTableTests
{
    [Fact]
    public void Trimming_gives_the_pages_past_the_entries_in_use_back_to_the_system_and_they_read_zero()
    {
        const int length = 4 << 17; // 4 MiB of longs: two huge pages
        const int inUse = (length / 4) + 3; // not on a page boundary: the entries up to it are zeroed, not unmapped
        var table = new LargeTable<long>(length, releasedByOwner: true);
        table.Slice(0, length).Fill(7);
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(length * 8L, ResidentBytes(table, 0, length));
        }

        table.Trim(inUse);

        if (OperatingSystem.IsLinux())
        {
            // Every whole page past the entries in use is gone from memory (checked before reading them back).
            var firstWholePage = ((inUse * 8) + 4095) / 4096 * 4096 / 8;
            Assert.Equal(0, ResidentBytes(table, firstWholePage, length - firstWholePage));
            Assert.Equal(firstWholePage * 8L, ResidentBytes(table, 0, firstWholePage));
        }

        Assert.True(table.Slice(0, inUse).IndexOfAnyExcept(7L) < 0);
        Assert.True(table.Slice(inUse, length - inUse).IndexOfAnyExcept(0L) < 0);
        Assert.False(table.TryGrow(length * 2)); // a trimmed table does not grow

        // In use again: written entries come back, the rest still read zero.
        table.Trim(length);
        table[length - 1] = 9;
        Assert.Equal(9, table[length - 1]);
        Assert.Equal(0, table[length - 2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => table.Trim(length + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => table.Trim(-1));
        table.Dispose();
    }

    // The bytes of entries [start, start + count) whose pages are resident (mincore(2)); start on a page boundary.
    private static long ResidentBytes(LargeTable<long> table, int start, int count)
    {
        var pages = ((count * 8L) + 4095) / 4096;
        var vector = new byte[pages];
        Assert.Equal(0, MinCore(ref MemoryMarshal.AsBytes(table.Slice(start, count))[0], (nuint)(count * 8L), vector));
        return vector.Count(page => (page & 1) != 0) * 4096L;
    }

    [DllImport("libc", EntryPoint = "mincore")]
    private static extern int MinCore(ref byte address, nuint length, byte[] vector);

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

    [Fact]
    public void A_table_with_a_reserve_grows_in_place_keeping_its_entries_and_zeroing_the_new_ones()
    {
        const int length = 3 << 17; // 3 MiB of longs: a huge page and a half
        var table = new LargeTable<long>(length, releasedByOwner: true, reserve: length * 8);
        for (var i = 0; i < length; i += 509)
        {
            table[i] = i + 1;
        }

        ref var first = ref table[509];
        var before = table.Slice(0, length).ToArray();

        Assert.True(table.TryGrow(length * 2));
        Assert.Equal(length * 2, table.Length);
        Assert.Equal(before, table.Slice(0, length).ToArray()); // the old entries stay where they were
        Assert.True(table.Slice(length, length).IndexOfAnyExcept(0L) < 0); // the new ones are zero
        first = -5; // a ref taken before the growth still points into the table
        Assert.Equal(-5, table[509]);
        table[(length * 2) - 1] = 9;

        Assert.True(table.TryGrow(length * 8)); // up to the reserve
        Assert.Equal(9, table[(length * 2) - 1]);
        Assert.Equal(0, table[(length * 8) - 1]);

        // Past the reserve, or smaller: refused, nothing changed.
        Assert.False(table.TryGrow((length * 8) + 1));
        Assert.False(table.TryGrow(length));
        Assert.Equal(length * 8, table.Length);
        table.Dispose();
    }

    [Fact]
    public void A_table_without_a_reserve_does_not_grow_in_place()
    {
        var table = new LargeTable<int>(1024);

        Assert.False(table.TryGrow(2048));
        Assert.Equal(1024, table.Length);
        Assert.Throws<IndexOutOfRangeException>(() => table[1024]);
    }
}
