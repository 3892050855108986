using System.Text.Json;

namespace SmartCity.Ledger.Jobs.State;

/// <summary>
/// The embedded node's job state: <c>DIR/checkpoints/JOB.json</c> (written to a temporary file, flushed, renamed) and
/// <c>DIR/reports.jsonl</c> (one JSON report per line, appended and flushed to disk). One process owns the directory
/// (the embedded store's own lock guarantees one node per data directory).
/// </summary>
public sealed class FileJobStateStore : IJobStateStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string _directory;
    private readonly SemaphoreSlim _reports = new(1, 1);
    private long _lastSequence = -1;

    public FileJobStateStore(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = directory;
        Directory.CreateDirectory(Path.Combine(directory, "checkpoints"));
    }

    private string ReportsPath => Path.Combine(_directory, "reports.jsonl");

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

    private async Task<List<JobReport>> ReadAllAsync(CancellationToken cancellationToken)
    {
        var reports = new List<JobReport>();
        if (!File.Exists(ReportsPath))
        {
            return reports;
        }

        foreach (var line in await File.ReadAllLinesAsync(ReportsPath, cancellationToken).ConfigureAwait(false))
        {
            // A line torn by a crash mid-append is the last one and is skipped; every earlier line was flushed whole.
            if (line.Length > 0 && TryParse(line) is { } report)
            {
                reports.Add(report);
            }
        }

        return reports;
    }

    private static JobReport? TryParse(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<JobReport>(line, Json);
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
