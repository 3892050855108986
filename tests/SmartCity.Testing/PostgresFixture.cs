using Npgsql;

namespace SmartCity.Testing;

/// <summary>
/// Gives one test class its own, empty PostgreSQL schema on the server named by <c>SMARTCITY_TEST_PG</c>, and drops
/// it afterwards. Connections from <see cref="DataSource"/> have <c>search_path</c> set to that schema, so tests
/// can create tables without qualifying names and never see each other's. Use it as
/// <c>IClassFixture&lt;PostgresFixture&gt;</c> together with <see cref="PostgresFactAttribute"/>.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string EnvironmentVariable = "SMARTCITY_TEST_PG";

    private NpgsqlDataSource? _dataSource;

    public static string? ConnectionString => Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } cs ? cs : null;

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The schema that belongs to this fixture, e.g. <c>t_5f2c…</c>.</summary>
    public string Schema { get; } = "t_" + Guid.NewGuid().ToString("N")[..20];

    /// <summary>A connection string whose search path is this fixture's schema.</summary>
    public string SchemaConnectionString { get; private set; } = "";

    public NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException(
        ConnectionString is null
            ? $"{EnvironmentVariable} is not set: this test needs a PostgreSQL server (run scripts/test.sh, which starts one)"
            : "the PostgreSQL fixture did not initialise");

    public async Task InitializeAsync()
    {
        var baseConnection = ConnectionString;
        if (baseConnection is null)
        {
            if (IsCi)
            {
                throw new InvalidOperationException($"CI=true but {EnvironmentVariable} is not set: PostgreSQL tests must run on CI");
            }

            return; // Tests are skipped by PostgresFact; nothing to set up.
        }

        await using (var admin = new NpgsqlConnection(baseConnection))
        {
            await admin.OpenAsync().ConfigureAwait(false);
            await using var create = new NpgsqlCommand($"CREATE SCHEMA \"{Schema}\"", admin);
            await create.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        SchemaConnectionString = new NpgsqlConnectionStringBuilder(baseConnection) { SearchPath = Schema }.ConnectionString;
        _dataSource = NpgsqlDataSource.Create(SchemaConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_dataSource is null)
        {
            return;
        }

        await _dataSource.DisposeAsync().ConfigureAwait(false);
        await DropSchemaAsync(Schema).ConfigureAwait(false);
    }

    /// <summary>
    /// Drops <paramref name="schema"/> and everything in it, if it exists, on the server named by
    /// <c>SMARTCITY_TEST_PG</c>; nothing when no server is configured (the PostgreSQL tests were skipped).
    /// </summary>
    public static async Task DropSchemaAsync(string schema)
    {
        if (ConnectionString is not { } connectionString)
        {
            return;
        }

        await using var admin = new NpgsqlConnection(connectionString);
        await admin.OpenAsync().ConfigureAwait(false);
        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", admin);
        await drop.ExecuteNonQueryAsync().ConfigureAwait(false);
    }
}
