namespace SmartCity.CreditApi.Node;

/// <summary>Time since the node host was built.</summary>
public sealed class NodeUptime(TimeProvider time)
{
    private readonly long _startedAt = time.GetTimestamp();

    public TimeSpan Elapsed => time.GetElapsedTime(_startedAt);
}
