using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prometheus;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Health;
using SmartCity.CreditApi.Interceptors;
using SmartCity.CreditApi.Node;
using SmartCity.CreditApi.Peers;
using SmartCity.CreditApi.Services;
using SmartCity.CreditApi.Services.Api;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Jobs;
using SmartCity.Ledger.Jobs.Anchor;
using SmartCity.Ledger.Jobs.Scheduling;

namespace SmartCity.CreditApi.Hosting;

/// <summary>
/// Builds the node's web host: Kestrel on HTTP/2 (h2c, or TLS with ALPN when <see cref="NodeSettings.Tls"/> is set)
/// serving the gRPC services on Grpc.AspNetCore, with the request-id, logging and metrics interceptors, the standard
/// <c>grpc.health.v1.Health</c> service fed by <see cref="NodeReadiness"/>, and server reflection.
/// </summary>
public static class NodeHost
{
    /// <summary>Marks connections of the metrics listener (a connection item), the only place <c>/metrics</c> is served.</summary>
    private const string MetricsConnection = "smartcity.metrics-listener";

    /// <param name="settings">The node's listener and identity.</param>
    /// <param name="ledger">The node's ledger configuration (genesis, key, store, limits), opened when the host starts.</param>
    /// <param name="configureServices">Extra registrations (tests: a log sink, another <see cref="TimeProvider"/>).</param>
    /// <exception cref="NodeConfigurationException">The TLS certificate cannot be loaded.</exception>
    public static WebApplication Build(NodeSettings settings, NodeStartup ledger, Action<IServiceCollection>? configureServices = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(ledger);
        var certificate = settings.Tls is { } tls ? LoadCertificate(tls) : null;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("SmartCity.Ledger", LogLevel.Information); // opened at height …, replayed …, faults
        builder.Logging.AddFilter("SmartCity.CreditApi.Peers", LogLevel.Information); // links up and down, refused handshakes
        builder.Logging.AddFilter("SmartCity.CreditApi.Ledger", LogLevel.Information); // which consensus engine runs
        if (ledger.Config.Logging?.IsJson == true)
        {
            // One JSON object per line (EventId, LogLevel, Category, Message, State): what a log shipper parses.
            builder.Logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.IncludeScopes = true;
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        }

        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);

        // Refused and malformed traffic: Kestrel's and gRPC's own lines stay off the console (a flood would fill the
        // disk); their protocol-error events reach the rate-limited TrafficWarnings through the bridge instead.
        var bridge = new TrafficLogBridge();
        builder.Logging.AddProvider(bridge);
        builder.Logging.AddFilter<TrafficLogBridge>(null, LogLevel.None);
        builder.Logging.AddFilter<TrafficLogBridge>(TrafficLogBridge.KestrelCategory, LogLevel.Debug);
        builder.Logging.AddFilter<TrafficLogBridge>(TrafficLogBridge.GrpcCategory, LogLevel.Debug);
        builder.Logging.AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>(TrafficLogBridge.KestrelCategory, LogLevel.Error);
        builder.Logging.AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>(TrafficLogBridge.GrpcCategory, LogLevel.Error);

