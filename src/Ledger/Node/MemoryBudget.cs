namespace SmartCity.Ledger.Node;

/// <summary>What <see cref="MemoryGovernor"/> does after a sample of the process's resident memory.</summary>
public enum MemoryAction
{
    /// <summary>Within the budget, or nothing worth reclaiming yet.</summary>
    None,

    /// <summary>A full compacting collection that returns the free memory to the system.</summary>
    Collect,
}

/// <summary>
/// When a node over its memory budget collects, and how much of their configured size its caches may hold: the
/// decisions alone, from the samples they are given (no clock, no GC), so that they can be tested as they are.
/// </summary>
/// <remarks>
/// <para>
/// <b>Collections.</b> Past the <see cref="MarkBytes"/> (thirteen sixteenths of the limit) a collection is due, unless one
/// ran less than <see cref="MinInterval"/> ago or the process has grown by less than <see cref="SlackBytes"/> (a
/// sixteenth of the limit) since the last one ended: what a collection could reclaim is what was allocated since, and a
/// node whose live memory sits above the mark must not collect at every sample. Past <see cref="UrgentBytes"/> (seven
/// eighths) a collection is due after <see cref="UrgentInterval"/> already, whatever the growth, as long as the last one
/// ended more than the slack below that (else it cannot be kept that way and the pace stays the mark's): a collection
/// itself needs room while it compacts (50-120 MB at a ~450 MB live heap on this machine), and a writing node grew by up
/// to ~150 MB a second between two.
/// </para>
/// <para>
/// <b>The caches' share.</b> What is live after a collection must stay well under the mark, or the next one comes at
/// once and the process passes the limit while it runs: past the <see cref="TargetBytes"/> (five eighths of the limit)
/// the node's caches get three quarters of the share they had (half when the collection ended past the mark itself),
/// down to <see cref="MinCacheShare"/>; once a collection ends, or a sample reads, a slack under the target, they get an
/// eighth of their configured size back, at most once an interval, up to all of it. A node whose live memory fits keeps
/// its caches whole.
/// </para>
/// <para>
/// Why the node needs this: its server GC sizes the heap for throughput, and under sustained writes let a heap of
/// ~450 MB live grow to ~850 MB committed between its own full collections; the caches' values (up to 384 MiB by
/// default) then left too little room under 1 GiB for a collection to compact in (docs/node.md, "Memory").
/// </para>
/// </remarks>
public sealed class MemoryBudget
{
    /// <summary>The least share of their configured size the caches are given.</summary>
    public const double MinCacheShare = 1.0 / 16;

    private const double ShareStep = 1.0 / 8;

    private long _lastEnded = long.MinValue; // resident bytes when the last collection ended
    private TimeSpan? _lastAt;
    private TimeSpan? _shareChangedAt;

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
        MarkBytes = limitBytes / 16 * 13;
        UrgentBytes = limitBytes / 8 * 7;
        TargetBytes = limitBytes / 8 * 5;
        SlackBytes = limitBytes / 16;
        MinInterval = interval;
        UrgentInterval = interval / 8;
    }

    public long LimitBytes { get; }

    /// <summary>Resident memory past which a collection is due.</summary>
    public long MarkBytes { get; }

    /// <summary>Resident memory past which a collection is due sooner (<see cref="UrgentInterval"/>).</summary>
    public long UrgentBytes { get; }

    /// <summary>Resident memory after a collection past which the caches are given less.</summary>
    public long TargetBytes { get; }

    /// <summary>The growth since the last collection ended that makes another worth its pause.</summary>
    public long SlackBytes { get; }

    public TimeSpan MinInterval { get; }

    /// <summary>The least time between two collections past <see cref="UrgentBytes"/> (an eighth of <see cref="MinInterval"/>).</summary>
    public TimeSpan UrgentInterval { get; }

    /// <summary>The share of their configured size the caches may hold now (<see cref="MinCacheShare"/> to 1).</summary>
    public double CacheShare { get; private set; } = 1;

    /// <summary>What to do with <paramref name="residentBytes"/> resident at <paramref name="now"/> (any monotonic clock).</summary>
    public MemoryAction Decide(long residentBytes, TimeSpan now)
    {
        if (residentBytes < MarkBytes)
        {
            if (residentBytes <= TargetBytes - SlackBytes)
            {
                GiveBack(now); // garbage and all, well within: the caches may grow again
            }

            return MemoryAction.None;
        }

        if (_lastAt is { } last)
        {
            var since = now - last;
            var grown = residentBytes - _lastEnded;

            // Close to the limit a collection is due sooner, as long as the last one got back under that by more than
            // the slack (it can be kept that way); otherwise only at the pace of the mark.
            var urgent = residentBytes >= UrgentBytes && _lastEnded <= UrgentBytes - SlackBytes && since >= UrgentInterval;
            if (!urgent && (since < MinInterval || grown < SlackBytes))
            {
                return MemoryAction.None;
            }
        }

        return MemoryAction.Collect;
    }

    /// <summary>A collection ended at <paramref name="now"/> with <paramref name="residentBytes"/> resident: the caches' share follows from it.</summary>
    public void Collected(long residentBytes, TimeSpan now)
    {
        _lastEnded = residentBytes;
        _lastAt = now;
        if (residentBytes > TargetBytes)
        {
            CacheShare = Math.Max(MinCacheShare, CacheShare * (residentBytes >= MarkBytes ? 0.5 : 0.75));
            _shareChangedAt = now;
        }
        else if (residentBytes <= TargetBytes - SlackBytes)
        {
            GiveBack(now);
        }
    }

    private void GiveBack(TimeSpan now)
    {
        if (CacheShare < 1 && (_shareChangedAt is not { } changed || now - changed >= MinInterval))
        {
            CacheShare = Math.Min(1, CacheShare + ShareStep);
            _shareChangedAt = now;
        }
    }
}
