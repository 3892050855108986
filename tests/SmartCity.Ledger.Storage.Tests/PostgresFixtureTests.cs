using Npgsql;
using SmartCity.Testing;

namespace SmartCity.Ledger.Storage.Tests;

public sealed class PostgresFixtureTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [PostgresFact]
    public async Task A_row_written_in_the_class_schema_reads_back_byte_for_byte()
    {
        await using var connection = await postgres.DataSource.OpenConnectionAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE probe (id int PRIMARY KEY, payload bytea NOT NULL, note text NOT NULL)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        byte[] payload = [0x00, 0xff, 0x10, 0x80];
        await using (var insert = new NpgsqlCommand("INSERT INTO probe VALUES (1, $1, $2)", connection))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = payload });
            insert.Parameters.Add(new NpgsqlParameter { Value = "京津冀雄安" });
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }

        await using var select = new NpgsqlCommand("SELECT payload, note, current_schema() FROM probe WHERE id = 1", connection);
        await using var reader = await select.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(payload, reader.GetFieldValue<byte[]>(0));
        Assert.Equal("京津冀雄安", reader.GetString(1));
        Assert.Equal(postgres.Schema, reader.GetString(2));
    }

    [PostgresFact]
    public async Task The_class_schema_is_isolated_from_the_public_schema()
    {
        await using var connection = await postgres.DataSource.OpenConnectionAsync();
        await using var query = new NpgsqlCommand(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'never_created_here'", connection);
        Assert.Equal(0L, (long)(await query.ExecuteScalarAsync())!);
        Assert.StartsWith("t_", postgres.Schema, StringComparison.Ordinal);
    }
}
