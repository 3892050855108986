using System.Net;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Hosting;
using SmartCity.CreditApi.Node;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Tests.Grpc.Infrastructure;

/// <summary>
/// A real node host (Kestrel, HTTP/2 cleartext, Grpc.AspNetCore) on 127.0.0.1 with a port chosen by the OS, serving
/// NodeService with a 64 KiB receive limit over a single-validator ledger in a temporary directory, and a
/// Grpc.Net.Client channel to it.
/// </summary>
public class InProcessNode : IAsyncLifetime
{
    public const string Region = "TJ";
    public const string NodeId = "tj-test";
    public const int MaxReceiveMessageSize = 64 * 1024;

    private WebApplication? _app;
    private GrpcChannel? _channel;
    private LedgerSetup? _ledger;

    /// <summary>A node of the eth suite (the constructor xUnit uses for a class fixture).</summary>
    public InProcessNode()
        : this(CryptoSuiteId.Eth)
    {
    }

    /// <param name="suite">The chain's crypto suite (<c>smartcity init --crypto</c>): eth or gm.</param>
    internal InProcessNode(CryptoSuiteId suite) => Suite = suite;

    /// <summary>The crypto suite of the node's chain.</summary>
    public CryptoSuiteId Suite { get; }

    public Uri Address { get; private set; } = null!;

    /// <summary>The target in the host:port form Python and Node clients take.</summary>
    public string Target => $"{Address.Host}:{Address.Port}";

    public GrpcChannel Channel => _channel ?? throw new InvalidOperationException("Not started.");

    public NodeService.NodeServiceClient Client => new(Channel);

    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("Not started.");

    public NodeReadiness Readiness => Services.GetRequiredService<NodeReadiness>();

    /// <summary>The node's ledger setup: a single-validator chain of region <see cref="Region"/> with fresh member keys.</summary>
    public LedgerSetup Ledger => _ledger ?? throw new InvalidOperationException("Not started.");

    protected virtual NodeSettings Configure(NodeSettings settings) => settings;

    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    /// <summary>Changes the ledger's config file before the node starts (e.g. its limits).</summary>
    protected virtual void ConfigureLedger(System.Text.Json.Nodes.JsonObject config)
    {
    }

    public async Task InitializeAsync()
    {
        var settings = Configure(new NodeSettings(Region, NodeId, new IPEndPoint(IPAddress.Loopback, 0)) { MaxReceiveMessageSize = MaxReceiveMessageSize });
        _ledger = await LedgerSetup.CreateAsync(Region, suite: Suite);
        _ledger.EditConfig(ConfigureLedger);
        _app = NodeHost.Build(settings, await _ledger.StartupAsync(), ConfigureServices);
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

        if (_ledger is not null)
        {
            await _ledger.DisposeAsync();
        }
    }
}

/// <summary>A node whose responses may not exceed 1 KiB, to prove the server's send limit.</summary>
public sealed class SmallSendLimitNode : InProcessNode
{
    public const int MaxSendMessageSize = 1024;

    protected override NodeSettings Configure(NodeSettings settings) => settings with { MaxSendMessageSize = MaxSendMessageSize };
}
