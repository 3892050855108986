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
    public async Task No_thread_but_the_lowered_one_is_left_at_the_raised_nice_value()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var caller = BackgroundThread.CurrentNice()!.Value;
        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        try
        {
            // A pool allowed many more workers than it has starts them on whichever thread queues work to it; a lowered
            // thread that completed the task would start them, and they would keep its nice value.
            ThreadPool.SetMinThreads(minWorkers + 64, minIo);
            var runs = Enumerable.Range(0, 32)
                .Select(async _ =>
                {
                    await BackgroundThread.Run("snapshot-test", 5, () => Thread.Sleep(5));
                    Thread.Sleep(20); // keep the continuation's worker busy so the next completion needs another
                })
                .ToArray();
            await Task.WhenAll(runs);
        }
        finally
        {
            ThreadPool.SetMinThreads(minWorkers, minIo);
        }

        var raised = ThreadNices().Where(t => t.Nice > caller && !t.Name.StartsWith("snapshot", StringComparison.Ordinal)).ToList();
        Assert.True(raised.Count == 0, $"threads left at a raised nice value: {string.Join(", ", raised)}");
    }

    /// <summary>Every thread of this process with its name and nice value, read from <c>/proc/self/task</c>.</summary>
    private static IEnumerable<(string Name, int Nice)> ThreadNices()
    {
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string stat, name;
            try
            {
                stat = File.ReadAllText(Path.Combine(task, "stat"));
                name = File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n');
            }
            catch (IOException)
            {
                continue; // the thread ended while we looked
            }

            // The fields after the name (which may hold spaces) in parentheses: state is field 3, nice field 19.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            yield return (name, int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture));
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
