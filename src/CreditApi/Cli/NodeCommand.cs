using System.Net;
using SmartCity.CreditApi.Hosting;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// <c>smartcity node --region BJ --listen 127.0.0.1:PORT [--node-id ID] [--max-message-bytes N]</c>: runs one
/// regional node until Ctrl+C or SIGTERM. Once bound it prints <c>listening on http://HOST:PORT</c> (with the
/// real port when asked for port 0), so a script or test can start it and read where to connect.
/// </summary>
internal static class NodeCommand
{
    public static CliCommand Create() => CliCommand.Leaf(
        "node",
        "Run a regional node serving the gRPC API until Ctrl+C or SIGTERM",
        "--region BJ|TJ|HE|XA --listen HOST:PORT [--node-id ID] [--max-message-bytes N]",
        RunAsync);

    private static async Task<int> RunAsync(CliInvocation invocation, CancellationToken cancellationToken)
    {
        invocation.RejectUnknown("region", "listen", "node-id", "max-message-bytes");
        var settings = Parse(invocation);

        await using var app = NodeHost.Build(settings);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await invocation.Error.WriteLineAsync($"{invocation.CommandPath}: cannot listen on {settings.Listen}: {e.Message}").ConfigureAwait(false);
            return CommandLine.BadInput;
        }

        await invocation.Output.WriteLineAsync($"listening on {NodeHost.ListeningAddress(app).ToString().TrimEnd('/')}").ConfigureAwait(false);
        await invocation.Output.FlushAsync(cancellationToken).ConfigureAwait(false);

        // Returns on Ctrl+C (the token) or SIGTERM (the host's console lifetime), then stops the host gracefully.
        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        return CommandLine.Success;
    }

    private static NodeSettings Parse(CliInvocation invocation)
    {
        var region = invocation.Required("region");
        if (!ConsortiumRegion.IsKnown(region))
        {
            throw new CliUsageException($"--region must be one of {string.Join(", ", ConsortiumRegion.All)}, got '{region}'");
        }

        var listenText = invocation.Required("listen");
        if (!IPEndPoint.TryParse(listenText, out var listen) || !listenText.Contains(':', StringComparison.Ordinal))
        {
            throw new CliUsageException($"--listen must be HOST:PORT with an IP address, e.g. 127.0.0.1:50051, got '{listenText}'");
        }

        var maxMessageBytes = invocation.OptionalInt("max-message-bytes", 4 * 1024 * 1024);
        if (maxMessageBytes <= 0)
        {
            throw new CliUsageException($"--max-message-bytes must be positive, got {maxMessageBytes}");
        }

        var nodeId = invocation.Optional("node-id") ?? $"{region.ToLowerInvariant()}-1";
        return new NodeSettings(region, nodeId, listen) { MaxReceiveMessageSize = maxMessageBytes };
    }
}
