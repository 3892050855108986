using Grpc.Core;
using SmartCity.CreditApi.Node;

namespace SmartCity.CreditApi.Services;

/// <summary>
/// Counts the open Watch and WatchBlocks streams, on the node and per connection, against
/// <see cref="ServerLimits.MaxWatchSubscribers"/> and <see cref="ServerLimits.MaxWatchSubscribersPerConnection"/>. A
/// stream beyond either limit ends at once with RESOURCE_EXHAUSTED (never a silent wait) and a rate-limited Warning.
/// </summary>
public sealed class WatchSubscribers(NodeStartup startup, TrafficWarnings warnings)
{
    private readonly ServerLimits _limits = startup.Config.Server ?? new ServerLimits();
    private readonly Dictionary<string, int> _perConnection = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _total;

    /// <summary>Streams open now on the node.</summary>
    public int Open
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    /// <summary>Takes a place for one stream of the call's connection, or throws RESOURCE_EXHAUSTED. Dispose the lease when the stream ends.</summary>
    public IDisposable Enter(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var connection = context.GetHttpContext().Connection.Id;
        lock (_gate)
        {
            if (_total >= _limits.MaxWatchSubscribers)
            {
                throw Refuse(TrafficReason.WatchLimit, context, $"{_limits.MaxWatchSubscribers} Watch/WatchBlocks streams are open on this node (server.maxWatchSubscribers)");
            }

            var mine = _perConnection.GetValueOrDefault(connection);
            if (mine >= _limits.MaxWatchSubscribersPerConnection)
            {
                throw Refuse(TrafficReason.WatchLimitPerConnection, context, $"{_limits.MaxWatchSubscribersPerConnection} Watch/WatchBlocks streams are open on this connection (server.maxWatchSubscribersPerConnection)");
            }

            _perConnection[connection] = mine + 1;
            _total++;
        }

        return new Lease(this, connection);
    }

    private RpcException Refuse(TrafficReason reason, ServerCallContext context, string detail)
    {
        warnings.Report(reason, context.Peer, detail);
        return new RpcException(new Status(StatusCode.ResourceExhausted, $"too many subscribers: {detail}; close a stream or retry later"));
    }

    private void Leave(string connection)
    {
        lock (_gate)
        {
            _total--;
            if (_perConnection[connection] == 1)
            {
                _perConnection.Remove(connection);
            }
            else
            {
                _perConnection[connection]--;
            }
        }
    }

    private sealed class Lease(WatchSubscribers owner, string connection) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Leave(connection);
            }
        }
    }
}
