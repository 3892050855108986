using System.Text.RegularExpressions;

namespace SmartCity.Ledger.Storage.Postgres;

/// <summary>Settings of the PostgreSQL store (section <c>Storage:Postgres</c>).</summary>
public sealed partial class PostgresStoreOptions
{
    /// <summary>An Npgsql connection string; its search path is replaced by <see cref="Schema"/>.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>The node's own schema: lower-case letters, digits and underscores, created by the first migration run.</summary>
    public string Schema { get; init; } = "ledger";

    /// <summary>Apply pending migrations when the store opens (off when a deployment runs <c>--migrate-only</c> first).</summary>
    public bool MigrateOnOpen { get; init; } = true;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new ArgumentException("Storage:Postgres:ConnectionString must be set");
        }

        if (!SchemaName().IsMatch(Schema))
        {
            throw new ArgumentException($"Storage:Postgres:Schema '{Schema}' must match {SchemaName()} (lower-case letters, digits, underscores; at most 63)");
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SchemaName();
}
