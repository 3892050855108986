namespace SmartCity.CreditApi.Node;

/// <summary>Why the node refused or dropped a client's traffic; each reason has its own event id (3200–3209).</summary>
public enum TrafficReason
{
    /// <summary>A connection beyond <c>server.maxConnections</c> (event 3200).</summary>
    ConnectionLimit,

    /// <summary>A Watch or WatchBlocks stream beyond <c>server.maxWatchSubscribers</c> (event 3201).</summary>
    WatchLimit,

    /// <summary>A Watch or WatchBlocks stream beyond <c>server.maxWatchSubscribersPerConnection</c> (event 3202).</summary>
    WatchLimitPerConnection,

    /// <summary>A request message larger than <c>maxMessageBytes</c>, or one that does not decode (event 3203).</summary>
    BadMessage,

    /// <summary>Traffic that breaks HTTP/2 or TLS: a bad preface or frame, bad header compression, too many streams, a failed handshake (event 3204).</summary>
    MalformedTraffic,
}

/// <summary>
/// The Warning lines for refused and malformed traffic, rate-limited so a flood cannot fill the disk: per
/// <see cref="TrafficReason"/> at most one line per <see cref="ServerLimits.WarningInterval"/>; the occurrences in
/// between are counted and the next line reports them (<c>… (N more since …)</c>). A counter per reason is kept for
/// tests and metrics in <see cref="Count"/>.
/// </summary>
public sealed partial class TrafficWarnings
{
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly State[] _states;

    public TrafficWarnings(ILogger<TrafficWarnings> logger, TimeProvider time, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _logger = logger;
        _time = time;
        _interval = interval;
        _states = [.. Enum.GetValues<TrafficReason>().Select(_ => new State())];
    }

    /// <summary>How many times <paramref name="reason"/> was reported (logged or suppressed).</summary>
    public long Count(TrafficReason reason) => Interlocked.Read(ref _states[(int)reason].Total);

    /// <summary>Records one refusal; writes a Warning line unless one for the same reason was written less than the interval ago.</summary>
    public void Report(TrafficReason reason, string? peer, string detail)
    {
        var state = _states[(int)reason];
        Interlocked.Increment(ref state.Total);
        long suppressed;
        lock (state)
        {
            var now = _time.GetTimestamp();
            if (state.Logged && _time.GetElapsedTime(state.LastLogged, now) < _interval)
            {
                state.Suppressed++;
                return;
            }

            suppressed = state.Suppressed;
            state.Suppressed = 0;
            state.LastLogged = now;
            state.Logged = true;
        }

        var more = suppressed == 0 ? string.Empty : $" ({suppressed} more suppressed in the last {_interval.TotalSeconds:0.#} s)";
        peer ??= "unknown peer";
        switch (reason)
        {
            case TrafficReason.ConnectionLimit:
                ConnectionRefused(_logger, peer, detail, more);
                break;
            case TrafficReason.WatchLimit:
                WatchRefused(_logger, peer, detail, more);
                break;
            case TrafficReason.WatchLimitPerConnection:
                WatchRefusedOnConnection(_logger, peer, detail, more);
                break;
            case TrafficReason.BadMessage:
                BadMessage(_logger, peer, detail, more);
                break;
            default:
                Malformed(_logger, peer, detail, more);
                break;
        }
    }

    [LoggerMessage(EventId = 3200, Level = LogLevel.Warning, Message = "Connection from {Peer} refused: {Detail}{Suppressed}")]
    private static partial void ConnectionRefused(ILogger logger, string peer, string detail, string suppressed);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Watch stream from {Peer} refused: {Detail}{Suppressed}")]
    private static partial void WatchRefused(ILogger logger, string peer, string detail, string suppressed);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "Watch stream from {Peer} refused on its connection: {Detail}{Suppressed}")]
    private static partial void WatchRefusedOnConnection(ILogger logger, string peer, string detail, string suppressed);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Warning, Message = "Request message from {Peer} refused: {Detail}{Suppressed}")]
    private static partial void BadMessage(ILogger logger, string peer, string detail, string suppressed);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Warning, Message = "Malformed traffic from {Peer}: {Detail}{Suppressed}")]
    private static partial void Malformed(ILogger logger, string peer, string detail, string suppressed);

    private sealed class State
    {
        public long Total;
        public long Suppressed;
        public long LastLogged;
        public bool Logged;
    }
}
