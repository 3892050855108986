using System.Diagnostics;
using System.Globalization;

namespace SmartCity.Ledger.Node;

/// <summary>
/// Keeps a node process within its memory budget (the node config's <c>memory.limitMiB</c>): samples the resident
/// memory ten times a second and, when <see cref="MemoryBudget"/> says so, runs a full compacting collection that
/// returns the free memory to the system (<see cref="GCCollectionMode.Aggressive"/>), and gives the caches whose
/// contents live on the GC heap the share of their configured size the budget allows (<see cref="MemoryBudget.CacheShare"/>).
/// One per process: the host starts it (the node, <c>bench fill</c>, the load tool), not each <see cref="LedgerNode"/>,
/// since the collector and the resident memory are the process's.
/// </summary>
/// <remarks>
/// The caches' own bounds still hold; this is what keeps the collector's slack from adding hundreds of MB to them
/// under sustained writes. A collection pauses the process for 0.1-0.3 s at a ~450 MB live heap on this machine.
/// </remarks>
public sealed partial class MemoryGovernor : IAsyncDisposable
{
    /// <summary>How often the resident memory is read unless told otherwise.</summary>
    public static readonly TimeSpan DefaultEvery = TimeSpan.FromMilliseconds(100);

    // A warning that the live memory itself is past the budget, at most this often.
    private static readonly TimeSpan WarnEvery = TimeSpan.FromMinutes(5);

    private readonly MemoryBudget _budget;
    private readonly Action<double>? _resizeCaches;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Func<long> _residentBytes;
    private readonly long _started;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private Thread? _thread;
    private TimeSpan? _warnedAt;
    private int _collections;
    private int _shrinks;
    private double _cacheShare = 1;
    private long _collectionTicks;
    private long _largestSample;
    private int _disposed;

    /// <param name="budget">When to collect.</param>
    /// <param name="resizeCaches">Bounds the caches at a share of their configured size (<see cref="LedgerNode.ResizeCaches"/>); null when there are none.</param>
    /// <param name="logger">Where collections are told.</param>
    /// <param name="time">The clock for the intervals.</param>
    /// <param name="residentBytes">Reads the process's resident memory (<see cref="Environment.WorkingSet"/> unless told otherwise).</param>
    public MemoryGovernor(MemoryBudget budget, Action<double>? resizeCaches, ILogger logger, TimeProvider? time = null, Func<long>? residentBytes = null)
    {
        _budget = budget;
        _resizeCaches = resizeCaches;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _residentBytes = residentBytes ?? (() => Environment.WorkingSet);
        _started = _time.GetTimestamp();
    }

    /// <summary>Collections it ran.</summary>
    public int Collections => Volatile.Read(ref _collections);

    /// <summary>Times it gave the caches a smaller share.</summary>
    public int CacheShrinks => Volatile.Read(ref _shrinks);

    /// <summary>The share of their configured size the caches were last given.</summary>
    public double CacheShare => Volatile.Read(ref _cacheShare);

    /// <summary>The time its collections took, in all.</summary>
    public TimeSpan CollectionTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _collectionTicks));

    /// <summary>The most resident memory a sample read.</summary>
    public long LargestSample => Interlocked.Read(ref _largestSample);

    /// <summary>What it did, in one line (the load tool's and <c>bench fill</c>'s report).</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"memory budget {_budget.LimitBytes >> 20:N0} MiB: {Collections:N0} collections past {_budget.MarkBytes >> 20:N0} MiB ({CollectionTime.TotalSeconds:F1} s in all), caches shrunk {CacheShrinks:N0} times (at {CacheShare:P0} of their size at the end), largest sample {LargestSample >> 20:N0} MiB");

    /// <summary>
    /// Samples every <paramref name="every"/> (<see cref="DefaultEvery"/> unless told) on a thread of its own until
    /// disposed: on the thread pool a busy node's samples waited behind its work, and the process grew unwatched.
    /// </summary>
    public MemoryGovernor Start(TimeSpan? every = null)
    {
        var interval = every ?? DefaultEvery;
        _thread = new Thread(() =>
        {
            while (!_stop.Token.WaitHandle.WaitOne(interval))
            {
                try
                {
                    Sample();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    LogSampleFailed(_logger, e); // a failed sample must not end the node: the next one tries again
                }
            }
        })
        {
            IsBackground = true,
            Name = "memory governor",
            Priority = ThreadPriority.AboveNormal, // where the system allows it
        };
        _thread.Start();
        LogStarted(_logger, _budget.LimitBytes >> 20, _budget.MarkBytes >> 20);
        return this;
    }

    /// <summary>Reads the resident memory once and does what the budget says (the loop's step; tests call it).</summary>
    public MemoryAction Sample()
    {
        lock (_gate)
        {
            var before = _residentBytes();
            if (before > _largestSample)
            {
                Interlocked.Exchange(ref _largestSample, before);
            }

            var action = _budget.Decide(before, Now);
            if (action == MemoryAction.Collect)
            {
                var started = Stopwatch.GetTimestamp();
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                Interlocked.Increment(ref _collections);
                Interlocked.Add(ref _collectionTicks, Stopwatch.GetTimestamp() - started);
                var after = _residentBytes();
                var now = Now;
                _budget.Collected(after, now);
                LogCollected(_logger, before >> 20, after >> 20, Stopwatch.GetElapsedTime(started).TotalMilliseconds, _budget.CacheShare);
                if (after >= _budget.LimitBytes && (_warnedAt is not { } warned || now - warned >= WarnEvery))
                {
                    _warnedAt = now;
                    LogOverBudget(_logger, after >> 20, _budget.LimitBytes >> 20);
                }
            }

            var share = _budget.CacheShare;
            if (share != _cacheShare)
            {
                // Smaller: the caches let go of their values now, and the next collection returns them to the system.
                _resizeCaches?.Invoke(share);
                if (share < _cacheShare)
                {
                    Interlocked.Increment(ref _shrinks);
                }

                Volatile.Write(ref _cacheShare, share);
            }

            return action;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _thread?.Join(); // at most one sample (and its collection) to finish
        _stop.Dispose();
    }

    private TimeSpan Now => _time.GetElapsedTime(_started);

    [LoggerMessage(EventId = 3030, Level = LogLevel.Information, Message = "node: memory budget {Limit} MiB resident; a collection returns free memory to the system past {Mark} MiB")]
    private static partial void LogStarted(ILogger logger, long limit, long mark);

    [LoggerMessage(EventId = 3031, Level = LogLevel.Debug, Message = "node: resident memory {Before} MiB past the mark: collected to {After} MiB in {Milliseconds:F0} ms; the caches may hold {CacheShare:P0} of their configured size")]
    private static partial void LogCollected(ILogger logger, long before, long after, double milliseconds, double cacheShare);

    [LoggerMessage(EventId = 3032, Level = LogLevel.Warning, Message = "node: {After} MiB resident after a full collection, over the memory budget of {Limit} MiB: what the node holds live does not fit it; raise memory.limitMiB or lower the caches (docs/node.md, \"Memory\")")]
    private static partial void LogOverBudget(ILogger logger, long after, long limit);

    [LoggerMessage(EventId = 3033, Level = LogLevel.Warning, Message = "node: a memory sample failed; the next one tries again")]
    private static partial void LogSampleFailed(ILogger logger, Exception exception);
}
