using System.Diagnostics;

namespace SmartCity.Ledger.Node;

/// <summary>
/// Time spent per stage of a long check (the chain audit, VerifyChain, <see cref="BlockPipeline"/>), summed over its
/// calls, so a benchmark can say where the time goes. A stage timed on one thread (the reader, the in-order checks)
/// is that thread's wall time; a stage the pipeline's workers run is the sum of their threads' times, so it reads as
/// CPU time when the machine is not oversubscribed.
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

    /// <summary>Adds <paramref name="ticks"/> (<see cref="Stopwatch"/> ticks) to <paramref name="stage"/>.</summary>
    public void AddTicks(string stage, long ticks)
    {
        lock (_lock)
        {
            _ticks[stage] = _ticks.GetValueOrDefault(stage) + ticks;
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
