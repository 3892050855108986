namespace SmartCity.Ledger.Node;

/// <summary>What <see cref="MemoryGovernor"/> does after a sample of the process's resident memory.</summary>
public enum MemoryAction
{
    /// <summary>Within the budget, or nothing worth reclaiming yet.</summary>
    None,

    /// <summary>A full compacting collection that returns the free memory to the system.</summary>
    Collect,

    /// <summary>The caches let go of what they hold first (the last collection alone did not get under the mark), then a collection.</summary>
    ShedAndCollect,
}

/// <summary>
/// When a node over its memory budget collects: the decision alone, from the samples it is given (no clock, no GC),
/// so that it can be tested as it is. Past the <see cref="MarkBytes"/> (seven eighths of the limit) a collection is
/// due, unless one ran less than <see cref="MinInterval"/> ago or the process has grown by less than
/// <see cref="SlackBytes"/> (a sixteenth of the limit) since the last one ended: what a collection could reclaim is
/// what was allocated since, and a node whose live memory sits above the mark must not collect at every sample. At the
/// limit itself a collection is due after <see cref="UrgentInterval"/> already, whatever the growth, as long as the last
/// one ended more than the slack below the limit (else the limit cannot be kept that way and the pace stays the mark's).
/// When the last collection ended above the mark, the caches let go of their contents before the next one.
/// </summary>
/// <remarks>
/// Why the node needs this: its server GC sizes the heap for throughput, and under sustained writes let a heap of
/// ~450 MB live grow to ~850 MB committed between its own full collections (docs/node.md, "Memory"). A full
/// compacting collection brings it back to what is live in 0.1-0.3 s on this machine's two cores.
/// </remarks>
public sealed class MemoryBudget
{
    private long _lastEnded = long.MinValue; // resident bytes when the last collection ended
    private TimeSpan? _lastAt;

    /// <summary>The least time between two collections unless told otherwise.</summary>
    public static readonly TimeSpan DefaultMinInterval = TimeSpan.FromSeconds(2);

    /// <param name="limitBytes">The resident memory the node stays within.</param>
    /// <param name="minInterval">The least time between two collections (their pauses stay a small share of the time); <see cref="DefaultMinInterval"/> unless told.</param>
    public MemoryBudget(long limitBytes, TimeSpan? minInterval = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limitBytes, 64L << 20);
        var interval = minInterval ?? DefaultMinInterval;
        ArgumentOutOfRangeException.ThrowIfNegative(interval.Ticks);
        LimitBytes = limitBytes;
        MarkBytes = limitBytes / 8 * 7;
        SlackBytes = limitBytes / 16;
        MinInterval = interval;
        UrgentInterval = interval / 8;
    }

    public long LimitBytes { get; }

    /// <summary>Resident memory past which a collection is due.</summary>
    public long MarkBytes { get; }

    /// <summary>The growth since the last collection ended that makes another worth its pause.</summary>
    public long SlackBytes { get; }

    public TimeSpan MinInterval { get; }

    /// <summary>The least time between two collections when the process is at the limit itself (an eighth of <see cref="MinInterval"/>).</summary>
    public TimeSpan UrgentInterval { get; }

    /// <summary>What to do with <paramref name="residentBytes"/> resident at <paramref name="now"/> (any monotonic clock).</summary>
    public MemoryAction Decide(long residentBytes, TimeSpan now)
    {
        if (residentBytes < MarkBytes)
        {
            return MemoryAction.None;
        }

        if (_lastAt is { } last)
        {
            var since = now - last;
            var grown = residentBytes - _lastEnded;

            // At the limit itself a collection is due at once, as long as the last one got back under it by more
            // than the slack (the limit can be kept); otherwise only at the pace of the mark.
            var urgent = residentBytes >= LimitBytes && _lastEnded <= LimitBytes - SlackBytes && since >= UrgentInterval;
            if (!urgent && (since < MinInterval || grown < SlackBytes))
            {
                return MemoryAction.None;
            }
        }

        return _lastEnded >= MarkBytes ? MemoryAction.ShedAndCollect : MemoryAction.Collect;
    }

    /// <summary>A collection ended at <paramref name="now"/> with <paramref name="residentBytes"/> resident.</summary>
    public void Collected(long residentBytes, TimeSpan now)
    {
        _lastEnded = residentBytes;
        _lastAt = now;
    }
}
