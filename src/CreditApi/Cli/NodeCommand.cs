using System.CommandLine;
using System.Net;
using SmartCity.CreditApi.Hosting;
using SmartCity.CreditApi.Node;
using SmartCity.Ledger.Keys;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Storage;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// <c>smartcity node --config FILE [--listen HOST:PORT] [--node-id ID] [--max-message-bytes N] [--tls-certificate FILE
/// [--tls-key FILE]]</c>: runs one regional node — its ledger (genesis, validator key, store, limits from the config
/// file, docs/node.md) and the gRPC API — until Ctrl+C or SIGTERM. The options override the file. Once the chain is
/// open and the port bound it prints <c>listening on http://HOST:PORT</c> (the real port when asked for port 0), so a
/// script or test can start it and read where to connect. A bad configuration stops it with one line and exit 2.
/// </summary>
internal sealed class NodeCommand : ICliCommandGroup
{
    /// <summary>The password of a PKCS#12 TLS certificate, read from the environment so it is not on the command line.</summary>
    public const string TlsPasswordVariable = "SMARTCITY_TLS_PASSWORD";

    private static readonly Option<string> Config = new("--config")
    {
        Description = "The node's configuration file (JSON; `smartcity init` writes one)",
        HelpName = "FILE",
        Required = true,
    };

    private static readonly Option<IPEndPoint> Listen = new("--listen")
    {
        Description = "IP address and port to serve gRPC on, instead of the config's (port 0: one the OS chooses, printed once bound)",
        HelpName = "HOST:PORT",
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
            if (IPEndPoint.TryParse(text, out var endpoint) && text.Contains(':', StringComparison.Ordinal))
            {
                return endpoint;
            }

            result.AddError($"--listen must be HOST:PORT with an IP address, e.g. 127.0.0.1:50051, got '{text}'");
            return null;
        },
    };

    private static readonly Option<string> NodeId = new("--node-id")
    {
        Description = "The node's name in Status and logs, instead of the config's",
        HelpName = "ID",
    };

    private static readonly Option<int?> MaxMessageBytes = new("--max-message-bytes")
    {
        Description = "Largest request message accepted, in bytes, instead of the config's",
        HelpName = "N",
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
            if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bytes) && bytes is > 0 and <= ServerLimits.MaxMessageBytesCeiling)
            {
                return bytes;
            }

            result.AddError($"--max-message-bytes must be a whole number of bytes between 1 and {ServerLimits.MaxMessageBytesCeiling} (64 MiB), got '{text}'");
            return null;
        },
    };

    private static readonly Option<string> TlsCertificate = new("--tls-certificate")
    {
        Description = "Serve TLS (HTTP/2 by ALPN) with this certificate, instead of the config's: PEM with --tls-key, or PKCS#12 (.pfx) alone; without TLS the node speaks cleartext HTTP/2 (h2c), meant for loopback",
        HelpName = "FILE",
    };

    private static readonly Option<string> TlsKey = new("--tls-key")
    {
        Description = "The PEM private key of --tls-certificate",
        HelpName = "FILE",
        Validators =
        {
            result =>
            {
                if (result.Parent?.GetResult(TlsCertificate) is null)
                {
                    result.AddError("--tls-key needs --tls-certificate");
                }
            },
        },
    };

    public Command Create() => new Command("node", "Run a regional node (its ledger and the gRPC API) until Ctrl+C or SIGTERM")
    {
        Config, Listen, NodeId, MaxMessageBytes, TlsCertificate, TlsKey,
    }.Handles(RunAsync);

    private static async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken)
    {
        NodeStartup startup;
        try
        {
            // The key source logs which key signs (event 1200) and warns about a clear-text key (1201) before the host exists.
            using var keyLogs = LoggerFactory.Create(logging => logging.AddConsole());
            startup = await NodeConfigLoader.LoadAsync(context.Required(Config), cancellationToken, ConsoleSecretPrompt.Instance, keyLogs.CreateLogger("SmartCity.Ledger.Keys")).ConfigureAwait(false);
        }
        catch (NodeConfigurationException e)
        {
            throw new CliUsageException(e.Message);
        }

        using var ownedKey = startup;
        var config = startup.Config;
        var tls = context.Value(TlsCertificate) is { } certificate
            ? new NodeTlsSettings(certificate, context.Value(TlsKey), Environment.GetEnvironmentVariable(TlsPasswordVariable))
            : config.Tls is { Certificate: { } configured } ? new NodeTlsSettings(Path.GetFullPath(configured, startup.ConfigDirectory), config.Tls.Key is { } key ? Path.GetFullPath(key, startup.ConfigDirectory) : null, Environment.GetEnvironmentVariable(TlsPasswordVariable))
            : null;
        if (!ConsortiumRegion.IsKnown(config.Region))
        {
            throw new CliUsageException($"region '{config.Region}' must be one of {string.Join(", ", ConsortiumRegion.All)}");
        }

        var settings = new NodeSettings(config.Region, context.Value(NodeId) ?? startup.NodeId, context.Value(Listen) ?? startup.Listen)
        {
            MaxReceiveMessageSize = context.Value(MaxMessageBytes) ?? config.MaxMessageBytes,
            Tls = tls,
            HttpListen = config.HttpListen is { } http ? IPEndPoint.Parse(http) : null,
        };

        // A port in use is found before the ledger opens, so the operator sees one line and nothing else.
        EnsureCanListen(settings.Listen);
        if (settings.HttpListen is { } httpListen)
        {
            EnsureCanListen(httpListen, "httpListen");
        }
        WebApplication built;
        try
        {
            built = NodeHost.Build(settings, startup);
        }
        catch (NodeConfigurationException e)
        {
            throw new CliUsageException(e.Message);
        }

        await using var app = built;
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new CliUsageException($"--listen: cannot listen on {settings.Listen}: {e.Message}");
        }
        catch (Exception e) when (e is NodeConfigurationException or GenesisMismatchException or StoreException)
        {
            throw new CliUsageException(e.Message);
        }

        await context.Output.WriteLineAsync(CollectorSettings.Describe()).ConfigureAwait(false);
        await context.Output.WriteLineAsync($"listening on {NodeHost.ListeningAddress(app).ToString().TrimEnd('/')}").ConfigureAwait(false);
        await context.Output.FlushAsync(cancellationToken).ConfigureAwait(false);

        // Returns on Ctrl+C (the token) or SIGTERM (the host's console lifetime), then stops the host gracefully.
        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    /// <summary>Binds the address once (as Kestrel will, with SO_REUSEADDR) and lets it go: an address in use or not on this machine is bad input.</summary>
    private static void EnsureCanListen(IPEndPoint endpoint, string setting = "--listen")
    {
        if (endpoint.Port == 0)
        {
            return;
        }

        using var probe = new System.Net.Sockets.Socket(endpoint.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            probe.SetSocketOption(System.Net.Sockets.SocketOptionLevel.Socket, System.Net.Sockets.SocketOptionName.ReuseAddress, true);
            probe.Bind(endpoint);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new CliUsageException($"{setting}: cannot listen on {endpoint}: {e.Message}");
        }
    }
}
