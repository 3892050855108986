using System.Diagnostics;

namespace SmartCity.Ledger.Jobs.Audit;

/// <summary>
/// Wall time spent per stage of a long check (the chain audit, VerifyChain), summed over its calls, so a benchmark can
/// say where the time goes. Stages are timed on the thread that runs the check; work a stage spreads over the cores
/// counts once, as wall time.
/// </summary>
public sealed class StageTimes
{
    private readonly Dictionary<string, long> _ticks = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Starts timing <paramref name="stage"/>; the time is added when the returned value is disposed.</summary>
    public Timing Time(string stage) => new(this, stage, Stopwatch.GetTimestamp());

    /// <summary>Adds the time since <paramref name="started"/> (a <see cref="Stopwatch.GetTimestamp"/>) to <paramref name="stage"/>.</summary>
    public void Add(string stage, long started)
    {
        var elapsed = Stopwatch.GetTimestamp() - started;
        lock (_lock)
        {
            _ticks[stage] = _ticks.GetValueOrDefault(stage) + elapsed;
        }
    }

    /// <summary>Seconds per stage, in the order the stages first ran.</summary>
    public IReadOnlyDictionary<string, double> Seconds()
    {
        lock (_lock)
        {
            return _ticks.ToDictionary(p => p.Key, p => (double)p.Value / Stopwatch.Frequency, StringComparer.Ordinal);
        }
    }

    /// <summary>A running stage: dispose to stop it.</summary>
    public readonly struct Timing(StageTimes owner, string stage, long started) : IDisposable
    {
        public void Dispose() => owner.Add(stage, started);
    }
}
