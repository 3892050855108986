using Npgsql;

namespace SmartCity.Ledger.Storage.Postgres;

/// <summary>
/// The one place where PostgreSQL failures become storage exceptions, so callers above the store never see Npgsql
/// types: constraint and concurrency failures are conflicts, connection and resource failures are unavailability,
/// data exceptions are corruption.
/// </summary>
internal static class PostgresErrors
{
    public static StoreException Translate(NpgsqlException exception, string operation)
    {
        if (exception is PostgresException pg)
        {
            var message = $"{operation}: {pg.SqlState} {pg.MessageText}";
            return pg.SqlState switch
            {
                PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
                    or PostgresErrorCodes.ExclusionViolation => new StoreConflictException(message, pg),
                PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.QueryCanceled or PostgresErrorCodes.AdminShutdown
                    or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections => new StoreUnavailableException(message, pg),
                _ when pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("53", StringComparison.Ordinal)
                    || pg.SqlState.StartsWith("57", StringComparison.Ordinal) => new StoreUnavailableException(message, pg),
                _ when pg.SqlState.StartsWith("22", StringComparison.Ordinal) || pg.SqlState.StartsWith("XX", StringComparison.Ordinal)
                    => new StoreCorruptedException(message, pg),
                _ => new StoreException(message, pg),
            };
        }

        return new StoreUnavailableException($"{operation}: {exception.Message}", exception);
    }
}
