using Npgsql;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>
/// The storage contract against the PostgreSQL store. Every test gets its own node schema, named after the class
/// fixture's, so tests never share rows; the schema is dropped afterwards.
/// </summary>
[Collection(PostgresStoreCollection.Name)]
public sealed class PostgresLedgerStoreContractTests(PostgresFixture postgres) : LedgerStoreContract, IClassFixture<PostgresFixture>
{
    private static int _next;
    private readonly string _schema = $"{postgres.Schema}_{Interlocked.Increment(ref _next)}";

    protected override async Task<ILedgerStore> OpenStoreAsync() =>
        await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = PostgresFixture.ConnectionString!, Schema = _schema }, CancellationToken.None);

    protected override async Task DeleteStoreAsync()
    {
        await using var connection = new NpgsqlConnection(PostgresFixture.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{_schema}\" CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>PostgreSQL store tests share one server; running them one class at a time keeps the 2-core box responsive.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresStoreCollection
{
    public const string Name = "PostgreSQL store";
}
