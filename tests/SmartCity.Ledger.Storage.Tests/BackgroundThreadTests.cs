using SmartCity.Ledger.Storage.Embedded;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>The thread the embedded store writes its snapshots on: lower priority, its own thread, errors handed back.</summary>
public sealed class BackgroundThreadTests
{
    [Fact]
    public async Task Work_runs_on_a_background_thread_of_its_own_at_the_raised_nice_value()
    {
        var caller = BackgroundThread.CurrentNice();
        var callerThread = Environment.CurrentManagedThreadId;

        var (nice, thread, background, name) = await BackgroundThread.Run("snapshot-test", 5, () =>
            (BackgroundThread.CurrentNice(), Environment.CurrentManagedThreadId, Thread.CurrentThread.IsBackground, Thread.CurrentThread.Name));

        Assert.NotEqual(callerThread, thread);
        Assert.True(background);
        Assert.Equal("snapshot-test", name);
        if (OperatingSystem.IsLinux())
        {
            Assert.NotNull(caller);
            Assert.Equal(Math.Min(BackgroundThread.MaxNice, caller!.Value + 5), nice);
            Assert.Equal(caller, BackgroundThread.CurrentNice()); // the caller's own priority is untouched
        }
    }

    [Fact]
    public async Task Nice_zero_leaves_the_priority_as_it_was()
    {
        var caller = BackgroundThread.CurrentNice();

        var nice = await BackgroundThread.Run("snapshot-test", 0, BackgroundThread.CurrentNice);

        Assert.Equal(caller, nice);
    }

    [Fact]
    public async Task An_exception_in_the_work_reaches_the_awaiting_caller()
    {
        var thrown = await Assert.ThrowsAsync<IOException>(() => BackgroundThread.Run("snapshot-test", 5, () => throw new IOException("disk full")));

        Assert.Equal("disk full", thrown.Message);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(20)]
    public void A_nice_value_outside_0_to_19_is_refused(int nice)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = BackgroundThread.Run("snapshot-test", nice, () => { }); });
        var options = new EmbeddedStoreOptions { DataDirectory = Path.GetTempPath(), SnapshotNice = nice };
        Assert.Contains("SnapshotNice", Assert.Throws<ArgumentException>(options.Validate).Message);
    }
}
