using System.Net;
using Microsoft.AspNetCore.Builder;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Hosting;
using SmartCity.CreditApi.Node;
using SmartCity.Grpc.Client;
using SmartCity.Grpc.Server;

namespace SmartCity.Grpc.Tests.Infrastructure;

/// <summary>
/// A real node host (Kestrel, HTTP/2 cleartext) on 127.0.0.1 with a port chosen by the OS, serving
/// NodeService with a 64 KiB receive limit, and a C# client for it.
/// </summary>
public class InProcessNode : IAsyncLifetime
{
    public const string Region = "TJ";
    public const string NodeId = "tj-test";
    public const int MaxReceiveMessageSize = 64 * 1024;

    private WebApplication? _app;
    private GrpcChannel? _channel;

    public Uri Address { get; private set; } = null!;

    /// <summary>The target in the host:port form Python and Node clients take.</summary>
    public string Target => $"{Address.Host}:{Address.Port}";

    public GrpcChannel Channel => _channel ?? throw new InvalidOperationException("Not started.");

    public NodeService.NodeServiceClient Client => new(Channel);

    protected virtual void Configure(GrpcServerOptions options)
    {
    }

    public async Task InitializeAsync()
    {
        var settings = new NodeSettings(Region, NodeId, new IPEndPoint(IPAddress.Loopback, 0)) { MaxReceiveMessageSize = MaxReceiveMessageSize };
        _app = NodeHost.Build(settings, Configure);
        await _app.StartAsync();
        Address = NodeHost.ListeningAddress(_app);
        _channel = GrpcChannel.ForAddress(Address);
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

/// <summary>A node whose responses may not exceed 1 KiB, to prove the server's send limit.</summary>
public sealed class SmallSendLimitNode : InProcessNode
{
    public const int MaxSendMessageSize = 1024;

    protected override void Configure(GrpcServerOptions options) => options.MaxSendMessageSize = MaxSendMessageSize;
}
