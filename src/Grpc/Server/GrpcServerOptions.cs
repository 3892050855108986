using SmartCity.Grpc.Wire;

namespace SmartCity.Grpc.Server;

/// <summary>Server-wide options, named as in Grpc.AspNetCore's <c>GrpcServiceOptions</c>.</summary>
public sealed class GrpcServerOptions
{
    /// <summary>Largest request message accepted, in bytes; null for no limit. Default 4 MiB.</summary>
    public int? MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>Largest response message sent, in bytes; null (the default) for no limit.</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>
    /// When true, an unexpected exception's message is returned in <c>grpc-message</c>; otherwise clients see
    /// only "Exception was thrown by handler." (the exception is logged either way).
    /// </summary>
    public bool EnableDetailedErrors { get; set; }

    internal void Validate()
    {
        if (MaxReceiveMessageSize is < 0 || MaxSendMessageSize is < 0)
        {
            throw new InvalidOperationException("gRPC message size limits must be null or non-negative.");
        }
    }
}
