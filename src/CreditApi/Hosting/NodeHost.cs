using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SmartCity.CreditApi.Node;
using SmartCity.CreditApi.Services;
using SmartCity.Grpc.Server;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Hosting;

/// <summary>Builds the node's web host: Kestrel on HTTP/2 (cleartext, prior knowledge) serving the gRPC services.</summary>
public static class NodeHost
{
    public static WebApplication Build(NodeSettings settings, Action<GrpcServerOptions>? configureGrpc = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(settings.Listen, listen => listen.Protocols = HttpProtocols.Http2);
        });

        builder.Services.AddGrpcLayer(grpc =>
        {
            grpc.MaxReceiveMessageSize = settings.MaxReceiveMessageSize;
            configureGrpc?.Invoke(grpc);
        });
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<WatchJournal>();
        builder.Services.AddSingleton<NodeUptime>();
        // Native libsecp256k1 when it loads, else the managed fallback with a warning in the log (event 1101).
        builder.Services.AddSingleton<ISecp256k1>(services => Secp256k1.Create(services.GetRequiredService<ILoggerFactory>().CreateLogger("SmartCity.Ledger.Crypto")));

        var app = builder.Build();
        _ = app.Services.GetRequiredService<NodeUptime>();
        _ = app.Services.GetRequiredService<ISecp256k1>();
        app.MapGrpcService<NodeServiceImpl>();
        return app;
    }

    /// <summary>The address Kestrel really bound (with the port chosen by the OS when asked for port 0).</summary>
    public static Uri ListeningAddress(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First());
    }
}
