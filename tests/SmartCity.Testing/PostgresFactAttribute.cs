namespace SmartCity.Testing;

/// <summary>
/// A fact that needs a real PostgreSQL server, named by <c>SMARTCITY_TEST_PG</c> (an Npgsql connection string).
/// Outside CI a developer without a server sees the test skipped with the reason; with <c>CI=true</c> it is never
/// skipped, so a missing server fails the run instead of hiding the tests (see <see cref="PostgresFixture"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresFixture.ConnectionString is null && !PostgresFixture.IsCi)
        {
            Skip = $"{PostgresFixture.EnvironmentVariable} is not set (scripts/test.sh starts a throwaway server and sets it)";
        }
    }
}

/// <summary>The <see cref="PostgresFactAttribute"/> rule for theories.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute()
    {
        if (PostgresFixture.ConnectionString is null && !PostgresFixture.IsCi)
        {
            Skip = $"{PostgresFixture.EnvironmentVariable} is not set (scripts/test.sh starts a throwaway server and sets it)";
        }
    }
}
