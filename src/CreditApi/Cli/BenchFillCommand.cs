using System.CommandLine;
using System.Globalization;
using SmartCity.CreditApi.Bench;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// <c>smartcity bench fill --store DIR [--postgres CS] [--tx 1000000] [--block-size 2000] [--signers 256] [--validators 1|4]
/// [--crypto eth|gm] [--retention N] [--resume]</c>: writes a real, certified chain fast (<see cref="StoreFill"/>) for the
/// benchmarks over a large store (<c>bench million</c>).
/// </summary>
internal sealed class BenchFillCommand : IBenchTarget
{
    private static readonly Option<string> Store = new("--store")
    {
        Description = "The setup's directory: genesis, keys, node config (node-bj.json), fill.json, and the embedded store under data/ (with --postgres the store goes to the schema node_bj)",
        HelpName = "DIR",
        Required = true,
    };

    private static readonly Option<string> Postgres = new("--postgres") { Description = "Fill a PostgreSQL store (schema node_bj) on this server instead of the embedded one", HelpName = "CONNECTION-STRING" };
    private static readonly Option<long> Transactions = new("--tx") { Description = "Transactions the chain holds when the fill ends", HelpName = "N", DefaultValueFactory = _ => 1_000_000 };
    private static readonly Option<int> BlockSize = new("--block-size") { Description = "Transactions per block", HelpName = "K", DefaultValueFactory = _ => 2_000 };
    private static readonly Option<int> Signers = new("--signers") { Description = "Signing members (credit designators, licence issuers, list initiators of Beijing), each with its own nonces", HelpName = "N", DefaultValueFactory = _ => 256 };
    private static readonly Option<int> Validators = new("--validators") { Description = "Genesis validators: 1 (a single-node chain) or 4 (a consortium's genesis; every block carries a quorum of 3 seals)", HelpName = "1|4", DefaultValueFactory = _ => 1 };
    private static readonly Option<string> Crypto = new("--crypto") { Description = "The chain's crypto suite: eth or gm", HelpName = "eth|gm", DefaultValueFactory = _ => "eth" };
    private static readonly Option<int> Retention = new("--retention") { Description = "State versions the node keeps (its config's retention.stateVersions; 0 keeps every version)", HelpName = "N", DefaultValueFactory = _ => 0 };
    private static readonly Option<int> Subjects = new("--subjects") { Description = "Enterprises the records, licences and list entries are about (a resumed fill keeps the first run's)", HelpName = "N", DefaultValueFactory = _ => 100_000 };
    private static readonly Option<bool> Resume = new("--resume") { Description = "Continue the fill of an existing --store setup from its store's head" };

    public Command Create() => new Command("fill", "Write a real, certified chain of N transactions fast (signed across the cores, built and committed through the engine) for the benchmarks over a large store")
    {
        Store, Postgres, Transactions, BlockSize, Signers, Validators, Crypto, Retention, Subjects, Resume,
    }.Handles(RunAsync);

    private static async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken)
    {
        var total = context.Required(Transactions);
        var blockSize = context.Required(BlockSize);
        var signers = context.Required(Signers);
        var validators = context.Required(Validators);
        var retention = context.Required(Retention);
        var subjects = context.Required(Subjects);
        if (total is < 1 or > 100_000_000 || blockSize is < 1 or > 100_000 || signers is < 1 or > 100_000 || validators is not (1 or 4) || retention < 0 || subjects is < 1 or > 10_000_000)
        {
            throw new CliUsageException("--tx must be 1-100000000, --block-size 1-100000, --signers 1-100000, --validators 1 or 4, --retention 0 or more, --subjects 1-10000000");
        }

        var cryptoText = context.Required(Crypto);
        if (!CryptoSuiteNames.TryParse(cryptoText, out var suite))
        {
            throw new CliUsageException($"--crypto: '{cryptoText}' is neither eth nor gm");
        }

        var options = new StoreFillOptions(Path.GetFullPath(context.Required(Store)), context.Value(Postgres), total, blockSize, signers, validators, suite, retention, subjects);
        var sample = await CliFiles.ReadTextAsync("sample genesis", Path.Combine(AppContext.BaseDirectory, "genesis", "sample-genesis.json"), cancellationToken).ConfigureAwait(false);
        StoreFillSummary summary;
        try
        {
            summary = await new StoreFill(options, context.Error).RunAsync(sample, context.Value(Resume), cancellationToken).ConfigureAwait(false);
        }
        catch (BenchSetupException e)
        {
            throw new CliUsageException(e.Message);
        }
        catch (Node.NodeConfigurationException e)
        {
            throw new CliUsageException(e.Message);
        }

        await context.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"filled: head {summary.Head} ({summary.HeadHash}), {summary.Transactions:N0} transactions ({summary.CreditRecords:N0} credit records, {summary.Licences:N0} licences, {summary.ListEntries:N0} list entries; ~{summary.StateKeys:N0} state keys), state root {summary.StateRoot}; {summary.TransactionsPerSecond:N0} tx/s over {summary.Seconds:N1} s (load {summary.LoadAverage})")).ConfigureAwait(false);
        await context.Output.WriteLineAsync($"setup: {options.Directory} (genesis.json, node-bj.json, {StoreFillSummary.FileName}); check it with `smartcity store verify {(summary.Store == "embedded" ? $"--data {Path.Combine(options.Directory, "data", "bj")}" : "--postgres … --schema node_bj")} --genesis {Path.Combine(options.Directory, "genesis.json")}`").ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
