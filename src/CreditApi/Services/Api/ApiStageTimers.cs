using System.Diagnostics;

namespace SmartCity.CreditApi.Services.Api;

/// <summary>
/// Where a read call's time goes on the server, per stage: how many runs, their summed and their longest wall time,
/// updated without locks (two clock reads per stage run). <c>smartcity bench api</c> reads them per phase to say which
/// stage a latency tail comes from; nothing else depends on them.
/// </summary>
public sealed class ApiStageTimers
{
    private const int StageCount = (int)ApiStage.AccessLogWrite + 1;
    private readonly long[] _runs = new long[StageCount];
    private readonly long[] _items = new long[StageCount];
    private readonly long[] _ticks = new long[StageCount];
    private readonly long[] _maxTicks = new long[StageCount];

    /// <summary>Records one run of <paramref name="stage"/> that started at <paramref name="startedTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public void Add(ApiStage stage, long startedTimestamp, long items = 1)
    {
        var ticks = Stopwatch.GetTimestamp() - startedTimestamp;
        var i = (int)stage;
        Interlocked.Increment(ref _runs[i]);
        Interlocked.Add(ref _items[i], items);
        Interlocked.Add(ref _ticks[i], ticks);
        var max = Volatile.Read(ref _maxTicks[i]);
        while (ticks > max)
        {
            var seen = Interlocked.CompareExchange(ref _maxTicks[i], ticks, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    /// <summary>The figures so far of every stage; <see cref="ResetMaxima"/> starts the maxima of a new phase.</summary>
    public IReadOnlyList<ApiStageFigures> Read() =>
        [.. Enum.GetValues<ApiStage>().Select(s => new ApiStageFigures(
            s,
            Interlocked.Read(ref _runs[(int)s]),
            Interlocked.Read(ref _items[(int)s]),
            Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks[(int)s])),
            Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _maxTicks[(int)s]))))];

    public void ResetMaxima()
    {
        for (var i = 0; i < StageCount; i++)
        {
            Interlocked.Exchange(ref _maxTicks[i], 0);
        }
    }
}

/// <summary>One stage's totals: runs, items (entries of a batch), summed and longest wall time.</summary>
public readonly record struct ApiStageFigures(ApiStage Stage, long Runs, long Items, TimeSpan Total, TimeSpan Longest);

/// <summary>The stages of an authenticated, access-logged read, in the order a call meets them.</summary>
public enum ApiStage
{
    /// <summary>The interceptor: metadata, replay window, signature check, member and role, nonce (every protected call).</summary>
    Authenticate,

    /// <summary>The service's read of the chain (queue wait included), up to the response message.</summary>
    Read,

    /// <summary>From the read's entry handed to the access-log writer to its entry durable (the caller waits this long).</summary>
    AccessLogWait,

    /// <summary>One group commit of the access log: seal, write and flush to disk (items = entries in the batch).</summary>
    AccessLogWrite,
}
