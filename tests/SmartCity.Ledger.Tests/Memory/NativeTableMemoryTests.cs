using System.Runtime.CompilerServices;
using SmartCity.Ledger.Memory;

namespace SmartCity.Ledger.Tests.Memory;

/// <summary>
/// The count of the bytes held outside the GC heap (a node's <c>native_tables</c> gauge). Alone in its collection: the
/// count is process-wide, so no other test may make or drop a table while these read it.
/// </summary>
[Collection(nameof(NativeTableMemoryCollection))]
public sealed class NativeTableMemoryTests
{
    [Fact]
    public void A_table_is_counted_at_its_length_as_it_grows_and_uncounted_once_however_often_it_is_released()
    {
        Settle();
        var before = NativeTableMemory.Bytes;

        var table = new LargeTable<long>(1000, releasedByOwner: true, reserve: 4000);
        Assert.Equal(before + 8_000, NativeTableMemory.Bytes);

        Assert.True(table.TryGrow(3000));
        Assert.Equal(before + 24_000, NativeTableMemory.Bytes);
        Assert.False(table.TryGrow(5000)); // past its reserve: refused, nothing counted
        Assert.Equal(before + 24_000, NativeTableMemory.Bytes);

        table.Dispose();
        table.Dispose();
        Assert.Equal(before, NativeTableMemory.Bytes);
    }

    [Fact]
    public void A_trimmed_table_is_counted_at_the_entries_it_keeps_in_use()
    {
        Settle();
        var before = NativeTableMemory.Bytes;

        var table = new LargeTable<long>(1000, releasedByOwner: true);
        table.Trim(250);
        Assert.Equal(before + 2_000, NativeTableMemory.Bytes);
        table.Trim(100);
        Assert.Equal(before + 800, NativeTableMemory.Bytes);
        table.Trim(1000);
        Assert.Equal(before + 8_000, NativeTableMemory.Bytes);

        table.Trim(500);
        table.Dispose(); // released while trimmed: what it counted, no more
        Assert.Equal(before, NativeTableMemory.Bytes);
    }

    [Fact]
    public void A_table_nobody_reaches_is_uncounted_when_its_finalizer_releases_it()
    {
        Settle();
        var before = NativeTableMemory.Bytes;

        var length = MakeAndDrop();
        Assert.True(length > 0);
        Settle();

        Assert.Equal(before, NativeTableMemory.Bytes);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int MakeAndDrop()
    {
        var before = NativeTableMemory.Bytes;
        var table = new LargeTable<int>(1 << 20);
        Assert.Equal(before + (4L << 20), NativeTableMemory.Bytes);
        return table.Length;
    }

    private static void Settle()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }
}

[CollectionDefinition(nameof(NativeTableMemoryCollection), DisableParallelization = true)]
public sealed class NativeTableMemoryCollection;
