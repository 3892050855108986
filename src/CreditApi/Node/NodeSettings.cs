using System.Net;

namespace SmartCity.CreditApi.Node;

/// <summary>What one regional node is configured with at start-up.</summary>
public sealed record NodeSettings
{
    public NodeSettings(string region, string nodeId, IPEndPoint listen)
    {
        if (!ConsortiumRegion.IsKnown(region))
        {
            throw new ArgumentException($"region must be one of {string.Join(", ", ConsortiumRegion.All)}, got '{region}'", nameof(region));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(nodeId);
        Region = region;
        NodeId = nodeId;
        Listen = listen;
    }

    public string Region { get; }

    public string NodeId { get; }

    public IPEndPoint Listen { get; }

    public const int DefaultMaxReceiveMessageSize = 4 * 1024 * 1024;

    /// <summary>Largest request message the node accepts, in bytes (the gRPC default, 4 MiB).</summary>
    public int MaxReceiveMessageSize { get; init; } = DefaultMaxReceiveMessageSize;
}
