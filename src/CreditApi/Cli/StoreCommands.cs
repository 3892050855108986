using System.CommandLine;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// `smartcity store migrate | verify | repair`: apply the PostgreSQL store's migrations; check a store offline against
/// the genesis file (exit 0 intact, 1 damaged, 2 bad input); cut an embedded store's block log at its first damage,
/// moving the damaged bytes aside.
/// </summary>
internal sealed class StoreCommands : ICliCommandGroup
{
    private static readonly Option<string> Postgres = new("--postgres")
    {
        Description = "Npgsql connection string of the node's PostgreSQL server",
        HelpName = "CONNECTION-STRING",
        Required = true,
    };

    private static readonly Option<string> Schema = new("--schema")
    {
        Description = "The node's schema",
        HelpName = "NAME",
        DefaultValueFactory = _ => "ledger",
    };

    private static readonly Option<string> PostgresToVerify = new("--postgres")
    {
        Description = "Npgsql connection string of the node's PostgreSQL server (instead of --data)",
        HelpName = "CONNECTION-STRING",
    };

    private static readonly Option<string> Data = new("--data")
    {
        Description = "The node's embedded data directory (instead of --postgres); the node must be stopped",
        HelpName = "DIR",
    };

    private static readonly Option<string> DataToRepair = new("--data")
    {
        Description = "The node's embedded data directory; the node must be stopped",
        HelpName = "DIR",
        Required = true,
    };

    private static readonly Option<string> Genesis = new("--genesis")
    {
        Description = "The chain's genesis file: block 0 and the validator set the certificates are checked against",
        HelpName = "GENESIS.json",
        Required = true,
    };

    private static readonly Option<bool> MigrateOnly = new("--migrate-only")
    {
        Description = "Apply the migrations and exit (the only mode today; accepted for deployment scripts)",
    };

    public Command Create() => new Command("store", "The node's store: schema migrations, offline verification, repair")
    {
        new Command("migrate", "Apply pending versioned migrations to one node's schema and exit (the --migrate-only switch of a deployment)")
        {
            Postgres, Schema, MigrateOnly,
        }.Handles(MigrateAsync),
        new Command("verify", "Check a stopped node's store read-only: record checksums, hash links, transaction and history roots, certificates against the genesis validators, the state tree; exit 0 intact, 1 damaged (first damaged height), 2 bad input")
        {
            Data, PostgresToVerify, Schema, Genesis,
        }.Handles(VerifyAsync),
        new Command("repair", "Cut an embedded store's block log at its first damage so the node opens at its last intact block; the damaged bytes are moved to DIR/damaged/, nothing is deleted")
        {
            DataToRepair,
        }.Handles(RepairAsync),
    }.ShowsHelp();

