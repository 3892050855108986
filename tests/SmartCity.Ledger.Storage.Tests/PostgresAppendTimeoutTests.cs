using SmartCity.Ledger.Storage.Postgres;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>
/// A block's append gets at least five minutes: one cut off at Npgsql's 30 s default is rolled back and retried in
/// full, so on a loaded database it would never get through (seen filling a store to 1M transactions).
/// </summary>
public sealed class PostgresAppendTimeoutTests
{
    [Theory]
    [InlineData(30, 300)] // Npgsql's default is raised
    [InlineData(1, 300)]
    [InlineData(300, 300)]
    [InlineData(900, 900)] // a longer timeout in the connection string is kept
    [InlineData(0, 0)] // 0 = no limit stays no limit
    public void Append_timeout_is_never_below_five_minutes_unless_unlimited(int commandTimeout, int expected) =>
        Assert.Equal(expected, PostgresLedgerStore.AppendTimeoutSeconds(commandTimeout));
}
