using System.Net;

namespace SmartCity.CreditApi.Node;

/// <summary>What one regional node is configured with at start-up.</summary>
public sealed record NodeSettings
{
    public const int DefaultMaxReceiveMessageSize = 4 * 1024 * 1024;

    public NodeSettings(string region, string nodeId, IPEndPoint listen)
    {
        if (!ConsortiumRegion.IsKnown(region))
        {
            throw new ArgumentException($"region must be one of {string.Join(", ", ConsortiumRegion.All)}, got '{region}'", nameof(region));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(nodeId);
        ArgumentNullException.ThrowIfNull(listen);
        Region = region;
        NodeId = nodeId;
        Listen = listen;
    }

    public string Region { get; }

    public string NodeId { get; }

    public IPEndPoint Listen { get; }

    /// <summary>Largest request message the node accepts, in bytes (the gRPC default, 4 MiB); larger ones end RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSize { get; init; } = DefaultMaxReceiveMessageSize;

    /// <summary>Largest response message the node sends, in bytes; null = no limit (the gRPC default).</summary>
    public int? MaxSendMessageSize { get; init; }

    /// <summary>
    /// A second listener for HTTP/1.1 clients of the JSON gateway (the gRPC listener speaks HTTP/2 only, and serves
    /// JSON too to HTTP/2 clients); null = none.
    /// </summary>
    public IPEndPoint? HttpListen { get; init; }

    /// <summary>TLS for the listener; null = cleartext HTTP/2 (h2c), meant for loopback and tests.</summary>
    public NodeTlsSettings? Tls { get; init; }
}

/// <summary>
/// The node's TLS certificate: a PEM certificate (chain) with its PEM private key, or a PKCS#12 file
/// (<see cref="KeyPath"/> null) with an optional password. HTTP/2 is negotiated by ALPN.
/// </summary>
public sealed record NodeTlsSettings(string CertificatePath, string? KeyPath = null, string? Password = null);
