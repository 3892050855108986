using Microsoft.Extensions.Logging.Abstractions;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>
/// The governor acts on what its budget decides: a real full collection (the runtime's count of them goes up), the
/// caches resized to the share the budget gives them, and its account of what it did; started, it samples on its own
/// thread until disposed.
/// </summary>
public sealed class MemoryGovernorTests
{
    private const long MiB = 1L << 20;

    [Fact]
    public void A_sample_past_the_mark_runs_a_full_collection_and_the_caches_get_the_share_the_budget_gives_them()
    {
        var time = new ManualTime();
        var resident = new Queue<long>([900 * MiB, 900 * MiB, 700 * MiB, 990 * MiB, 800 * MiB, 500 * MiB]);
        var shares = new List<double>();
        var governor = new MemoryGovernor(new MemoryBudget(1024 * MiB, TimeSpan.FromSeconds(2)), shares.Add, NullLogger.Instance, time, resident.Dequeue);

        // Past the mark: a full collection, which ended at 900 MiB, past the mark still: the caches get half.
        var full = GC.CollectionCount(2);
        Assert.Equal(MemoryAction.Collect, governor.Sample());
        Assert.True(GC.CollectionCount(2) > full);
        Assert.Equal((1, 1, 0.5), (governor.Collections, governor.CacheShrinks, governor.CacheShare));
        Assert.Equal([0.5], shares);

        // A second on, 700 MiB: nothing; two seconds on, 990 MiB: a collection that ends at 800, past the target (640).
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(MemoryAction.None, governor.Sample());
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(MemoryAction.Collect, governor.Sample());
        Assert.Equal([0.5, 0.375], shares);

        // Well under the target an interval later: an eighth back, without a collection.
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(MemoryAction.None, governor.Sample());
        Assert.Equal([0.5, 0.375, 0.5], shares);
        Assert.Equal((2, 2, 0.5), (governor.Collections, governor.CacheShrinks, governor.CacheShare));
        Assert.Equal(990 * MiB, governor.LargestSample);
        Assert.StartsWith("memory budget 1,024 MiB: 2 collections past 832 MiB (", governor.Describe(), StringComparison.Ordinal);
        Assert.EndsWith("caches shrunk 2 times (at 50 % of their size at the end), largest sample 990 MiB", governor.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Started_it_samples_on_its_own_thread_until_disposed()
    {
        var samples = 0;
        // Each sample reads 4 GiB and, after its collection, 100 MiB: past the mark and grown again at every sample.
        var governor = new MemoryGovernor(new MemoryBudget(256 * MiB, TimeSpan.Zero), resizeCaches: null, NullLogger.Instance, residentBytes: () =>
            Interlocked.Increment(ref samples) % 2 == 1 ? 4096 * MiB : 100 * MiB).Start(TimeSpan.FromMilliseconds(5));

        await Eventually.HoldsAsync(() => governor.Collections >= 3);

        await governor.DisposeAsync();
        var collections = governor.Collections;
        var sampled = Volatile.Read(ref samples);
        Assert.True(collections >= 3, $"{collections} collections");

        await Task.Delay(50);
        Assert.Equal((collections, sampled), (governor.Collections, Volatile.Read(ref samples))); // stopped
    }

    [Fact]
    public async Task A_sample_that_fails_is_logged_and_the_next_one_still_runs()
    {
        var calls = 0;
        var logger = new RecordingLogger();
        var governor = new MemoryGovernor(new MemoryBudget(256 * MiB, TimeSpan.Zero), resizeCaches: null, logger, residentBytes: () =>
            Interlocked.Increment(ref calls) == 1 ? throw new IOException("/proc is gone") : 100 * MiB).Start(TimeSpan.FromMilliseconds(5));

        await Eventually.HoldsAsync(() => Volatile.Read(ref calls) >= 3);

        await governor.DisposeAsync();
        await governor.DisposeAsync(); // twice: nothing more
        Assert.True(Volatile.Read(ref calls) >= 3, $"{calls} samples");
        Assert.Contains(logger.Entries, e => e.Event.Id == 3033 && e.Exception is IOException);
        Assert.Equal(0, governor.Collections); // 100 MiB: under the mark
    }
}
