using System.Collections.Concurrent;

namespace SmartCity.Ledger.Jobs;

/// <summary>The last run of one job, as Status reports it.</summary>
/// <param name="Job">The job's name.</param>
/// <param name="Outcome"><c>succeeded</c>, <c>found</c> (a divergence or damage), <c>failed</c>, <c>skipped</c>, <c>cancelled</c>.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="Duration">How long it ran.</param>
/// <param name="Summary">One line: what it checked or why it failed.</param>
/// <param name="Instance">The scheduler instance that ran it.</param>
public sealed record JobRun(string Job, string Outcome, DateTimeOffset StartedAt, TimeSpan Duration, string Summary, string Instance);

/// <summary>Run outcomes.</summary>
public static class JobOutcomes
{
    public const string Succeeded = "succeeded";
    public const string Found = "found";
    public const string Failed = "failed";
    public const string Skipped = "skipped";
    public const string Cancelled = "cancelled";
}

/// <summary>The last run of each job on this node (in memory; the reports and checkpoints are what persists).</summary>
public sealed class JobRuns
{
    private readonly ConcurrentDictionary<string, JobRun> _last = new(StringComparer.Ordinal);

    /// <summary>Raised after every run (tests wait on it instead of sleeping).</summary>
    public event Action<JobRun>? Completed;

    public IReadOnlyList<JobRun> Last => [.. _last.Values.OrderBy(r => r.Job, StringComparer.Ordinal)];

    public void Record(JobRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        _last[run.Job] = run;
        Completed?.Invoke(run);
    }
}
