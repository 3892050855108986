using System.CommandLine;
using SmartCity.CreditApi.Node;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// <c>smartcity init [--dir DIR] [--regions BJ|BJ,TJ,HE,XA] [--base-port N] [--postgres CONNECTION]</c>: writes a
/// working local setup (<see cref="LocalSetup"/>): genesis, keystores under the development password and one node config per region on
/// consecutive loopback ports. One region is a single-node ledger that commits on its own; four regions are a
/// consortium whose nodes dial each other (each config's peers) and agree by QBFT. Prints what it wrote and the command that starts each node.
/// </summary>
internal sealed class InitCommand : ICliCommandGroup
{
    private static readonly Option<string> Dir = new("--dir")
    {
        Description = "Where to write the setup (created if missing; existing files are never overwritten)",
        HelpName = "DIR",
        DefaultValueFactory = _ => "smartcity-local",
    };

    private static readonly Option<string> Regions = new("--regions")
    {
        Description = "Regions that run a validator node, comma-separated (BJ: a single-node chain; BJ,TJ,HE,XA: the 4-region consortium)",
        HelpName = "BJ,TJ,HE,XA",
        DefaultValueFactory = _ => "BJ",
    };

    private static readonly Option<int> BasePort = new("--base-port")
    {
        Description = "The first node's port on 127.0.0.1; the next nodes take the following ports (0: ports the OS chooses)",
        HelpName = "N",
        DefaultValueFactory = _ => 50051,
    };

    private static readonly Option<string> Postgres = new("--postgres")
    {
        Description = "Keep each node's ledger in PostgreSQL (its own schema, node_<region>) instead of a data directory",
        HelpName = "CONNECTION",
    };

    private static readonly Option<string> Crypto = new("--crypto")
    {
        Description = "The chain's crypto suite, fixed for its life: eth (secp256k1/Keccak-256, Ethereum tools, EVM anchoring) or gm (SM2/SM3, national algorithms for 密评)",
        HelpName = "eth|gm",
        DefaultValueFactory = _ => "eth",
    };

    private static readonly Option<string> Join = new("--join")
    {
        Description = "Add to the existing setup in --dir a validator that is not in its genesis, for REGION: its key and node config (to be voted in with smartcity governance; docs/consensus.md)",
        HelpName = "REGION",
    };

    private static readonly Option<string> Listen = new("--listen")
    {
        Description = "With --join: where the new validator listens, IP:PORT (a port no other node of the setup uses)",
        HelpName = "IP:PORT",
    };

    public Command Create() => new Command("init", "Write a local setup: genesis, development keys and a node config per region; or, with --join, add a validator to one")
    {
        Dir, Regions, BasePort, Postgres, Crypto, Join, Listen,
    }.Handles(RunAsync);

    private static async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken)
    {
        var directory = Path.GetFullPath(context.Required(Dir));
        if (context.Value(Join) is { } joinRegion)
        {
            return await JoinAsync(context, directory, joinRegion, cancellationToken).ConfigureAwait(false);
        }

        if (context.Value(Listen) is not null)
        {
            throw new CliUsageException("--listen goes with --join (a setup's nodes take --base-port and the ports after it)");
        }

        var regions = context.Required(Regions).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var cryptoText = context.Required(Crypto);
        if (!Ledger.Crypto.CryptoSuiteNames.TryParse(cryptoText, out var suite))
        {
            throw new CliUsageException($"--crypto: '{cryptoText}' is neither eth (secp256k1/Keccak-256) nor gm (SM2/SM3)");
        }

        var sample = await CliFiles.ReadTextAsync("sample genesis", Path.Combine(AppContext.BaseDirectory, "genesis", "sample-genesis.json"), cancellationToken).ConfigureAwait(false);
        LocalSetupResult setup;
        try
        {
            Directory.CreateDirectory(directory);
            setup = await LocalSetup.WriteAsync(directory, sample, regions, context.Required(BasePort), context.Value(Postgres), suite, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        catch (NodeConfigurationException e)
        {
            throw new CliUsageException(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"--dir: cannot write '{directory}': {e.Message}");
        }

        var o = context.Output;
        await o.WriteLineAsync($"genesis   {setup.GenesisPath} (crypto {Ledger.Crypto.CryptoSuiteNames.ToName(suite)}; {setup.Nodes.Count} validator{(setup.Nodes.Count == 1 ? ", a single-node chain that seals its own blocks" : "s, a consortium: each node dials the others (peers in its config) and they agree by QBFT")})").ConfigureAwait(false);
        foreach (var (name, path, address) in setup.Members)
        {
            await o.WriteLineAsync($"member    {address}  {path}  ({name})").ConfigureAwait(false);
        }

        await o.WriteLineAsync($"keystores encrypted with the public development password '{Ledger.Keys.DevelopmentKeystores.Password}' (in {setup.PasswordFile}); development only: re-encrypt with smartcity keys import before real use").ConfigureAwait(false);
        var smartcity = Environment.ProcessPath is { } exe && Path.GetFileNameWithoutExtension(exe) == "smartcity" ? exe : "smartcity";
        foreach (var (region, path, listen) in setup.Nodes)
        {
            await o.WriteLineAsync($"node {region}   {smartcity} node --config {path}   (listens on {listen})").ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }

    /// <summary><c>init --dir DIR --join REGION --listen IP:PORT</c>: the new validator's key and config, and what to do next.</summary>
    private static async Task<int> JoinAsync(CliContext context, string directory, string region, CancellationToken cancellationToken)
    {
        var listen = context.Value(Listen) ?? throw new CliUsageException("--join needs --listen IP:PORT (where the new validator listens; the other nodes dial it there)");
        JoinedValidator joined;
        try
        {
            joined = await LocalSetup.JoinAsync(directory, region, listen, cancellationToken).ConfigureAwait(false);
        }
        catch (NodeConfigurationException e)
        {
            throw new CliUsageException(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            throw new CliUsageException($"--dir: cannot read or write the setup in '{directory}': {e.Message}");
        }

        var o = context.Output;
        var smartcity = Environment.ProcessPath is { } exe && Path.GetFileNameWithoutExtension(exe) == "smartcity" ? exe : "smartcity";
        await o.WriteLineAsync($"validator {joined.Address}  {joined.KeyPath}  ({joined.Name}, region {joined.Region}; not in the genesis: it follows the chain and votes once the members vote it in)").ConfigureAwait(false);
        await o.WriteLineAsync($"node {joined.Name}   {smartcity} node --config {joined.ConfigPath}   (listens on {joined.Listen})").ConfigureAwait(false);
        await o.WriteLineAsync($"next: 1. add \"{joined.PeerEntry.Key}\": \"{joined.PeerEntry.Value}\" to the peers of {string.Join(", ", joined.OtherConfigs.Select(Path.GetFileName))} and restart those nodes one at a time").ConfigureAwait(false);
        await o.WriteLineAsync($"      2. start the new node; 3. members propose and approve: {smartcity} governance propose --action add-validator --target {joined.Address} --name {joined.Name} --region {joined.Region} --nonce N --key MEMBER-KEY --password-file {Path.Combine(directory, "keys", "password")} --genesis {Path.Combine(directory, "genesis.json")} --out propose.tx, then smartcity submit propose.tx (docs/consensus.md)").ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
