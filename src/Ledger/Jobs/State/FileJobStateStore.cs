using System.Text.Json;
using SmartCity.Ledger.Jobs.Lifecycle;

namespace SmartCity.Ledger.Jobs.State;

/// <summary>
/// The embedded node's job state: <c>DIR/checkpoints/JOB.json</c> (written to a temporary file, flushed, renamed) and
/// <c>DIR/reports.jsonl</c> (one JSON report per line, appended and flushed to disk), <c>DIR/notifications.jsonl</c> (the
/// lifecycle notifications, likewise; a notification's key is written once). One process owns the directory
/// (the embedded store's own lock guarantees one node per data directory).
/// </summary>
public sealed class FileJobStateStore : IJobStateStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string _directory;
    private readonly SemaphoreSlim _reports = new(1, 1);
    private readonly SemaphoreSlim _notifications = new(1, 1);
    private long _lastSequence = -1;
    private HashSet<string>? _notificationKeys;
    private long _lastNotification;

    public FileJobStateStore(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = directory;
        Directory.CreateDirectory(Path.Combine(directory, "checkpoints"));
    }

    private string ReportsPath => Path.Combine(_directory, "reports.jsonl");

    private string NotificationsPath => Path.Combine(_directory, "notifications.jsonl");

    public async ValueTask<string?> GetCheckpointAsync(string job, CancellationToken cancellationToken)
    {
        var path = CheckpointPath(job);
        return File.Exists(path) ? await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false) : null;
    }

    public async ValueTask SaveCheckpointAsync(string job, string checkpoint, CancellationToken cancellationToken)
    {
        var path = CheckpointPath(job);
        var temporary = path + ".tmp";
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
        {
            await file.WriteAsync(System.Text.Encoding.UTF8.GetBytes(checkpoint), cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    public async ValueTask<JobReport> AppendReportAsync(JobReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        await _reports.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_lastSequence < 0)
            {
                _lastSequence = (await ReadAllAsync(cancellationToken).ConfigureAwait(false)).LastOrDefault()?.Sequence ?? 0;
            }

            var sealedReport = report with { Sequence = _lastSequence + 1 };
            await using (var file = new FileStream(ReportsPath, FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.Asynchronous))
            {
                await file.WriteAsync(System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(sealedReport, Json) + "\n"), cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            _lastSequence = sealedReport.Sequence;
            return sealedReport;
        }
        finally
        {
            _reports.Release();
        }
    }

    public async ValueTask<IReadOnlyList<JobReport>> ListReportsAsync(long afterSequence, int limit, CancellationToken cancellationToken)
        => [.. (await ReadAllAsync(cancellationToken).ConfigureAwait(false)).Where(r => r.Sequence > afterSequence).Take(limit)];

    public async ValueTask<LifecycleNotification?> AppendNotificationAsync(LifecycleNotification notification, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notification);
        await _notifications.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_notificationKeys is null)
            {
                var written = await ReadLinesAsync<LifecycleNotification>(NotificationsPath, cancellationToken).ConfigureAwait(false);
                _notificationKeys = new HashSet<string>(written.Select(n => n.Key), StringComparer.Ordinal);
                _lastNotification = written.LastOrDefault()?.Sequence ?? 0;
            }

            if (_notificationKeys.Contains(notification.Key))
            {
                return null;
            }

            var sealedNotification = notification with { Sequence = _lastNotification + 1 };
            await AppendLineAsync(NotificationsPath, JsonSerializer.Serialize(sealedNotification, Json), cancellationToken).ConfigureAwait(false);
            _notificationKeys.Add(sealedNotification.Key);
            _lastNotification = sealedNotification.Sequence;
            return sealedNotification;
        }
        finally
        {
            _notifications.Release();
        }
    }

    public async ValueTask<IReadOnlyList<LifecycleNotification>> ListNotificationsAsync(long afterSequence, int limit, string? designator, CancellationToken cancellationToken)
        => [.. (await ReadLinesAsync<LifecycleNotification>(NotificationsPath, cancellationToken).ConfigureAwait(false))
            .Where(n => n.Sequence > afterSequence && (designator is null || string.Equals(n.Designator, designator, StringComparison.OrdinalIgnoreCase)))
            .Take(limit)];

    private static async Task AppendLineAsync(string path, string json, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.Asynchronous);
        await file.WriteAsync(System.Text.Encoding.UTF8.GetBytes(json + "\n"), cancellationToken).ConfigureAwait(false);
        file.Flush(flushToDisk: true);
    }

    private Task<List<JobReport>> ReadAllAsync(CancellationToken cancellationToken) => ReadLinesAsync<JobReport>(ReportsPath, cancellationToken);

    private static async Task<List<T>> ReadLinesAsync<T>(string path, CancellationToken cancellationToken)
        where T : class
    {
        var items = new List<T>();
        if (!File.Exists(path))
        {
            return items;
        }

        foreach (var line in await File.ReadAllLinesAsync(path, cancellationToken).ConfigureAwait(false))
        {
            // A line torn by a crash mid-append is the last one and is skipped; every earlier line was flushed whole.
            if (line.Length > 0 && TryParse<T>(line) is { } item)
            {
                items.Add(item);
            }
        }

        return items;
    }

    private static T? TryParse<T>(string line)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(line, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private string CheckpointPath(string job)
    {
        if (job.Length == 0 || job.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            throw new ArgumentException($"job name '{job}' must be letters, digits and '-'", nameof(job));
        }

        return Path.Combine(_directory, "checkpoints", job + ".json");
    }
}
