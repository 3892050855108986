using System.CommandLine;
using System.Net;
using SmartCity.CreditApi.Hosting;
using SmartCity.CreditApi.Node;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// <c>smartcity node --region BJ --listen 127.0.0.1:PORT [--node-id ID] [--max-message-bytes N] [--tls-certificate FILE
/// [--tls-key FILE]]</c>: runs one
/// regional node until Ctrl+C or SIGTERM. Once bound it prints <c>listening on http://HOST:PORT</c> (with the
/// real port when asked for port 0), so a script or test can start it and read where to connect.
/// </summary>
internal sealed class NodeCommand : ICliCommandGroup
{
    /// <summary>The password of a PKCS#12 --tls-certificate, read from the environment so it is not on the command line.</summary>
    public const string TlsPasswordVariable = "SMARTCITY_TLS_PASSWORD";

    private static readonly Option<string> Region = new("--region")
    {
        Description = "The region this node validates for",
        HelpName = string.Join('|', ConsortiumRegion.All),
        Required = true,
        Validators =
        {
            result =>
            {
                if (result.GetValueOrDefault<string>() is { } region && !ConsortiumRegion.IsKnown(region))
                {
                    result.AddError($"--region must be one of {string.Join(", ", ConsortiumRegion.All)}, got '{region}'");
                }
            },
        },
    };

    private static readonly Option<IPEndPoint> Listen = new("--listen")
    {
        Description = "IP address and port to serve gRPC on (port 0: one the OS chooses, printed once bound)",
        HelpName = "HOST:PORT",
        Required = true,
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
        Description = "The node's name in Status and logs (default: the region in lower case, '-1')",
        HelpName = "ID",
    };

    private static readonly Option<int> MaxMessageBytes = new("--max-message-bytes")
    {
        Description = "Largest request message accepted, in bytes",
        HelpName = "N",
        DefaultValueFactory = _ => NodeSettings.DefaultMaxReceiveMessageSize,
        Validators =
        {
            result =>
            {
                if (result.GetValueOrDefault<int>() is var bytes and <= 0)
                {
                    result.AddError($"--max-message-bytes must be positive, got {bytes}");
                }
            },
        },
    };

    private static readonly Option<string> TlsCertificate = new("--tls-certificate")
    {
        Description = "Serve TLS (HTTP/2 by ALPN) with this certificate: PEM with --tls-key, or PKCS#12 (.pfx) alone; without it the node speaks cleartext HTTP/2 (h2c), meant for loopback",
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

    public Command Create() => new Command("node", "Run a regional node serving the gRPC API until Ctrl+C or SIGTERM")
    {
        Region, Listen, NodeId, MaxMessageBytes, TlsCertificate, TlsKey,
    }.Handles(RunAsync);

    private static async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken)
    {
        var region = context.Required(Region);
        var settings = new NodeSettings(region, context.Value(NodeId) ?? $"{region.ToLowerInvariant()}-1", context.Required(Listen))
        {
            MaxReceiveMessageSize = context.Required(MaxMessageBytes),
            Tls = context.Value(TlsCertificate) is { } certificate ? new NodeTlsSettings(certificate, context.Value(TlsKey), Environment.GetEnvironmentVariable(TlsPasswordVariable)) : null,
        };

        WebApplication built;
        try
        {
            built = NodeHost.Build(settings);
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
            throw new CliUsageException($"cannot listen on {settings.Listen}: {e.Message}");
        }

        await context.Output.WriteLineAsync($"listening on {NodeHost.ListeningAddress(app).ToString().TrimEnd('/')}").ConfigureAwait(false);
        await context.Output.FlushAsync(cancellationToken).ConfigureAwait(false);

        // Returns on Ctrl+C (the token) or SIGTERM (the host's console lifetime), then stops the host gracefully.
        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
