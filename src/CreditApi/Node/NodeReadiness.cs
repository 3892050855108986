namespace SmartCity.CreditApi.Node;

/// <summary>
/// Whether the node is ready to serve: a set of named conditions, each ready or waiting (with a reason). The host
/// requires <see cref="HostStarted"/> (ready once Kestrel listens, waiting again when the node starts stopping).
/// The node runtime adds its own before the host starts and reports them as they come true, e.g.
/// <c>readiness.Require(NodeReadiness.StoreOpen, "opening the store")</c> and later
/// <c>readiness.Ready(NodeReadiness.StoreOpen)</c>; likewise <see cref="ChainLoaded"/>. The standard gRPC health
/// service (<c>grpc.health.v1.Health</c>) answers SERVING only while every condition is ready.
/// </summary>
public sealed class NodeReadiness
{
    public const string HostStarted = "host-started";

    /// <summary>For the node runtime: the store is open and recovered.</summary>
    public const string StoreOpen = "store-open";

    /// <summary>For the node runtime: the chain's head, state and history are loaded from the store.</summary>
    public const string ChainLoaded = "chain-loaded";

    private readonly Dictionary<string, string?> _waiting = new(StringComparer.Ordinal);
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Adds a condition that is not met yet (idempotent; a condition already ready stays ready).</summary>
    public void Require(string condition, string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(condition);
        lock (_gate)
        {
            if (_known.Add(condition))
            {
                _waiting[condition] = reason;
            }
        }
    }

    /// <summary>The condition is met.</summary>
    public void Ready(string condition)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(condition);
        lock (_gate)
        {
            _known.Add(condition);
            _waiting.Remove(condition);
        }
    }

    /// <summary>The condition is no longer met (e.g. the store failed, the node is stopping).</summary>
    public void NotReady(string condition, string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(condition);
        lock (_gate)
        {
            _known.Add(condition);
            _waiting[condition] = reason;
        }
    }

    /// <summary>The conditions not met, as "name (reason)", in name order; empty when the node is ready.</summary>
    public IReadOnlyList<string> Waiting()
    {
        lock (_gate)
        {
            return [.. _waiting.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => w.Value is null ? w.Key : $"{w.Key} ({w.Value})")];
        }
    }

    public bool IsReady
    {
        get
        {
            lock (_gate)
            {
                return _waiting.Count == 0;
            }
        }
    }
}
