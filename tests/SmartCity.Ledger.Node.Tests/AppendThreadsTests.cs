using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>The dedicated threads block appends run on (<see cref="AppendThreads"/>).</summary>
public sealed class AppendThreadsTests
{
    [Fact]
    public async Task Work_runs_on_a_named_thread_outside_the_thread_pool_that_hides_the_scheduler()
    {
        var threads = new AppendThreads("append-test", TimeSpan.FromSeconds(5));

        (string? Name, bool Pool, TaskScheduler Current) seen = default;
        await threads.Run(() =>
        {
            seen = (Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread, TaskScheduler.Current);
            return Task.CompletedTask;
        });

        Assert.Equal("append-test", seen.Name);
        Assert.False(seen.Pool);
        Assert.Same(TaskScheduler.Default, seen.Current); // tasks the work starts go to the thread pool, not here
    }

    [Fact]
    public async Task Work_that_comes_one_after_another_reuses_one_thread()
    {
        var threads = new AppendThreads("append-test", TimeSpan.FromSeconds(5));
        var ids = new List<int>();

        for (var i = 0; i < 20; i++)
        {
            await threads.Run(() =>
            {
                ids.Add(Environment.CurrentManagedThreadId);
                return Task.CompletedTask;
            });
            await WaitUntil(() => threads.Idle == threads.ThreadCount); // the thread is back waiting for work
        }

        Assert.Single(ids.Distinct());
        Assert.Equal(1, threads.ThreadCount);
    }

    [Fact]
    public async Task Work_never_waits_behind_busy_threads()
    {
        // The first task waits for the second: with the second queued behind the first, neither would end.
        var threads = new AppendThreads("append-test", TimeSpan.FromSeconds(5));
        var second = new ManualResetEventSlim();

        var first = threads.Run(() => Task.FromResult(second.Wait(TimeSpan.FromSeconds(30))));
        await threads.Run(() =>
        {
            second.Set();
            return Task.CompletedTask;
        });

        Assert.True(await first.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(t => t.IsCompletedSuccessfully));
        Assert.Equal(2, threads.ThreadCount);
    }

    [Fact]
    public async Task An_idle_thread_ends_after_the_timeout_and_a_new_one_starts_for_later_work()
    {
        var threads = new AppendThreads("append-test", TimeSpan.FromMilliseconds(50));

        await threads.Run(() => Task.CompletedTask);
        await WaitUntil(() => threads.ThreadCount == 0);

        await AssertRuns(threads);
    }

    [Fact]
    public async Task An_exception_in_the_work_reaches_the_awaiting_caller_and_the_thread_stays_usable()
    {
        var threads = new AppendThreads("append-test", TimeSpan.FromSeconds(5));

        var thrown = await Assert.ThrowsAsync<IOException>(() => threads.Run(() => throw new IOException("disk full")));
        Assert.Equal("disk full", thrown.Message);
        var after = await Assert.ThrowsAsync<InvalidOperationException>(() => threads.Run(() => Task.FromException(new InvalidOperationException("later"))));
        Assert.Equal("later", after.Message);

        await AssertRuns(threads);
    }

    [Fact]
    public async Task Many_tasks_at_once_all_run()
    {
        var threads = new AppendThreads("append-test", TimeSpan.FromSeconds(1));
        var count = 0;

        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => threads.Run(async () =>
        {
            Interlocked.Increment(ref count);
            await Task.Yield();
        })));

        Assert.Equal(50, count);
    }

    private static async Task AssertRuns(AppendThreads threads)
    {
        var ran = false;
        await threads.Run(() =>
        {
            ran = true;
            return Task.CompletedTask;
        });
        Assert.True(ran);
    }

    private static async Task WaitUntil(Func<bool> condition) => Assert.True(await Eventually.HoldsAsync(condition, every: TimeSpan.FromMilliseconds(5)), "timed out");
}
