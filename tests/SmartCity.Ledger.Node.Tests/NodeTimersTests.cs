using System.Diagnostics;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>The stage timers: sampled stages count every item and scale the timed runs' totals to them.</summary>
public sealed class NodeTimersTests
{
    [Fact]
    public void A_thread_times_one_sampled_run_in_each_window()
    {
        var timed = Enumerable.Range(0, NodeTimers.SampleEvery * 5).Count(_ => !NodeTimers.StartSampled().IsUntimed);

        Assert.Equal(5, timed);
    }

    [Fact]
    public void Sampled_totals_are_scaled_to_every_item()
    {
        var timers = new NodeTimers();
        var second = Stopwatch.Frequency;
        var thread = Environment.CurrentManagedThreadId;

        // One timed run of one item that took a second of wall time and allocated 1,000 bytes, three untimed runs.
        timers.Add(NodeStage.Decode, new StageClock(Stopwatch.GetTimestamp() - second, -1, thread, GC.GetAllocatedBytesForCurrentThread() - 1_000));
        for (var i = 0; i < 3; i++)
        {
            timers.Add(NodeStage.Decode, StageClock.Untimed);
        }

        Assert.Equal(4, timers.Items(NodeStage.Decode));
        Assert.InRange(timers.Elapsed(NodeStage.Decode).TotalSeconds, 4.0, 4.5);
        Assert.InRange(timers.Allocated(NodeStage.Decode), 4_000, 4_500);

        // A stage whose every run is timed is reported as measured; a reset forgets the sampling too.
        timers.Add(NodeStage.Build, new StageClock(Stopwatch.GetTimestamp() - second, -1, thread, GC.GetAllocatedBytesForCurrentThread()), items: 10);
        Assert.InRange(timers.Elapsed(NodeStage.Build).TotalSeconds, 1.0, 1.5);
        timers.Reset();
        timers.Add(NodeStage.Decode, StageClock.Untimed);
        Assert.Equal(1, timers.Items(NodeStage.Decode));
        Assert.Equal(TimeSpan.Zero, timers.Elapsed(NodeStage.Decode));
    }
}
