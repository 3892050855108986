using Microsoft.AspNetCore.Connections;
using SmartCity.CreditApi.Node;

namespace SmartCity.CreditApi.Hosting;

/// <summary>
/// The listener's connection limit (<see cref="ServerLimits.MaxConnections"/>), as the first connection middleware:
/// a connection beyond it is closed as soon as it is accepted, before TLS or HTTP/2 cost anything (the client's call
/// fails at once with UNAVAILABLE), and the refusal is a rate-limited Warning (event 3200).
/// </summary>
public sealed class ConnectionGate(NodeStartup startup, TrafficWarnings warnings)
{
    private readonly int _max = (startup.Config.Server ?? new ServerLimits()).MaxConnections;
    private int _open;

    /// <summary>Connections open now.</summary>
    public int Open => Volatile.Read(ref _open);

    public ConnectionDelegate Wrap(ConnectionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return async connection =>
        {
            if (Interlocked.Increment(ref _open) > _max)
            {
                Interlocked.Decrement(ref _open);
                warnings.Report(TrafficReason.ConnectionLimit, connection.RemoteEndPoint?.ToString(), $"{_max} connections are open (server.maxConnections)");
                await connection.Transport.Input.CompleteAsync().ConfigureAwait(false);
                await connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
                return;
            }

            try
            {
                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _open);
            }
        };
    }
}
