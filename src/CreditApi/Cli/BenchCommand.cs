using System.CommandLine;
using SmartCity.CreditApi.Bench;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// A load tool under <c>smartcity bench</c>. To add one (say <c>bench api</c>), add a class that implements this
/// interface and has a public parameterless constructor: <see cref="BenchCommand"/> finds it.
/// </summary>
public interface IBenchTarget
{
    Command Create();
}

/// <summary><c>smartcity bench …</c>: the load tools (every <see cref="IBenchTarget"/> of this assembly, in name order).</summary>
internal sealed class BenchCommand : ICliCommandGroup
{
    public Command Create()
    {
        var group = new Command("bench", "Load tools: measure a running ledger against its targets");
        foreach (var command in typeof(BenchCommand).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IBenchTarget).IsAssignableFrom(t))
            .Select(t => ((IBenchTarget)Activator.CreateInstance(t, nonPublic: true)!).Create())
            .OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            group.Add(command);
        }

        return group.ShowsHelp();
    }
}

/// <summary>
/// <c>smartcity bench cluster [--clients 64] [--in-flight 32] [--duration 60] [--warmup 15] [--dir DIR [--keep]]
/// [--nodes URL,URL,URL,URL] [--json FILE] [--markdown FILE]</c>: issue 12's cluster benchmark (<see cref="ClusterBench"/>).
/// </summary>
internal sealed class BenchClusterCommand : IBenchTarget
{
    private static readonly Option<int> Clients = new("--clients") { Description = "Signing clients, each its own member with its own nonces", HelpName = "N", DefaultValueFactory = _ => 64 };
    private static readonly Option<int> InFlight = new("--in-flight") { Description = "Transactions each client keeps submitted but not yet committed", HelpName = "N", DefaultValueFactory = _ => 32 };
    private static readonly Option<int> Duration = new("--duration") { Description = "Seconds measured (after the warm-up)", HelpName = "SECONDS", DefaultValueFactory = _ => 60 };
    private static readonly Option<int> Warmup = new("--warmup") { Description = "Seconds of load before the measurement starts", HelpName = "SECONDS", DefaultValueFactory = _ => 15 };
    private static readonly Option<int> CeilingTransactions = new("--ceiling-tx") { Description = "Transactions the in-process ceiling measurement verifies and applies", HelpName = "N", DefaultValueFactory = _ => 8_000 };
    private static readonly Option<int> RoundTimeout = new("--round-timeout-ms") { Description = "QBFT round-0 timeout of the nodes the benchmark starts (rounds double it, up to 8×)", HelpName = "MS", DefaultValueFactory = _ => 5_000 };
    private static readonly Option<int> BlockPeriod = new("--block-period-ms") { Description = "QBFT block period of the nodes the benchmark starts: the least time between blocks", HelpName = "MS", DefaultValueFactory = _ => 250 };
    private static readonly Option<string> Dir = new("--dir") { Description = "The consortium's setup: reused if it exists, else written (default: a temporary directory, deleted at the end)", HelpName = "DIR" };
    private static readonly Option<bool> Keep = new("--keep") { Description = "Keep the setup directory (with --nodes, a later run loads the same consortium)" };
    private static readonly Option<string> Nodes = new("--nodes") { Description = "Load these running nodes (gRPC addresses, comma-separated) of the setup in --dir instead of starting four", HelpName = "URL,URL,URL,URL" };
    private static readonly Option<string> Json = new("--json") { Description = "Also write the results as JSON to this file", HelpName = "FILE" };
    private static readonly Option<string> Markdown = new("--markdown") { Description = "Also write the results table (Markdown) to this file", HelpName = "FILE" };

    public Command Create() => new Command("cluster", "N signing clients against a local 4-validator QBFT consortium: committed tx/s, p99 submit-to-commit, beside the machine's ceiling")
    {
        Clients, InFlight, Duration, Warmup, CeilingTransactions, RoundTimeout, BlockPeriod, Dir, Keep, Nodes, Json, Markdown,
    }.Handles(RunAsync);

    private static async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken)
    {
        var clients = context.Required(Clients);
        var inFlight = context.Required(InFlight);
        var duration = context.Required(Duration);
        var warmup = context.Required(Warmup);
        var ceiling = context.Required(CeilingTransactions);
        var roundTimeout = context.Required(RoundTimeout);
        var blockPeriod = context.Required(BlockPeriod);
        if (clients is < 1 or > 10_000 || inFlight is < 1 or > 1_000 || duration is < 1 or > 86_400 || warmup is < 0 or > 3_600 || ceiling is < 100 or > 1_000_000
            || roundTimeout is < 100 or > 600_000 || blockPeriod is < 0 or > 60_000)
        {
            throw new CliUsageException("--clients must be 1-10000, --in-flight 1-1000, --duration 1-86400, --warmup 0-3600, --ceiling-tx 100-1000000, --round-timeout-ms 100-600000, --block-period-ms 0-60000");
        }

        IReadOnlyList<Uri>? nodes = null;
        if (context.Value(Nodes) is { } list)
        {
            var parsed = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(a => Uri.TryCreate(a.Contains("://", StringComparison.Ordinal) ? a : "http://" + a, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Port > 0 ? uri : null)
                .ToList();
            if (parsed.Count == 0 || parsed.Contains(null))
            {
                throw new CliUsageException($"--nodes must be gRPC addresses (host:port or http(s)://host:port), comma-separated, got '{list}'");
            }

            if (context.Value(Dir) is null)
            {
                throw new CliUsageException("--nodes needs --dir: the setup the nodes run (its genesis names the benchmark's members)");
            }

            nodes = [.. parsed.Select(u => u!)];
        }

        var json = context.Value(Json);
        var markdown = context.Value(Markdown);
        foreach (var file in new[] { json, markdown }.OfType<string>())
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(file));
            if (folder is null || !Directory.Exists(folder))
            {
                throw new CliUsageException($"cannot write '{file}': its directory does not exist");
            }
        }

        var options = new ClusterBenchOptions
        {
            Clients = clients,
            InFlightPerClient = inFlight,
            Duration = TimeSpan.FromSeconds(duration),
            Warmup = TimeSpan.FromSeconds(warmup),
            CeilingTransactions = ceiling,
            RoundTimeout = TimeSpan.FromMilliseconds(roundTimeout),
            BlockPeriod = TimeSpan.FromMilliseconds(blockPeriod),
            Directory = context.Value(Dir),
            Keep = context.Value(Keep),
            Nodes = nodes,
        };
        ClusterBenchReport report;
        try
        {
            report = await new ClusterBench(options, context.Output).RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (BenchSetupException e)
        {
            throw new CliUsageException(e.Message);
        }
        catch (Node.NodeConfigurationException e)
        {
            throw new CliUsageException(e.Message);
        }

        await context.Output.WriteLineAsync().ConfigureAwait(false);
        await context.Output.WriteAsync(report.Markdown).ConfigureAwait(false);
        await context.Output.WriteLineAsync(report.Json).ConfigureAwait(false);
        if (json is not null)
        {
            await File.WriteAllTextAsync(json, report.Json + "\n", cancellationToken).ConfigureAwait(false);
        }

        if (markdown is not null)
        {
            await File.WriteAllTextAsync(markdown, report.Markdown, cancellationToken).ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }
}
