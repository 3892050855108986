using SmartCity.Ledger.Crypto;
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
internal static class StoreCommand
{
    public static CliCommand Create() => CliCommand.Group(
        "store",
        "The node's store: schema migrations, offline verification, repair",
        CliCommand.Leaf(
            "migrate",
            "Apply pending versioned migrations to one node's schema and exit (the --migrate-only switch of a deployment)",
            "--postgres CONNECTION-STRING [--schema NAME] [--migrate-only]",
            MigrateAsync),
        CliCommand.Leaf(
            "verify",
            "Check a stopped node's store read-only: record checksums, hash links, transaction and history roots, certificates against the genesis validators, the state tree; exit 0 intact, 1 damaged (first damaged height), 2 bad input",
            "--data DIR | --postgres CONNECTION-STRING [--schema NAME]  --genesis GENESIS.json",
            VerifyAsync),
        CliCommand.Leaf(
            "repair",
            "Cut an embedded store's block log at its first damage so the node opens at its last intact block; the damaged bytes are moved to DIR/damaged/, nothing is deleted",
            "--data DIR",
            RepairAsync));

    private static async Task<int> VerifyAsync(CliInvocation invocation, CancellationToken cancellationToken)
    {
        invocation.RejectUnknown("data", "postgres", "schema", "genesis");
        var data = invocation.Optional("data");
        var postgres = invocation.Optional("postgres");
        if ((data is null) == (postgres is null))
        {
            throw new CliUsageException("give exactly one of --data DIR (embedded store) or --postgres CONNECTION-STRING");
        }

        var genesisPath = invocation.Required("genesis");
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
                await invocation.Output.WriteLineAsync($"DAMAGED at height {inspection.Damage!.FirstDamagedHeight}: {inspection.Damage.Reason}").ConfigureAwait(false);
                await invocation.Output.WriteLineAsync($"  blocks 0 to {inspection.LastIntactHeight} read back intact; `smartcity store repair --data {data}` moves the damage aside").ConfigureAwait(false);
                return CommandLine.NegativeVerdict;
            }
        }

        ILedgerStore store;
        try
        {
            store = data is not null
                ? await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = data, ReadOnly = true, VerifyTailBlocks = 0 }, cancellationToken).ConfigureAwait(false)
                : await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = postgres!, Schema = invocation.Optional("schema") ?? "ledger", MigrateOnOpen = false }, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message);
        }
        catch (StoreCorruptedException e)
        {
            await invocation.Output.WriteLineAsync($"DAMAGED: {e.Message}").ConfigureAwait(false);
            return CommandLine.NegativeVerdict;
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
                result = await StoreVerifier.VerifyAsync(store, genesis.Document!, Secp256k1.Default, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreUnavailableException e)
            {
                throw new CliUsageException(e.Message);
            }
            catch (StoreException e) when (postgres is not null && e.InnerException is Npgsql.PostgresException { SqlState: "42P01" })
            {
                throw new CliUsageException($"schema {invocation.Optional("schema") ?? "ledger"} holds no ledger store (run `smartcity store migrate` or check --schema)");
            }

            if (!result.IsIntact)
            {
                await invocation.Output.WriteLineAsync($"DAMAGED at height {result.FirstDamagedHeight}: {result.Damage}").ConfigureAwait(false);
                await invocation.Output.WriteLineAsync($"  blocks 0 to {result.FirstDamagedHeight - 1} passed every check").ConfigureAwait(false);
                return CommandLine.NegativeVerdict;
            }

            await invocation.Output.WriteLineAsync(result.Head < 0
                ? "INTACT: the store is empty"
                : $"INTACT: blocks 0 to {result.Head}, {result.TransactionsChecked} transactions; checksums, hash links, transaction and history roots, certificates against the genesis validators, and the head's state tree ({result.StateNodesChecked} nodes) checked").ConfigureAwait(false);
            return CommandLine.Success;
        }
    }

    private static async Task<int> RepairAsync(CliInvocation invocation, CancellationToken cancellationToken)
    {
        invocation.RejectUnknown("data");
        var data = invocation.Required("data");
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
            await invocation.Output.WriteLineAsync(action).ConfigureAwait(false);
        }

        return CommandLine.Success;
    }

    private static async Task<int> MigrateAsync(CliInvocation invocation, CancellationToken cancellationToken)
    {
        invocation.RejectUnknown("postgres", "schema", "migrate-only");
        var options = new PostgresStoreOptions { ConnectionString = invocation.Required("postgres"), Schema = invocation.Optional("schema") ?? "ledger" };
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
        await invocation.Output.WriteLineAsync(applied.Count == 0
            ? $"schema {options.Schema} is up to date (version {latest})"
            : $"schema {options.Schema}: applied {string.Join(", ", applied)}; now at version {latest}").ConfigureAwait(false);
        return CommandLine.Success;
    }
}
