using Npgsql;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing;

namespace SmartCity.Ledger.Storage.Tests;

[Collection(PostgresStoreCollection.Name)]
public sealed class PostgresMigratorTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private static readonly string[] Suffixes = ["m1", "m2", "m3"];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (PostgresFixture.ConnectionString is null)
        {
            return;
        }

        await using var connection = new NpgsqlConnection(PostgresFixture.ConnectionString);
        await connection.OpenAsync();
        foreach (var suffix in Suffixes)
        {
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{postgres.Schema}_{suffix}\" CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private PostgresStoreOptions Options(string suffix) =>
        new() { ConnectionString = PostgresFixture.ConnectionString!, Schema = $"{postgres.Schema}_{suffix}", MigrateOnOpen = false };

    [PostgresFact]
    public async Task Migrating_creates_the_schema_once_and_a_second_run_applies_nothing()
    {
        var options = Options("m1");

        var first = await PostgresMigrator.MigrateOnlyAsync(options, CancellationToken.None);
        var second = await PostgresMigrator.MigrateOnlyAsync(options, CancellationToken.None);

        Assert.Equal(PostgresMigrator.Known.Select(m => m.Version), first);
        Assert.Empty(second);
        await using var connection = new NpgsqlConnection(PostgresFixture.ConnectionString);
        await connection.OpenAsync();
        await using var versions = new NpgsqlCommand($"SELECT count(*) FROM \"{options.Schema}\".schema_version", connection);
        Assert.Equal((long)PostgresMigrator.Known.Count, await versions.ExecuteScalarAsync());
    }

    [PostgresFact]
    public async Task Nodes_migrating_the_same_schema_at_once_queue_on_the_advisory_lock()
    {
        var options = Options("m2");

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PostgresMigrator.MigrateOnlyAsync(options, CancellationToken.None)));

        Assert.Single(runs, applied => applied.Count > 0);
    }

    [PostgresFact]
    public async Task A_schema_newer_than_the_build_is_refused()
    {
        var options = Options("m3");
        await PostgresMigrator.MigrateOnlyAsync(options, CancellationToken.None);
        await using (var connection = new NpgsqlConnection(PostgresFixture.ConnectionString))
        {
            await connection.OpenAsync();
            await using var bump = new NpgsqlCommand($"INSERT INTO \"{options.Schema}\".schema_version (version, name) VALUES (999, 'future')", connection);
            await bump.ExecuteNonQueryAsync();
        }

        await Assert.ThrowsAsync<StoreCorruptedException>(() => PostgresMigrator.MigrateOnlyAsync(options, CancellationToken.None));
    }

    [Fact]
    public void A_schema_name_that_is_not_a_plain_identifier_is_rejected_before_any_connection()
    {
        var options = new PostgresStoreOptions { ConnectionString = "Host=nowhere", Schema = "x\"; DROP TABLE y; --" };

        Assert.Throws<ArgumentException>(options.Validate);
    }
}
