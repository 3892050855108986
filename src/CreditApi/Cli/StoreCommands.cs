using System.CommandLine;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Postgres;

namespace SmartCity.CreditApi.Cli;

/// <summary>`smartcity store migrate --migrate-only`: apply the PostgreSQL store's migrations and exit.</summary>
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

    private static readonly Option<bool> MigrateOnly = new("--migrate-only")
    {
        Description = "Apply the migrations and exit (the only mode today; accepted for deployment scripts)",
    };

    public Command Create() => new Command("store", "The node's PostgreSQL store: schema migrations")
    {
        new Command("migrate", "Apply pending versioned migrations to one node's schema and exit (the --migrate-only switch of a deployment)")
        {
            Postgres, Schema, MigrateOnly,
        }.Handles(MigrateAsync),
    }.ShowsHelp();

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
