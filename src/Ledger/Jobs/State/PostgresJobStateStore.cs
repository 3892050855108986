using Npgsql;
using SmartCity.Ledger.Jobs.Lifecycle;
using SmartCity.Ledger.Storage.Postgres;

namespace SmartCity.Ledger.Jobs.State;

/// <summary>
/// The PostgreSQL node's job state, in two tables of the node's own schema (<c>job_checkpoint</c>,
/// <c>job_report</c>), created when the node starts if missing, and the lifecycle notifications in
/// <c>lifecycle_notification</c> (created by the store's migrations, version 3, applied here too). Every instance of a region shares them, so a job
/// that moves to another instance continues from the same checkpoint.
/// </summary>
public sealed class PostgresJobStateStore : IJobStateStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    private PostgresJobStateStore(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    /// <summary>Opens the tables in <paramref name="schema"/> (the connection string's search path is replaced), creating them if missing.</summary>
    public static async Task<PostgresJobStateStore> OpenAsync(string connectionString, string schema, CancellationToken cancellationToken)
    {
        // The notifications' table comes with the ledger store's migrations (idempotent, serialised per schema).
        await PostgresMigrator.MigrateOnlyAsync(new PostgresStoreOptions { ConnectionString = connectionString, Schema = schema }, cancellationToken).ConfigureAwait(false);
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = schema };
        var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        try
        {
            await using var command = dataSource.CreateCommand($"""
                CREATE SCHEMA IF NOT EXISTS "{schema}";
                CREATE TABLE IF NOT EXISTS "{schema}".job_checkpoint (job text PRIMARY KEY, body text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
                CREATE TABLE IF NOT EXISTS "{schema}".job_report (
                  sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, job text NOT NULL, kind text NOT NULL, height bigint NOT NULL,
                  peer text NOT NULL, subject text NOT NULL, detail text NOT NULL, found_at timestamptz NOT NULL);
                """);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return new PostgresJobStateStore(dataSource);
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask<string?> GetCheckpointAsync(string job, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT body FROM job_checkpoint WHERE job = $1");
        command.Parameters.AddWithValue(job);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    public async ValueTask SaveCheckpointAsync(string job, string checkpoint, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "INSERT INTO job_checkpoint (job, body, updated_at) VALUES ($1, $2, now()) ON CONFLICT (job) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at");
        command.Parameters.AddWithValue(job);
        command.Parameters.AddWithValue(checkpoint);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<JobReport> AppendReportAsync(JobReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        await using var command = _dataSource.CreateCommand(
            "INSERT INTO job_report (job, kind, height, peer, subject, detail, found_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING sequence");
        command.Parameters.AddWithValue(report.Job);
        command.Parameters.AddWithValue(report.Kind);
        command.Parameters.AddWithValue(report.Height);
        command.Parameters.AddWithValue(report.Peer);
        command.Parameters.AddWithValue(report.Subject);
        command.Parameters.AddWithValue(report.Detail);
        command.Parameters.AddWithValue(report.FoundAt.ToUniversalTime());
        var sequence = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return report with { Sequence = sequence };
    }

    public async ValueTask<IReadOnlyList<JobReport>> ListReportsAsync(long afterSequence, int limit, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT sequence, job, kind, height, peer, subject, detail, found_at FROM job_report WHERE sequence > $1 ORDER BY sequence LIMIT $2");
        command.Parameters.AddWithValue(afterSequence);
        command.Parameters.AddWithValue(limit);
        var reports = new List<JobReport>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            reports.Add(new JobReport(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(4), reader.GetString(5), reader.GetString(6),
                new DateTimeOffset(reader.GetDateTime(7), TimeSpan.Zero)));
        }

        return reports;
    }

    public async ValueTask<LifecycleNotification?> AppendNotificationAsync(LifecycleNotification notification, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notification);
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO lifecycle_notification (key, kind, subject, record_id, objection_id, designator, due_at, height, noted_at)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE NOT EXISTS (SELECT 1 FROM lifecycle_notification WHERE key = $1)
            ON CONFLICT (key) DO NOTHING RETURNING sequence
            """);
        command.Parameters.AddWithValue(notification.Key);
        command.Parameters.AddWithValue(notification.Kind);
        command.Parameters.AddWithValue(notification.Subject);
        command.Parameters.AddWithValue(notification.RecordId);
        command.Parameters.AddWithValue(notification.ObjectionId);
        command.Parameters.AddWithValue(notification.Designator);
        command.Parameters.AddWithValue(notification.DueAt.ToUniversalTime());
        command.Parameters.AddWithValue(notification.Height);
        command.Parameters.AddWithValue(notification.NotedAt.ToUniversalTime());
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long sequence ? notification with { Sequence = sequence } : null;
    }

    public async ValueTask<IReadOnlyList<LifecycleNotification>> ListNotificationsAsync(long afterSequence, int limit, string? designator, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            SELECT sequence, kind, subject, record_id, objection_id, designator, due_at, height, noted_at FROM lifecycle_notification
            WHERE sequence > $1 AND ($3::text IS NULL OR lower(designator) = lower($3)) ORDER BY sequence LIMIT $2
            """);
        command.Parameters.AddWithValue(afterSequence);
        command.Parameters.AddWithValue(limit);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)designator ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        var notifications = new List<LifecycleNotification>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            notifications.Add(new LifecycleNotification(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                new DateTimeOffset(reader.GetDateTime(6), TimeSpan.Zero), reader.GetInt64(7), new DateTimeOffset(reader.GetDateTime(8), TimeSpan.Zero)));
        }

        return notifications;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
