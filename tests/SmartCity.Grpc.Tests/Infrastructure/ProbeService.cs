using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SmartCity.Contracts.Node.V1;
using SmartCity.Grpc.Client;
using SmartCity.Grpc.Server;

namespace SmartCity.Grpc.Tests.Infrastructure;

/// <summary>
/// A test-only service bound by hand (reusing node.proto's messages), to drive the server into the outcomes
/// NodeService never produces: unexpected exceptions, errors with trailers, and a context read back.
/// </summary>
public sealed class ProbeService : IBindableService
{
    public const string ServiceName = "smartcity.test.v1.ProbeService";

    public static Method<StatusRequest, StatusResponse> Crash { get; } = new(MethodType.Unary, ServiceName, "Crash");

    public static Method<StatusRequest, StatusResponse> Reject { get; } = new(MethodType.Unary, ServiceName, "Reject");

    public static Method<StatusRequest, StatusResponse> Context { get; } = new(MethodType.Unary, ServiceName, "Context");

    public static Method<WatchRequest, Heartbeat> CrashMidStream { get; } = new(MethodType.ServerStreaming, ServiceName, "CrashMidStream");

    public static void BindService(ServiceBinder binder)
    {
        binder.AddUnaryMethod<ProbeService, StatusRequest, StatusResponse>(Crash, static (_, _, _) => throw new InvalidOperationException("secret internals"));
        binder.AddUnaryMethod<ProbeService, StatusRequest, StatusResponse>(Reject, static (_, request, _) =>
            throw new RpcException(new Status(StatusCode.FailedPrecondition, request.Echo), new Metadata().Add("x-reason", "closed").Add("x-detail-bin", [7, 7])));
        binder.AddUnaryMethod<ProbeService, StatusRequest, StatusResponse>(Context, static (_, _, context) => Task.FromResult(new StatusResponse
        {
            Echo = $"{context.Method} {context.Peer} {context.RequestHeaders.GetValue("x-probe")}",
            UptimeMs = context.Deadline == DateTime.MaxValue ? -1 : (long)(context.Deadline - DateTime.UtcNow).TotalMilliseconds,
        }));
        binder.AddServerStreamingMethod<ProbeService, WatchRequest, Heartbeat>(CrashMidStream, static async (_, _, stream, context) =>
        {
            await stream.WriteAsync(new Heartbeat { Sequence = 1 }, context.CancellationToken);
            throw new InvalidOperationException("broke after the first message");
        });
    }
}

/// <summary>A Kestrel HTTP/2 server on 127.0.0.1 port 0 serving only <see cref="ProbeService"/>.</summary>
public sealed class ProbeServer : IAsyncLifetime
{
    private WebApplication? _app;

    public GrpcChannel Channel { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpcLayer();
        _app = builder.Build();
        _app.MapGrpcService<ProbeService>();
        await _app.StartAsync();
        Channel = GrpcChannel.ForAddress(CreditApi.Hosting.NodeHost.ListeningAddress(_app));
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
