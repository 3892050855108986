using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Postgres;

namespace SmartCity.CreditApi.Cli;

/// <summary>`smartcity store migrate --migrate-only`: apply the PostgreSQL store's migrations and exit.</summary>
internal static class StoreCommand
{
    public static CliCommand Create() => CliCommand.Group(
        "store",
        "The node's PostgreSQL store: schema migrations",
        CliCommand.Leaf(
            "migrate",
            "Apply pending versioned migrations to one node's schema and exit (the --migrate-only switch of a deployment)",
            "--postgres CONNECTION-STRING [--schema NAME] [--migrate-only]",
            MigrateAsync));

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
