namespace SmartCity.CreditApi.Node;

/// <summary>
/// The <c>server</c> section of the node configuration: what one node's gRPC listener (Kestrel, HTTP/2, gRPC) lets
/// clients hold. Over a limit the client is refused at once (a connection closed, RESOURCE_EXHAUSTED), never left
/// waiting; every refusal is logged at Warning through <see cref="TrafficWarnings"/>. Defaults and reasons: docs/node.md,
/// "Server limits".
/// </summary>
public sealed class ServerLimits
{
    /// <summary>Connections open at once; one more is closed as soon as it is accepted (the client sees UNAVAILABLE).</summary>
    public int MaxConnections { get; set; } = 1_000;

    /// <summary>HTTP/2 streams (calls) open at once on one connection, advertised as SETTINGS_MAX_CONCURRENT_STREAMS.</summary>
    public int MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>A connection with no call open for this long is closed (HTTP/2 GOAWAY); also the time a new connection has to send the HTTP/2 preface.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>The time a client has for the TLS handshake and for sending a call's headers.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest request header block (all headers and metadata of one call), in bytes.</summary>
    public int MaxRequestHeaderBytes { get; set; } = 32 * 1024;

    /// <summary>Watch and WatchBlocks streams open at once on the node.</summary>
    public int MaxWatchSubscribers { get; set; } = 512;

    /// <summary>Watch and WatchBlocks streams open at once on one connection; below <see cref="MaxStreamsPerConnection"/> so unary calls always find a stream.</summary>
    public int MaxWatchSubscribersPerConnection { get; set; } = 32;

    /// <summary>At most one Warning line per reason in this interval; the next line says how many were suppressed.</summary>
    public TimeSpan WarningInterval { get; set; } = TimeSpan.FromSeconds(10);

    public const int MaxMessageBytesCeiling = 64 * 1024 * 1024;

    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(1);

    /// <summary>Every setting out of range, named as in the file (<c>server.idleTimeout …</c>).</summary>
    public IEnumerable<string> Validate()
    {
        if (MaxConnections is < 1 or > 1_000_000)
        {
            yield return $"server.maxConnections must be between 1 and 1000000, got {MaxConnections}";
        }

        if (MaxStreamsPerConnection is < 2 or > 1_000)
        {
            yield return $"server.maxStreamsPerConnection must be between 2 and 1000, got {MaxStreamsPerConnection}";
        }

        if (IdleTimeout < TimeSpan.FromSeconds(1) || IdleTimeout >= MaxTimeout)
        {
            yield return $"server.idleTimeout must be at least 1 s and under a minute, got {IdleTimeout}";
        }

        if (HandshakeTimeout < TimeSpan.FromSeconds(1) || HandshakeTimeout >= MaxTimeout)
        {
            yield return $"server.handshakeTimeout must be at least 1 s and under a minute, got {HandshakeTimeout}";
        }

        if (MaxRequestHeaderBytes is < 4 * 1024 or > 1024 * 1024)
        {
            yield return $"server.maxRequestHeaderBytes must be between 4096 and 1048576, got {MaxRequestHeaderBytes}";
        }

        if (MaxWatchSubscribers < 1)
        {
            yield return $"server.maxWatchSubscribers must be positive, got {MaxWatchSubscribers}";
        }

        if (MaxWatchSubscribersPerConnection < 1 || MaxWatchSubscribersPerConnection >= MaxStreamsPerConnection)
        {
            yield return $"server.maxWatchSubscribersPerConnection must be positive and below server.maxStreamsPerConnection ({MaxStreamsPerConnection}), so other calls always find a stream, got {MaxWatchSubscribersPerConnection}";
        }

        if (WarningInterval < TimeSpan.FromSeconds(1) || WarningInterval > TimeSpan.FromHours(1))
        {
            yield return $"server.warningInterval must be between 1 s and 1 h, got {WarningInterval}";
        }
    }
}
