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

    private static readonly Option<string> Crypto = new("--crypto")
    {
        Description = "The sample chain's crypto suite: eth (secp256k1/Keccak-256, the default) or gm (SM2/SM3: the sample genesis with \"crypto\": \"gm\" and the gm addresses of the same test keys)",
        HelpName = "eth|gm",
    };

    private static readonly Option<string> EvmRpc = new("--evm-rpc")
    {
        Description = "A development EVM node to anchor a checkpoint on (scripts/demo.sh starts a local ganache and passes it)",
        HelpName = "URL",
    };

    private static readonly Option<string> EvmKey = new("--evm-key")
    {
        Description = "A funded account of that EVM node: a CLEAR-TEXT key file (development chains only)",
        HelpName = "FILE",
    };

    private static readonly Option<string> EvmUnavailable = new("--evm-unavailable")
    {
        Description = "Why no EVM node could be started (scripts/demo.sh): the tour says it skips anchoring and why",
        HelpName = "REASON",
    };

    public Command Create() => new Command("demo", "A local 4-region consortium (BJ, TJ, HE, XA) in one process with sample data and a guided tour")
    {
        Out, Genesis, Crypto, EvmRpc, EvmKey, EvmUnavailable,
    }.Handles(RunAsync);

    private static async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken)
    {
        var suite = Ledger.Crypto.CryptoSuiteId.Eth;
        if (context.Value(Crypto) is { } cryptoText)
        {
            if (!Ledger.Crypto.CryptoSuiteNames.TryParse(cryptoText, out suite))
            {
                throw new CliUsageException($"--crypto: '{cryptoText}' is neither eth (secp256k1/Keccak-256) nor gm (SM2/SM3)");
            }

            if (context.Value(Genesis) is not null)
            {
                throw new CliUsageException("--crypto chooses the sample genesis's suite; a --genesis file states its own (\"crypto\")");
            }
        }

        var genesisPath = context.Value(Genesis) ?? Path.Combine(AppContext.BaseDirectory, "genesis", "sample-genesis.json");
        var genesisText = await CliFiles.ReadTextAsync("genesis", genesisPath, cancellationToken).ConfigureAwait(false);
        genesisText = DemoGenesis.ForSuite(genesisText, suite);
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

        Uri? rpc = null;
        if (context.Value(EvmRpc) is { } rpcText)
        {
            if (!Uri.TryCreate(rpcText, UriKind.Absolute, out rpc) || rpc.Scheme is not ("http" or "https"))
            {
                throw new CliUsageException($"--evm-rpc: '{rpcText}' is not an http(s) URL");
            }

            if (context.Value(EvmKey) is null)
            {
                throw new CliUsageException("--evm-rpc needs --evm-key FILE (a funded account of that EVM node)");
            }
        }

        var anchoring = new DemoAnchorSettings(rpc, context.Value(EvmKey), context.Value(EvmUnavailable));
        var smartcity = Environment.ProcessPath is { } exe && Path.GetFileNameWithoutExtension(exe) == "smartcity" ? exe : "smartcity";
        try
        {
            await DemoTour.RunAsync(loaded.Document!, genesisText, Path.GetFileName(genesisPath), outDir, smartcity, context.Output, context.Console, cancellationToken, anchoring).ConfigureAwait(false);
        }
        catch (DemoSetupException e)
        {
            throw new CliUsageException(e.Message);
        }
        catch (SmartCity.Ledger.Storage.StoreException e)
        {
            // A store the tour cannot open (damaged, locked by another process) is the operator's directory, not a bug.
            throw new CliUsageException($"--out: '{outDir}' holds a store that cannot be opened ({e.Message}); the tour starts from genesis in an empty directory");
        }

        return ExitCodes.Success;
    }
}
