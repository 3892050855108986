using System.CommandLine;
using SmartCity.CreditApi.Demo;
using SmartCity.Ledger.Genesis;

namespace SmartCity.CreditApi.Cli;

/// <summary>`smartcity demo`: a guided tour of a local 4-region consortium built from the real engine (<see cref="DemoTour"/>).</summary>
internal sealed class DemoCommand : ICliCommandGroup
{
    private static readonly Option<string> Out = new("--out")
    {
        Description = "Keep the node stores, receipts and genesis in this directory (default: a new temporary one)",
        HelpName = "DIR",
    };

    private static readonly Option<string> Genesis = new("--genesis")
    {
        Description = "The genesis file (default: the sample genesis, whose test keys the tour signs with)",
        HelpName = "FILE",
    };

    public Command Create() => new Command("demo", "A local 4-region consortium (BJ, TJ, HE, XA) in one process with sample data and a guided tour")
    {
        Out, Genesis,
    }.Handles(RunAsync);

    private static async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken)
    {
        var genesisPath = context.Value(Genesis) ?? Path.Combine(AppContext.BaseDirectory, "genesis", "sample-genesis.json");
        var genesisText = await CliFiles.ReadTextAsync("genesis", genesisPath, cancellationToken).ConfigureAwait(false);
        var loaded = GenesisLoader.Load(genesisText);
        if (!loaded.IsValid)
        {
            throw new CliUsageException($"genesis {genesisPath}: {loaded.Errors[0]}");
        }

        var outDir = context.Value(Out) ?? Directory.CreateTempSubdirectory("smartcity-demo-").FullName;
        try
        {
            Directory.CreateDirectory(outDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new CliUsageException($"--out: cannot create '{outDir}': {e.Message}");
        }

        var smartcity = Environment.ProcessPath is { } exe && Path.GetFileNameWithoutExtension(exe) == "smartcity" ? exe : "smartcity";
        try
        {
            await DemoTour.RunAsync(loaded.Document!, genesisText, Path.GetFileName(genesisPath), outDir, smartcity, context.Output, context.Console, cancellationToken).ConfigureAwait(false);
        }
        catch (DemoSetupException e)
        {
            throw new CliUsageException(e.Message);
        }

        return ExitCodes.Success;
    }
}
