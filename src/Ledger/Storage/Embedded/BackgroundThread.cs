using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// Runs the store's CPU-heavy background work (a snapshot's runs, a new locator base) on a thread of its own at a
/// lower scheduling priority, so on a machine the node keeps busy it takes the CPU that submissions, block building
/// and appends leave rather than an equal share of it (as a database runs compaction at a lower priority). The work
/// is the same; only who waits changes. On Linux the thread's nice value is raised (<c>setpriority</c> on its thread
/// id; raising it needs no privilege and the thread ends with the work); elsewhere the thread runs at the normal
/// priority. A thread started from the lowered one inherits its nice value: this class never completes the task on it,
/// but the runtime may start its own threads there (the background collector's, the tiered compiler's), which is why
/// the store does not lower by default (<see cref="EmbeddedStoreOptions.SnapshotNice"/>).
/// </summary>
internal static partial class BackgroundThread
{
    private const int PrioProcess = 0;

    /// <summary>The highest nice value Linux has.</summary>
    public const int MaxNice = 19;

    /// <summary>
    /// Runs <paramref name="work"/> on a new background thread whose nice value is <paramref name="nice"/> above the
    /// calling thread's (0: unchanged; capped at <see cref="MaxNice"/>).
    /// </summary>
    public static Task<T> Run<T>(string name, int nice, Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentOutOfRangeException.ThrowIfNegative(nice);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nice, MaxNice);
        if (nice == 0)
        {
            // Nothing to lower: the work's own thread, off the thread pool.
            return Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        var from = CurrentNice() ?? 0;
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var worker = new Thread(() =>
        {
            Lower(from, nice);
            try
            {
                result = work();
            }
#pragma warning disable CA1031 // handed to the awaiting task, which rethrows it
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        worker.Start();

        // The lowered thread must not complete the task itself: completing it queues the continuations to the thread
        // pool, and a pool that is short of workers starts one on the queuing thread, which on Linux inherits that
        // thread's nice value for the rest of the process's life (a CI run caught a pool worker left at +5). So a thread
        // at the caller's priority waits for the work and completes the task.
        return Task.Factory.StartNew(
            () =>
            {
                worker.Join();
                failure?.Throw();
                return result;
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }

    /// <inheritdoc cref="Run{T}(string, int, Func{T})"/>
    public static Task Run(string name, int nice, Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return Run(name, nice, () =>
        {
            work();
            return true;
        });
    }

    /// <summary>The calling thread's nice value on Linux (tests read it back); null elsewhere.</summary>
    public static int? CurrentNice()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        Marshal.SetLastPInvokeError(0);
        var nice = GetPriority(PrioProcess, GetThreadId());
        return nice == -1 && Marshal.GetLastPInvokeError() != 0 ? null : nice;
    }

    private static void Lower(int from, int nice)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // Best effort: a thread left at the normal priority still does the work correctly.
        _ = SetPriority(PrioProcess, GetThreadId(), Math.Min(MaxNice, from + nice));
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static partial int GetPriority(int which, int who);
}
