using Quartz;
using SmartCity.Ledger.Jobs.Audit;
using SmartCity.Ledger.Jobs.State;
using SmartCity.Ledger.Node;

namespace SmartCity.Ledger.Jobs.Scheduling;

/// <summary>
/// The continuous chain audit (<see cref="ChainAuditor"/>) from its persisted checkpoint. Never two at once (a second
/// would re-check the same blocks and race on the checkpoint). Damage is logged as an error (event 3310) on every run
/// while it stands, counted, and persisted as a report once per damaged height.
/// </summary>
[DisallowConcurrentExecution]
public sealed class ChainAuditJob(IJobLedger ledger, ChainAuditJobOptions options, JobRuns runs, JobMetrics metrics, ILogger<ChainAuditJob> logger, TimeProvider time)
    : LedgerJob(ledger, runs, metrics, logger, time)
{
    public const string JobName = "chain-audit";

    protected override string Name => JobName;

    protected override async Task<(string Outcome, string Summary)> RunAsync(JobLedgerView ledger, CancellationToken cancellationToken)
    {
        var from = AuditCheckpoint.FromJson(await ledger.State.GetCheckpointAsync(JobName, cancellationToken).ConfigureAwait(false)) ?? AuditCheckpoint.Start;
        var auditor = new ChainAuditor(ledger.Genesis, ledger.Curve);
        var run = await auditor.RunAsync(ledger.Store, from, options.MaxBlocksPerRun, cancellationToken).ConfigureAwait(false);
        var checkpoint = run.Checkpoint with { ReportedDamage = from.ReportedDamage };
        Metrics.Audited(run.BlocksChecked, run.Signatures, checkpoint.Height);
        if (run.IsIntact)
        {
            await ledger.State.SaveCheckpointAsync(JobName, (checkpoint with { ReportedDamage = null }).ToJson(), cancellationToken).ConfigureAwait(false);
            JobsLog.AuditProgress(Logger, from.Height + 1, checkpoint.Height, run.Signatures, run.Head);
            return (JobOutcomes.Succeeded, run.BlocksChecked == 0
                ? $"no new block: intact up to block {checkpoint.Height}, head {run.Head}"
                : $"blocks {from.Height + 1}..{checkpoint.Height} intact, {run.Signatures} signatures verified, head {run.Head}");
        }

        var key = $"{run.DamagedHeight}: {run.Damage}";
        var kind = run.Finding == StoreFinding.HandOverStatePruned ? JobReportKinds.HandOverStatePruned : JobReportKinds.StoreDamage;
        long report = 0;
        if (from.ReportedDamage != key)
        {
            report = (await ledger.State.AppendReportAsync(new JobReport(0, JobName, kind, run.DamagedHeight!.Value, string.Empty, $"block {run.DamagedHeight}", run.Damage!, Time.GetUtcNow()), cancellationToken).ConfigureAwait(false)).Sequence;
        }

        Metrics.Diverged(kind);
        await ledger.State.SaveCheckpointAsync(JobName, (checkpoint with { ReportedDamage = key }).ToJson(), cancellationToken).ConfigureAwait(false);
        JobsLog.StoreDamaged(Logger, run.DamagedHeight!.Value, run.Damage!, checkpoint.Height, report);
        return (JobOutcomes.Found, run.Finding == StoreFinding.HandOverStatePruned
            ? $"block {run.DamagedHeight} cannot be checked from this store: {run.Damage}"
            : $"block {run.DamagedHeight} is damaged: {run.Damage}");
    }
}
