using System.CommandLine;
using System.Text.Json;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// <c>smartcity bench api</c>: the credit API's targets of issue 13 (<see cref="ApiBench"/>); it starts the node it
/// measures on this machine (loopback only) and stops it by itself.
/// </summary>
internal sealed class BenchApiCommand : IBenchTarget
{
    private static readonly Option<int> Requests = new("--throughput-requests")
    {
        Description = "Calls per closed-loop throughput phase (the trivial call, then GetTrustScore)",
        HelpName = "N",
        DefaultValueFactory = _ => 20_000,
    };

    private static readonly Option<int> Concurrency = new("--concurrency")
    {
        Description = "Calls in flight in the closed-loop throughput phases",
        HelpName = "N",
        DefaultValueFactory = _ => 64,
    };

    private static readonly Option<int> ScoreRate = new("--score-rate")
    {
        Description = "GetTrustScore arrival rate of the open-loop latency phase, requests/s",
        HelpName = "N",
        DefaultValueFactory = _ => 2000,
    };

    private static readonly Option<int> LicenceRate = new("--licence-rate")
    {
        Description = "VerifyLicence arrival rate of the open-loop latency phase, requests/s",
        HelpName = "N",
        DefaultValueFactory = _ => 1000,
    };

    private static readonly Option<int> Duration = new("--duration")
    {
        Description = "Seconds of each open-loop latency phase",
        HelpName = "SECONDS",
        DefaultValueFactory = _ => 10,
    };

    private static readonly Option<int> WarmUp = new("--warmup")
    {
        Description = "Seconds each open-loop phase first runs at its rate, unmeasured (0: none)",
        HelpName = "SECONDS",
        DefaultValueFactory = _ => 5,
    };

    private static readonly Option<int> Records = new("--records")
    {
        Description = "Credit records of the scored subject",
        HelpName = "N",
        DefaultValueFactory = _ => 50,
    };

    private static readonly Option<int> ChainTransactions = new("--chain-transactions")
    {
        Description = "Credit records written to the chain VerifyChain then reads (issue 13 names 1,000,000)",
        HelpName = "N",
        DefaultValueFactory = _ => 20_000,
    };

    private static readonly Option<string> JsonOut = new("--json")
    {
        Description = "Write the results as JSON to this file",
        HelpName = "FILE",
    };

    private static readonly Option<string> MarkdownOut = new("--markdown")
    {
        Description = "Write the results as a Markdown table to this file",
        HelpName = "FILE",
    };

    private static readonly Option<string> SaveReceipt = new("--save-receipt")
    {
        Description = "Write one VerifyLicence receipt (licence-verification.json) and the run's genesis (genesis.json) to this directory",
        HelpName = "DIR",
    };

    public Command Create() => new Command("api", "Measure the credit API against issue 13's targets: one node on 127.0.0.1, throughput, open-loop p99 latency, VerifyChain")
    {
        Requests, Concurrency, ScoreRate, LicenceRate, Duration, WarmUp, Records, ChainTransactions, JsonOut, MarkdownOut, SaveReceipt,
    }.Handles(RunApiAsync);

    private static async Task<int> RunApiAsync(CliContext context, CancellationToken cancellationToken)
    {
        int Positive(Option<int> option, int max)
        {
            var value = context.Required(option);
            return value >= 1 && value <= max ? value : throw new CliUsageException($"{option.Name} must be 1-{max:N0}, got {value}");
        }

        var chain = context.Required(ChainTransactions);
        if (chain is < 0 or > 10_000_000)
        {
            throw new CliUsageException($"--chain-transactions must be 0-10,000,000, got {chain}");
        }

        var warmUp = context.Required(WarmUp);
        if (warmUp is < 0 or > 3600)
        {
            throw new CliUsageException($"--warmup must be 0-3,600, got {warmUp}");
        }

        var options = new ApiBenchOptions(Positive(Requests, 10_000_000), Positive(Concurrency, 10_000), Positive(ScoreRate, 100_000), Positive(LicenceRate, 100_000),
            TimeSpan.FromSeconds(Positive(Duration, 3600)), Positive(Records, 10_000), chain, context.Value(SaveReceipt))
        { WarmUp = TimeSpan.FromSeconds(warmUp) };
        var sample = await CliFiles.ReadTextAsync("sample genesis", Path.Combine(AppContext.BaseDirectory, "genesis", "sample-genesis.json"), cancellationToken).ConfigureAwait(false);
        var report = await new ApiBench(options, context.Error).RunAsync(sample, cancellationToken).ConfigureAwait(false);
        var markdown = ApiBench.Markdown(report);
        await context.Output.WriteLineAsync(markdown).ConfigureAwait(false);
        if (context.Value(JsonOut) is { } json)
        {
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, ApiBench.Json), cancellationToken).ConfigureAwait(false);
        }

        if (context.Value(MarkdownOut) is { } md)
        {
            await File.WriteAllTextAsync(md, markdown, cancellationToken).ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }
}
