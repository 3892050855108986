namespace SmartCity.Ledger.Node.Tests;

/// <summary>
/// When a node over its memory budget collects: past the mark (7/8 of the limit), at most every interval and only once
/// the process has grown by the slack (1/16) since the last collection ended; at the limit itself sooner; the caches
/// let go first when the last collection did not get under the mark.
/// </summary>
public sealed class MemoryBudgetTests
{
    private const long MiB = 1L << 20;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    [Fact]
    public void Below_the_mark_nothing_happens_and_past_it_the_first_sample_collects()
    {
        var budget = new MemoryBudget(1024 * MiB, Interval);

        Assert.Equal((896 * MiB, 64 * MiB, TimeSpan.FromMilliseconds(250)), (budget.MarkBytes, budget.SlackBytes, budget.UrgentInterval));
        Assert.Equal(MemoryAction.None, budget.Decide(0, TimeSpan.Zero));
        Assert.Equal(MemoryAction.None, budget.Decide((896 * MiB) - 1, TimeSpan.Zero));
        Assert.Equal(MemoryAction.Collect, budget.Decide(896 * MiB, TimeSpan.Zero));
        Assert.Equal(MemoryAction.Collect, budget.Decide(5000 * MiB, TimeSpan.Zero));
    }

    [Fact]
    public void After_a_collection_the_next_waits_for_the_interval_and_for_growth_worth_reclaiming()
    {
        var budget = new MemoryBudget(1024 * MiB, Interval);
        budget.Collected(700 * MiB, TimeSpan.FromSeconds(10));

        // Past the mark and grown by the slack, but within the interval: not yet.
        Assert.Equal(MemoryAction.None, budget.Decide(900 * MiB, TimeSpan.FromSeconds(11)));

        // After the interval: it collects once grown by the slack since the last one ended, here from 700 MiB.
        Assert.Equal(MemoryAction.Collect, budget.Decide(900 * MiB, TimeSpan.FromSeconds(12)));

        // A collection that ended at 880 MiB (under the mark): the next needs 944 MiB.
        budget.Collected(880 * MiB, TimeSpan.FromSeconds(12));
        Assert.Equal(MemoryAction.None, budget.Decide(943 * MiB, TimeSpan.FromSeconds(20)));
        Assert.Equal(MemoryAction.Collect, budget.Decide(944 * MiB, TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public void When_a_collection_alone_ended_past_the_mark_the_caches_let_go_before_the_next()
    {
        var budget = new MemoryBudget(1024 * MiB, Interval);
        budget.Collected(900 * MiB, TimeSpan.Zero);

        Assert.Equal(MemoryAction.None, budget.Decide(960 * MiB, TimeSpan.FromSeconds(3))); // grown by less than the slack
        Assert.Equal(MemoryAction.ShedAndCollect, budget.Decide(964 * MiB, TimeSpan.FromSeconds(3)));

        budget.Collected(700 * MiB, TimeSpan.FromSeconds(3));
        Assert.Equal(MemoryAction.Collect, budget.Decide(900 * MiB, TimeSpan.FromSeconds(6)));
    }

    [Fact]
    public void At_the_limit_itself_it_collects_sooner_while_the_limit_can_be_kept()
    {
        var budget = new MemoryBudget(1024 * MiB, Interval);
        budget.Collected(800 * MiB, TimeSpan.FromSeconds(10));

        Assert.Equal(MemoryAction.None, budget.Decide(1023 * MiB, TimeSpan.FromSeconds(10.5))); // under the limit: the interval holds
        Assert.Equal(MemoryAction.None, budget.Decide(1100 * MiB, TimeSpan.FromSeconds(10.1))); // within the urgent interval
        Assert.Equal(MemoryAction.Collect, budget.Decide(1024 * MiB, TimeSpan.FromSeconds(10.25)));

        // The last collection ended within the slack of the limit: collecting at every sample could not keep it.
        budget.Collected(961 * MiB, TimeSpan.FromSeconds(20));
        Assert.Equal(MemoryAction.None, budget.Decide(1100 * MiB, TimeSpan.FromSeconds(20.5)));
        Assert.Equal(MemoryAction.ShedAndCollect, budget.Decide(1100 * MiB, TimeSpan.FromSeconds(22)));
    }

    [Fact]
    public void A_budget_too_small_to_hold_a_node_or_a_negative_interval_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryBudget(10 * MiB, Interval));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryBudget(1024 * MiB, TimeSpan.FromSeconds(-1)));
    }
}
