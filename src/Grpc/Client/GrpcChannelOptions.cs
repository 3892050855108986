using SmartCity.Grpc.Wire;

namespace SmartCity.Grpc.Client;

public sealed class GrpcChannelOptions
{
    /// <summary>Largest response message accepted, in bytes; null for no limit. Default 4 MiB.</summary>
    public int? MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>Largest request message sent, in bytes; null (the default) for no limit.</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>The handler to send through; by default a <see cref="System.Net.Http.SocketsHttpHandler"/> owned by the channel.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
