using SmartCity.Contracts.Node.V1;

namespace SmartCity.CreditApi.Services;

/// <summary>How the most recent Watch streams ended, newest first; bounded to <see cref="Capacity"/> entries.</summary>
public sealed class WatchJournal
{
    public const int Capacity = 32;

    private readonly LinkedList<WatchOutcome> _recent = new();
    private readonly Lock _gate = new();

    public void Record(string watchId, WatchOutcome.Types.Ending ending, long heartbeatsSent)
    {
        var outcome = new WatchOutcome { WatchId = watchId, Ending = ending, HeartbeatsSent = heartbeatsSent };
        lock (_gate)
        {
            _recent.AddFirst(outcome);
            if (_recent.Count > Capacity)
            {
                _recent.RemoveLast();
            }
        }
    }

    public IReadOnlyList<WatchOutcome> Recent()
    {
        lock (_gate)
        {
            return [.. _recent.Select(o => o.Clone())];
        }
    }
}