    private static async Task<int> VerifyAsync(CliContext context, CancellationToken cancellationToken)
    {
        var data = context.Value(Data);
        var postgres = context.Value(PostgresToVerify);
        if ((data is null) == (postgres is null))
        {
            throw new CliUsageException("give exactly one of --data DIR (embedded store) or --postgres CONNECTION-STRING");
        }

        var genesisPath = context.Required(Genesis);
        var genesis = GenesisLoader.Load(await CliFiles.ReadTextAsync("genesis", genesisPath, cancellationToken).ConfigureAwait(false));
        if (!genesis.IsValid)
        {
            throw new CliUsageException($"genesis {genesisPath}: {genesis.Errors[0]}");
        }

        if (data is not null)
        {
            if (!Directory.Exists(Path.Combine(data, "segments")))
            {
                throw new CliUsageException($"--data {data}: no embedded store there (no segments/ directory)");
            }

            EmbeddedStoreInspection inspection;
            try
            {
                inspection = EmbeddedStoreRepair.Inspect(data);
            }
            catch (StoreException e)
            {
                throw new CliUsageException($"--data {data}: {e.Message}");
            }

            if (!inspection.IsIntact)
            {
                await context.Output.WriteLineAsync($"DAMAGED at height {inspection.Damage!.FirstDamagedHeight}: {inspection.Damage.Reason}").ConfigureAwait(false);
                await context.Output.WriteLineAsync($"  blocks 0 to {inspection.LastIntactHeight} read back intact; `smartcity store repair --data {data}` moves the damage aside").ConfigureAwait(false);
                return ExitCodes.NegativeVerdict;
            }
        }

        ILedgerStore store;
        try
        {
            store = data is not null
                ? await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = data, ReadOnly = true, VerifyTailBlocks = 0 }, cancellationToken).ConfigureAwait(false)
                : await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = postgres!, Schema = context.Required(Schema), MigrateOnOpen = false }, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message);
        }
        catch (StoreCorruptedException e)
        {
            await context.Output.WriteLineAsync($"DAMAGED: {e.Message}").ConfigureAwait(false);
            return ExitCodes.NegativeVerdict;
        }
        catch (StoreException e)
        {
            throw new CliUsageException(e.Message);
        }

        await using (store.ConfigureAwait(false))
        {
            StoreVerification result;
            try
            {
                result = await StoreVerifier.VerifyAsync(store, genesis.Document!, genesis.Document!.Crypto.CreateSuite().Signatures, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreUnavailableException e)
            {
                throw new CliUsageException(e.Message);
            }
            catch (StoreException e) when (postgres is not null && e.InnerException is Npgsql.PostgresException { SqlState: "42P01" })
            {
                throw new CliUsageException($"schema {context.Required(Schema)} holds no ledger store (run `smartcity store migrate` or check --schema)");
            }

            if (result.Finding == StoreFinding.HandOverStatePruned)
            {
                await context.Output.WriteLineAsync($"CANNOT CHECK from height {result.FirstDamagedHeight}: {result.Damage}").ConfigureAwait(false);
                await context.Output.WriteLineAsync($"  blocks 0 to {result.FirstDamagedHeight - 1} passed every check").ConfigureAwait(false);
                return ExitCodes.NegativeVerdict;
            }

            if (!result.IsIntact)
            {
                await context.Output.WriteLineAsync($"DAMAGED at height {result.FirstDamagedHeight}: {result.Damage}").ConfigureAwait(false);
                await context.Output.WriteLineAsync($"  blocks 0 to {result.FirstDamagedHeight - 1} passed every check").ConfigureAwait(false);
                return ExitCodes.NegativeVerdict;
            }

            await context.Output.WriteLineAsync(result.Head < 0
                ? "INTACT: the store is empty"
                : $"INTACT: blocks 0 to {result.Head}, {result.TransactionsChecked} transactions; checksums, hash links, transaction and history roots, certificates against the validator set in force at each height, and the head's state tree ({result.StateNodesChecked} nodes) checked").ConfigureAwait(false);
            return ExitCodes.Success;
        }
    }

    private static async Task<int> RepairAsync(CliContext context, CancellationToken cancellationToken)
    {
        var data = context.Required(DataToRepair);
        if (!Directory.Exists(Path.Combine(data, "segments")))
        {
            throw new CliUsageException($"--data {data}: no embedded store there (no segments/ directory); a PostgreSQL store is repaired by PostgreSQL's own recovery or restored from a backup");
        }

        RepairReport report;
        try
        {
            report = await EmbeddedStoreRepair.RepairAsync(data, null, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException e)
        {
            throw new CliUsageException($"--data {data}: {e.Message}");
        }

        foreach (var action in report.Actions)
        {
            await context.Output.WriteLineAsync(action).ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }


    private static async Task<int> MigrateAsync(CliContext context, CancellationToken cancellationToken)
    {
        var options = new PostgresStoreOptions { ConnectionString = context.Required(Postgres), Schema = context.Required(Schema) };
        IReadOnlyList<int> applied;
        try
        {
            applied = await PostgresMigrator.MigrateOnlyAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message);
        }
        catch (StoreException e)
        {
            throw new CliUsageException($"PostgreSQL: {e.Message}");
        }

        var latest = PostgresMigrator.Known.Count == 0 ? 0 : PostgresMigrator.Known.Max(m => m.Version);
        await context.Output.WriteLineAsync(applied.Count == 0
            ? $"schema {options.Schema} is up to date (version {latest})"
            : $"schema {options.Schema}: applied {string.Join(", ", applied)}; now at version {latest}").ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
