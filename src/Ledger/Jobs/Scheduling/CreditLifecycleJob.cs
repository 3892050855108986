using Quartz;
using SmartCity.Ledger.Jobs.Lifecycle;

namespace SmartCity.Ledger.Jobs.Scheduling;

/// <summary>
/// The credit lifecycle (<see cref="CreditLifecycleScanner"/>) from its persisted checkpoint: overdue objections,
/// publication periods ending and ended, repair becoming possible, as notifications written once each and readable
/// through <c>AuditService.ListLifecycleNotifications</c>. Never two at once (they would race on the checkpoint; the
/// notifications themselves are idempotent).
/// </summary>
[DisallowConcurrentExecution]
public sealed class CreditLifecycleJob(IJobLedger ledger, CreditLifecycleJobOptions options, JobRuns runs, JobMetrics metrics, ILogger<CreditLifecycleJob> logger, TimeProvider time)
    : LedgerJob(ledger, runs, metrics, logger, time)
{
    public const string JobName = "credit-lifecycle";

    protected override string Name => JobName;

    protected override async Task<(string Outcome, string Summary)> RunAsync(JobLedgerView ledger, CancellationToken cancellationToken)
    {
        var from = LifecycleCheckpoint.FromJson(await ledger.State.GetCheckpointAsync(JobName, cancellationToken).ConfigureAwait(false)) ?? LifecycleCheckpoint.Start;
        var run = await CreditLifecycleScanner.RunAsync(ledger.Store, ledger.State, from, Time.GetUtcNow(), options.NoticePeriod, options.MaxBlocksPerRun, cancellationToken).ConfigureAwait(false);

        // The notifications are written before the checkpoint: a run cut short is repeated and finds them written.
        await ledger.State.SaveCheckpointAsync(JobName, run.Checkpoint.ToJson(), cancellationToken).ConfigureAwait(false);
        foreach (var notification in run.Written)
        {
            Metrics.Noted(notification.Kind);
            JobsLog.LifecycleNotification(Logger, notification.Kind, notification.RecordId, notification.Subject, notification.DueAt, notification.Height, notification.Sequence);
        }

        return (JobOutcomes.Succeeded, run.Height < 0
            ? "the chain is empty"
            : $"state at block {run.Height}: {run.BlocksScanned} new blocks scanned, {run.SubjectsChecked} subjects checked, {run.Written.Count} notifications written, {run.Checkpoint.Watched.Count} subjects watched");
    }
}
