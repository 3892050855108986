namespace SmartCity.Ledger.Node.Tests;

/// <summary>
/// When a node over its memory budget collects: past the mark (13/16 of the limit), at most every interval and only once
/// the process has grown by the slack (1/16) since the last collection ended; past 7/8 sooner. And the caches' share:
/// less after a collection that ended past the target (5/8), back by an eighth an interval once well under it.
/// </summary>
public sealed class MemoryBudgetTests
{
    private const long MiB = 1L << 20;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    [Fact]
    public void Below_the_mark_nothing_happens_and_past_it_the_first_sample_collects()
    {
        var budget = new MemoryBudget(1024 * MiB, Interval);

        Assert.Equal((832 * MiB, 896 * MiB, 640 * MiB, 64 * MiB), (budget.MarkBytes, budget.UrgentBytes, budget.TargetBytes, budget.SlackBytes));
        Assert.Equal(TimeSpan.FromMilliseconds(250), budget.UrgentInterval);
        Assert.Equal(1, budget.CacheShare);
        Assert.Equal(MemoryAction.None, budget.Decide(0, TimeSpan.Zero));
        Assert.Equal(MemoryAction.None, budget.Decide((832 * MiB) - 1, TimeSpan.Zero));
        Assert.Equal(MemoryAction.Collect, budget.Decide(832 * MiB, TimeSpan.Zero));
        Assert.Equal(MemoryAction.Collect, budget.Decide(5000 * MiB, TimeSpan.Zero));
    }

    [Fact]
    public void After_a_collection_the_next_waits_for_the_interval_and_for_growth_worth_reclaiming()
    {
        var budget = new MemoryBudget(1024 * MiB, Interval);
        budget.Collected(700 * MiB, TimeSpan.FromSeconds(10));

        // Past the mark and grown by the slack, but within the interval: not yet.
        Assert.Equal(MemoryAction.None, budget.Decide(850 * MiB, TimeSpan.FromSeconds(11)));

        // After the interval: it collects once grown by the slack since the last one ended, here from 700 MiB.
        Assert.Equal(MemoryAction.Collect, budget.Decide(850 * MiB, TimeSpan.FromSeconds(12)));

        // A collection that ended at 820 MiB (under the mark): the next needs 884 MiB.
        budget.Collected(820 * MiB, TimeSpan.FromSeconds(12));
        Assert.Equal(MemoryAction.None, budget.Decide(883 * MiB, TimeSpan.FromSeconds(20)));
        Assert.Equal(MemoryAction.Collect, budget.Decide(884 * MiB, TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public void A_collection_that_ends_past_the_target_gives_the_caches_less_and_memory_well_under_it_gives_it_back()
    {
        var budget = new MemoryBudget(1024 * MiB, Interval);
        budget.Collected(500 * MiB, TimeSpan.Zero);
        Assert.Equal(1, budget.CacheShare); // under the target: whole

        budget.Collected(700 * MiB, TimeSpan.FromSeconds(2));
        Assert.Equal(0.75, budget.CacheShare); // past the target (640 MiB)
        budget.Collected(850 * MiB, TimeSpan.FromSeconds(4));
        Assert.Equal(0.375, budget.CacheShare); // past the mark itself: half
        budget.Collected(600 * MiB, TimeSpan.FromSeconds(6));
        Assert.Equal(0.375, budget.CacheShare); // between the target and a slack under it: as it is

        // Well under the target (a slack below it, 576 MiB), after a collection or at a sample: an eighth back, once an interval.
        budget.Collected(576 * MiB, TimeSpan.FromSeconds(7));
        Assert.Equal(0.5, budget.CacheShare);
        Assert.Equal(MemoryAction.None, budget.Decide(500 * MiB, TimeSpan.FromSeconds(8)));
        Assert.Equal(0.5, budget.CacheShare); // within the interval of the last change
        Assert.Equal(MemoryAction.None, budget.Decide(577 * MiB, TimeSpan.FromSeconds(9)));
        Assert.Equal(0.5, budget.CacheShare); // not well under
        Assert.Equal(MemoryAction.None, budget.Decide(500 * MiB, TimeSpan.FromSeconds(9)));
        Assert.Equal(0.625, budget.CacheShare);
        for (var s = 11; s < 20; s += 2)
        {
            budget.Decide(100 * MiB, TimeSpan.FromSeconds(s));
        }

        Assert.Equal(1, budget.CacheShare); // whole again, and no more

        // A node whose live memory does not fit: down to a sixteenth, not to nothing.
        for (var s = 20; s < 40; s += 2)
        {
            budget.Collected(1000 * MiB, TimeSpan.FromSeconds(s));
        }

        Assert.Equal(MemoryBudget.MinCacheShare, budget.CacheShare);
    }

    [Fact]
    public void Close_to_the_limit_it_collects_sooner_while_that_can_be_kept()
    {
        var budget = new MemoryBudget(1024 * MiB, Interval);
        budget.Collected(800 * MiB, TimeSpan.FromSeconds(10));

        Assert.Equal(MemoryAction.None, budget.Decide(895 * MiB, TimeSpan.FromSeconds(10.5))); // under 7/8: the interval holds
        Assert.Equal(MemoryAction.None, budget.Decide(1100 * MiB, TimeSpan.FromSeconds(10.1))); // within the urgent interval
        Assert.Equal(MemoryAction.Collect, budget.Decide(896 * MiB, TimeSpan.FromSeconds(10.25)));

        // The last collection ended within the slack of 7/8: collecting at every sample could not keep it.
        budget.Collected(833 * MiB, TimeSpan.FromSeconds(20));
        Assert.Equal(MemoryAction.None, budget.Decide(1100 * MiB, TimeSpan.FromSeconds(20.5)));
        Assert.Equal(MemoryAction.Collect, budget.Decide(1100 * MiB, TimeSpan.FromSeconds(22)));
    }

    [Fact]
    public void A_budget_too_small_to_hold_a_node_or_a_negative_interval_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryBudget(10 * MiB, Interval));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryBudget(1024 * MiB, TimeSpan.FromSeconds(-1)));
    }
}