        // A failed start is reported by the caller (the CLI's one line); the host's own "Hosting failed to start" with
        // its stack trace would be a second report.
        builder.Logging.AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);

        var limits = ledger.Config.Server ?? new ServerLimits();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.KeepAliveTimeout = limits.IdleTimeout;
            kestrel.Limits.RequestHeadersTimeout = limits.HandshakeTimeout;
            kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeaderBytes;
            kestrel.Limits.Http2.MaxRequestHeaderFieldSize = limits.MaxRequestHeaderBytes;
            kestrel.Limits.Http2.MaxStreamsPerConnection = limits.MaxStreamsPerConnection;
            kestrel.Limits.Http2.KeepAlivePingDelay = limits.IdleTimeout;
            kestrel.Limits.Http2.KeepAlivePingTimeout = limits.HandshakeTimeout;
            kestrel.Listen(settings.Listen, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.Use(next => kestrel.ApplicationServices.GetRequiredService<ConnectionGate>().Wrap(next));
                if (certificate is not null)
                {
                    listen.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate, HandshakeTimeout = limits.HandshakeTimeout });
                }
            });
            if (ledger.Config.Metrics is { } metrics)
            {
                // Prometheus scrapes over HTTP/1.1; this listener serves /metrics and nothing else.
                kestrel.Listen(System.Net.IPEndPoint.Parse(metrics.Listen), listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    listen.Use(next => connection =>
                    {
                        connection.Items[MetricsConnection] = true;
                        return next(connection);
                    });
                });
            }

            if (settings.HttpListen is { } http)
            {
                // The JSON gateway for tools that speak HTTP/1.1 (curl, a bank's HTTP client): the same services,
                // transcoded (google.api.http), with the same authentication.
                kestrel.Listen(http, listen =>
                {
                    listen.Protocols = certificate is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
                    listen.Use(next => kestrel.ApplicationServices.GetRequiredService<ConnectionGate>().Wrap(next));
                    if (certificate is not null)
                    {
                        listen.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate, HandshakeTimeout = limits.HandshakeTimeout });
                    }
                });
            }
        });

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(ledger);
        if (ledger.Peers.Count > 0 && ledger.Signer is { } validatorKey)
        {
            // The validator-to-validator links (docs/consensus.md, "Peer network"); LedgerRuntime runs QBFT over them.
            builder.Services.AddSingleton(services => PeerNetworkFactory.Create(ledger, validatorKey, services.GetRequiredService<ISignatureScheme>(), services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILoggerFactory>()));
            builder.Services.AddSingleton<IConsensusPeers>(services => services.GetRequiredService<PeerNetwork>());
        }

        builder.Services.AddSingleton<LedgerRuntime>();
        builder.Services.AddHostedService(services => services.GetRequiredService<LedgerRuntime>());
        builder.Services.AddSingleton(ledger.Genesis);
        builder.Services.TryAddSingleton(new ApiOptions());
        builder.Services.AddSingleton<MemberDirectory>();
        builder.Services.AddSingleton<ReplayGuard>();
        builder.Services.AddSingleton<ApiStageTimers>();
        builder.Services.AddSingleton<ApiAuthenticationInterceptor>();
        builder.Services.AddSingleton<AccessLogWriter>();
        builder.Services.AddSingleton<AccessLogAudit>();
        builder.Services.AddHostedService(services => services.GetRequiredService<AccessLogWriter>());
        builder.Services.AddSingleton<NodeReadiness>();
        builder.Services.AddSingleton<WatchJournal>();
        builder.Services.AddSingleton(services => new TrafficWarnings(services.GetRequiredService<ILogger<TrafficWarnings>>(), services.GetRequiredService<TimeProvider>(), limits.WarningInterval));
        builder.Services.AddSingleton<WatchSubscribers>();
        builder.Services.AddSingleton<ConnectionGate>();
        builder.Services.AddSingleton<NodeUptime>();
        builder.Services.AddSingleton<LedgerMetrics>();
        builder.Services.AddSingleton<IJobLedger>(services => services.GetRequiredService<LedgerRuntime>());
        if (ledger.Config.Jobs?.Reconciliation is { Enabled: true, Peers.Count: > 0 } reconciliation && ledger.ReconciliationSigner is { } member)
        {
            // Reconciliation reads the configured peers over their Audit API, signed as this region's member.
            builder.Services.TryAddSingleton<ILedgerPeerSource>(services => new GrpcLedgerPeerSource(reconciliation.Peers, member, ledger.Genesis.ChainId, services.GetRequiredService<CryptoSuite>(), reconciliation.PeerCallTimeout));
        }
        else
        {
            builder.Services.TryAddSingleton<ILedgerPeerSource>(_ => new FixedPeerSource([]));
        }
        builder.Services.AddLedgerJobs(
            ledger.Config.Jobs ?? new JobsOptions(),
            // The instances of one node id on one PostgreSQL database form one Quartz cluster, so they share the name
            // (each gets a generated instance id); an embedded node's RAM scheduler is its own.
            ledger.Postgres is null ? $"smartcity-{ledger.NodeId}-{Guid.NewGuid():N}" : $"smartcity-{ledger.NodeId}",
            ledger.Postgres is { } postgres ? new JobStoreSettings(postgres.ConnectionString, postgres.Schema) : new JobStoreSettings());
        if (ledger.AnchorSubmitter is { } anchorSubmitter)
        {
            // The AnchorJob's key and where it records its anchors: a file in the data directory, or the ledger schema's tables.
            builder.Services.AddSingleton(_ => new AnchorJobServices(
                anchorSubmitter,
                ledger.Postgres is { } pg ? new PostgresAnchorRecordStore(pg.ConnectionString, pg.Schema) : new FileAnchorRecordStore(Path.Combine(ledger.Embedded!.DataDirectory, "jobs"))));
        }

        builder.Services.AddSingleton<GrpcServerMetrics>();
        builder.Services.AddSingleton<RequestIdInterceptor>();
        builder.Services.AddSingleton<CallLoggingInterceptor>();
        builder.Services.AddSingleton<CallMetricsInterceptor>();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = settings.MaxReceiveMessageSize;
            grpc.MaxSendMessageSize = settings.MaxSendMessageSize;
            grpc.EnableDetailedErrors = false;
            grpc.Interceptors.Add<RequestIdInterceptor>();
            grpc.Interceptors.Add<CallLoggingInterceptor>();
            grpc.Interceptors.Add<CallMetricsInterceptor>();
            grpc.Interceptors.Add<ApiAuthenticationInterceptor>();
        }).AddServiceOptions<PeerServiceImpl>(peer =>
        {
            // A proposal carries its whole block: the peer service takes messages up to twice the largest block.
            peer.MaxReceiveMessageSize = Math.Max(settings.MaxReceiveMessageSize, (2 * ledger.Genesis.Parameters.MaxBlockBytes) + (1 << 20));
        }).AddJsonTranscoding(json =>
        {
            // A refusal's details (ErrorInfo, BadRequest) are written into the JSON error body, so their types must be known.
            json.TypeRegistry = Google.Protobuf.Reflection.TypeRegistry.FromMessages(Google.Rpc.ErrorInfo.Descriptor, Google.Rpc.BadRequest.Descriptor);
            // The proto3 JSON mapping writes 64-bit integers as strings (a JavaScript number loses precision above 2^53);
            // grpcurl, Python's json_format and protobuf.js print them so too.
            json.JsonSettings.WriteInt64sAsStrings = true;
        });
        builder.Services
            .AddGrpcHealthChecks(health => health.Services.Map(NodeService.Descriptor.FullName, _ => true))
            .AddCheck<NodeReadinessHealthCheck>(NodeReadinessHealthCheck.Name);
        builder.Services.AddGrpcReflection();

        // The chain's crypto suite from genesis: native libsecp256k1 (eth) or libcrypto (gm) when it loads, else the
        // managed fallback with a warning in the log (events 1101, 1103). Its signature scheme is what the ledger, the
        // peers and the audit service verify with.
        builder.Services.AddSingleton(services => ledger.Genesis.Crypto.CreateSuite(services.GetRequiredService<ILoggerFactory>().CreateLogger("SmartCity.Ledger.Crypto")));
        builder.Services.AddSingleton(services => services.GetRequiredService<CryptoSuite>().Signatures);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        bridge.Attach(app.Services.GetRequiredService<TrafficWarnings>());
        var apiErrors = app.Services.GetRequiredService<ApiOptions>().Validate();
        if (apiErrors.Count > 0)
        {
            throw new NodeConfigurationException($"api options: {apiErrors[0]}");
        }

        _ = app.Services.GetRequiredService<NodeUptime>();
        _ = app.Services.GetRequiredService<LedgerMetrics>();
        _ = app.Services.GetRequiredService<JobMetrics>();
        if (ledger.Config.Metrics is not null)
        {
            // This host's instruments only (several hosts share a process in tests), in this host's own registry.
            var meters = app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
            var registry = Metrics.NewCustomRegistry();
            var adapter = MeterAdapter.StartListening(new MeterAdapterOptions { Registry = registry, MetricFactory = Metrics.WithCustomRegistry(registry), InstrumentFilterPredicate = instrument => ReferenceEquals(instrument.Meter.Scope, meters) });
            app.Lifetime.ApplicationStopped.Register(adapter.Dispose);
            app.UseWhen(
                context => context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(MetricsConnection) == true,
                branch =>
                {
                    branch.UseMetricServer("/metrics", registry);
                    branch.Run(context =>
                    {
                        context.Response.StatusCode = StatusCodes.Status404NotFound;
                        return Task.CompletedTask;
                    });
                });
        }

        _ = app.Services.GetRequiredService<CryptoSuite>();
        var readiness = app.Services.GetRequiredService<NodeReadiness>();
        readiness.Require(NodeReadiness.HostStarted, "the host is starting");
        app.Lifetime.ApplicationStarted.Register(() => readiness.Ready(NodeReadiness.HostStarted));
        app.Lifetime.ApplicationStopping.Register(() => readiness.NotReady(NodeReadiness.HostStarted, "the node is stopping"));

        app.MapGrpcService<NodeServiceImpl>();
        app.MapGrpcService<CreditServiceImpl>();
        app.MapGrpcService<AttestationServiceImpl>();
        app.MapGrpcService<IncentiveServiceImpl>();
        app.MapGrpcService<AuditServiceImpl>();
        if (app.Services.GetService<PeerNetwork>() is not null)
        {
            app.MapGrpcService<PeerServiceImpl>();
        }

        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        return app;
    }

    /// <summary>The address Kestrel really bound (with the port chosen by the OS when asked for port 0).</summary>
    public static Uri ListeningAddress(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First());
    }

    private static X509Certificate2 LoadCertificate(NodeTlsSettings tls)
    {
        try
        {
            return tls.KeyPath is null
                ? X509CertificateLoader.LoadPkcs12FromFile(tls.CertificatePath, tls.Password)
                : X509Certificate2.CreateFromPemFile(tls.CertificatePath, tls.KeyPath);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new NodeConfigurationException($"TLS certificate '{tls.CertificatePath}'{(tls.KeyPath is null ? "" : $" with key '{tls.KeyPath}'")} cannot be loaded: {e.Message}", e);
        }
    }
}
