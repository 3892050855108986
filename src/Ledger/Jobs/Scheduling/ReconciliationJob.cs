using Quartz;
using SmartCity.Ledger.Jobs.Reconciliation;
using SmartCity.Ledger.Jobs.State;

namespace SmartCity.Ledger.Jobs.Scheduling;

/// <summary>
/// Reconciliation (<see cref="Reconciler"/>) with the configured peers and of the projections, from its persisted
/// per-peer progress. Never two at once. A divergence is an error log line (event 3320) on every run while it stands,
/// a metric, and a persisted report once per finding; nothing is repaired.
/// </summary>
[DisallowConcurrentExecution]
public sealed class ReconciliationJob(IJobLedger ledger, ILedgerPeerSource peers, ReconciliationJobOptions options, JobRuns runs, JobMetrics metrics, ILogger<ReconciliationJob> logger, TimeProvider time)
    : LedgerJob(ledger, runs, metrics, logger, time)
{
    public const string JobName = "reconciliation";

    protected override string Name => JobName;

    protected override async Task<(string Outcome, string Summary)> RunAsync(JobLedgerView ledger, CancellationToken cancellationToken)
    {
        var from = ReconciliationCheckpoint.FromJson(await ledger.State.GetCheckpointAsync(JobName, cancellationToken).ConfigureAwait(false)) ?? ReconciliationCheckpoint.Start;
        var reconciler = new Reconciler(ledger.Genesis, ledger.Curve);
        var run = await reconciler.RunAsync(ledger.Store, peers.Peers, from, options.MaxHeightsPerPeer, options.Projections, cancellationToken).ConfigureAwait(false);
        foreach (var peer in run.UnavailablePeers)
        {
            JobsLog.PeerUnavailable(Logger, peer);
        }

        var reported = run.Checkpoint.Reported;
        var standing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var divergence in run.Divergences)
        {
            var key = $"{divergence.Kind}|{divergence.Peer}|{divergence.Subject}";
            var value = $"{divergence.Height}|{divergence.Detail}";
            standing.Add(key);
            long report = 0;
            if (!reported.TryGetValue(key, out var known) || known != value)
            {
                report = (await ledger.State.AppendReportAsync(new JobReport(0, JobName, divergence.Kind, divergence.Height, divergence.Peer, divergence.Subject, divergence.Detail, Time.GetUtcNow()), cancellationToken).ConfigureAwait(false)).Sequence;
                reported[key] = value;
            }

            Metrics.Diverged(divergence.Kind);
            JobsLog.Divergence(Logger, divergence.Kind, divergence.Height, divergence.Peer.Length == 0 ? "this node's projections" : divergence.Peer, divergence.Subject, divergence.Detail, report);
        }

        // A finding that no longer stands (repaired by an operator) is reported again if it comes back.
        foreach (var key in reported.Keys.Where(k => !standing.Contains(k)).ToList())
        {
            reported.Remove(key);
        }

        await ledger.State.SaveCheckpointAsync(JobName, run.Checkpoint.ToJson(), cancellationToken).ConfigureAwait(false);
        var summary = $"{peers.Peers.Count} peers, {run.HeightsCompared} heights compared, {run.ProjectionObjectsChecked} projected objects checked, {run.Divergences.Count} divergences" +
            (run.UnavailablePeers.Count > 0 ? $", unavailable: {string.Join(", ", run.UnavailablePeers)}" : string.Empty);
        return (run.Divergences.Count > 0 ? JobOutcomes.Found : JobOutcomes.Succeeded, summary);
    }
}
