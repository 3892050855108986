namespace SmartCity.Ledger.Node;

/// <summary>
/// The threads block appends run on: dedicated (not the thread pool's, where an append would queue behind the
/// submitters' signature checks, and whose workers its fsync would block), started only when every one of them is busy
/// and kept while there is work, so a loaded node's appends and the writer that continues after each of them alternate
/// between the same two threads instead of starting one per block. A thread idle for <see cref="IdleTimeout"/> ends.
/// </summary>
/// <remarks>
/// A thread per block (<c>TaskCreationOptions.LongRunning</c>, as before) cost a start and an exit per block and, worse,
/// left the writer on a new thread after every append with its thread-local caches cold (the state keys' hashes,
/// <see cref="State.StateKey"/>). Work is never queued behind other work: a task finds an idle thread or gets a new one.
/// </remarks>
internal sealed class AppendThreads : TaskScheduler
{
    private readonly Queue<Task> _queue = new();
    private readonly Lock _gate = new();

    // One release per task handed to an idle thread. A thread whose wait timed out as a task came re-checks the queue
    // under the lock, so a release can only be left over (one empty turn of a loop), never a task left waiting.
    private readonly SemaphoreSlim _work = new(0);
    private readonly string _name;
    private int _idle;
    private int _threads;

    public AppendThreads(string name, TimeSpan idleTimeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(idleTimeout, TimeSpan.Zero);
        _name = name;
        IdleTimeout = idleTimeout;
    }

    /// <summary>The process's append threads (shared by every chain in it, as the thread pool is).</summary>
    public static AppendThreads Shared { get; } = new("ledger-append", TimeSpan.FromSeconds(30));

    public TimeSpan IdleTimeout { get; }

    /// <summary>Threads alive now, busy or idle.</summary>
    public int ThreadCount
    {
        get
        {
            lock (_gate)
            {
                return _threads;
            }
        }
    }

    /// <summary>Threads waiting for work now.</summary>
    public int Idle
    {
        get
        {
            lock (_gate)
            {
                return _idle;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on one of these threads. The scheduler is hidden from it, so tasks it starts go to
    /// the thread pool as anywhere else, not here.
    /// </summary>
    public Task Run(Func<Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.HideScheduler | TaskCreationOptions.DenyChildAttach, this).Unwrap();
    }

    protected override void QueueTask(Task task)
    {
        lock (_gate)
        {
            _queue.Enqueue(task);
            if (_idle >= _queue.Count)
            {
                _work.Release(); // an idle thread takes it
                return;
            }

            _threads++;
        }

        new Thread(Work) { IsBackground = true, Name = _name }.Start();
    }

    private void Work()
    {
        while (true)
        {
            Task? task = null;
            lock (_gate)
            {
                if (_queue.Count > 0)
                {
                    task = _queue.Dequeue();
                }
                else
                {
                    _idle++;
                }
            }

            if (task is null)
            {
                var woken = _work.Wait(IdleTimeout);
                lock (_gate)
                {
                    _idle--;
                    if (!woken && _queue.Count == 0)
                    {
                        _threads--;
                        return;
                    }
                }

                continue;
            }

            TryExecuteTask(task);
        }
    }

    // An append waited on synchronously runs where it was queued.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks()
    {
        lock (_gate)
        {
            return [.. _queue];
        }
    }
}
