using System.Globalization;
using Npgsql;

namespace SmartCity.Ledger.Storage.Postgres;

/// <summary>
/// Applies the embedded SQL migrations (<c>Migrations/NNNN_name.sql</c>) in version order inside one transaction,
/// under an advisory lock per schema so that nodes starting together queue instead of racing, recording each in
/// <c>schema_version</c>. A schema newer than this build is refused rather than written to.
/// </summary>
public static class PostgresMigrator
{
    /// <summary>The migrations this build carries, oldest first.</summary>
    public static IReadOnlyList<(int Version, string Name)> Known { get; } = LoadMigrations().Select(m => (m.Version, m.Name)).ToArray();

    /// <summary>Creates the schema if needed and applies pending migrations; returns the versions applied. For <c>--migrate-only</c>.</summary>
    public static async Task<IReadOnlyList<int>> MigrateOnlyAsync(PostgresStoreOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        try
        {
            // Not pooled: one connection per open, and a pooled one could be a stale leftover of a server restarted since.
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(options.ConnectionString) { Pooling = false }.ConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return await MigrateAsync(connection, options.Schema, cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException ex)
        {
            throw PostgresErrors.Translate(ex, $"migrating schema {options.Schema}");
        }
    }

    private static async Task<IReadOnlyList<int>> MigrateAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        // A session lock taken before the transaction begins: the transaction then starts after the previous holder
        // committed and sees its schema. (Waiting on an advisory lock inside the transaction would leave the catalog
        // caches stale, and CREATE SCHEMA IF NOT EXISTS would collide with the schema just created.)
        var lockKey = $"hashtext('smartcity.ledger.migrate.{schema}')";
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({lockKey})", cancellationToken).ConfigureAwait(false);
        try
        {
            return await MigrateLockedAsync(connection, schema, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({lockKey})", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task<IReadOnlyList<int>> MigrateLockedAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, $"""
            CREATE SCHEMA IF NOT EXISTS "{schema}";
            SET LOCAL search_path TO "{schema}";
            CREATE TABLE IF NOT EXISTS schema_version (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            """, cancellationToken).ConfigureAwait(false);

        int current;
        await using (var query = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM schema_version", connection))
        {
            current = (int)(await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }

        var migrations = LoadMigrations();
        if (current > migrations[^1].Version)
        {
            throw new StoreCorruptedException($"schema {schema} is at version {current}, newer than this build's {migrations[^1].Version}");
        }

        var applied = new List<int>();
        foreach (var migration in migrations.Where(m => m.Version > current))
        {
            await ExecuteAsync(connection, migration.Sql, cancellationToken).ConfigureAwait(false);
            await using var record = new NpgsqlCommand("INSERT INTO schema_version (version, name) VALUES ($1, $2)", connection)
            {
                Parameters = { new() { Value = migration.Version }, new() { Value = migration.Name } },
            };
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            applied.Add(migration.Version);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static List<(int Version, string Name, string Sql)> LoadMigrations()
    {
        var assembly = typeof(PostgresMigrator).Assembly;
        var migrations = new List<(int, string, string)>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("migrations/", StringComparison.Ordinal)))
        {
            var name = Path.GetFileNameWithoutExtension(resource["migrations/".Length..]);
            var version = int.Parse(name.AsSpan(0, name.IndexOf('_', StringComparison.Ordinal)), NumberStyles.None, CultureInfo.InvariantCulture);
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            migrations.Add((version, name, reader.ReadToEnd()));
        }

        migrations.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Item1 != i + 1)
            {
                throw new InvalidOperationException($"migrations must be numbered 1, 2, … without gaps; found {migrations[i].Item2} at position {i + 1}");
            }
        }

        return migrations;
    }
}
