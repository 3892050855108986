using Npgsql;
using SmartCity.CreditApi.Cli;
using SmartCity.Testing;

namespace SmartCity.CreditApi.Tests.Cli;

public sealed class StoreCommandTests
{
    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    [PostgresFact]
    public async Task Migrate_only_creates_the_schema_once_and_a_second_run_finds_it_up_to_date()
    {
        var schema = "cli_" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            var first = await Run("store", "migrate", "--postgres", PostgresFixture.ConnectionString!, "--schema", schema, "--migrate-only");
            Assert.Equal(0, first.Exit);
            Assert.Contains($"schema {schema}: applied 1", first.Out, StringComparison.Ordinal);

            var second = await Run("store", "migrate", "--postgres", PostgresFixture.ConnectionString!, "--schema", schema, "--migrate-only");
            Assert.Equal(0, second.Exit);
            Assert.StartsWith($"schema {schema} is up to date", second.Out, StringComparison.Ordinal);
        }
        finally
        {
            await using var connection = new NpgsqlConnection(PostgresFixture.ConnectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    [Theory]
    [InlineData("--schema", "Bad-Name", "must match")]
    [InlineData("--bogus", "x", "Unrecognized command or argument '--bogus'")]
    public async Task Bad_options_are_one_line_with_exit_code_2(string option, string value, string expected)
    {
        var (exit, output, error) = await Run("store", "migrate", "--postgres", "Host=/nonexistent", option, value);
        Assert.Equal(2, exit);
        Assert.Equal(string.Empty, output);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_is_one_line_with_exit_code_2()
    {
        var (exit, _, error) = await Run("store", "migrate", "--postgres", "Host=/nonexistent-socket-dir;Port=1;Timeout=2");
        Assert.Equal(2, exit);
        Assert.StartsWith("smartcity store migrate: PostgreSQL:", error, StringComparison.Ordinal);
    }
}
