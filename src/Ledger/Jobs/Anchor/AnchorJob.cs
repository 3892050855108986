using Quartz;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Jobs.Anchor;

/// <summary>What the host gives the AnchorJob: the submitter's key (opened at start-up through KeySource) and where anchors are recorded.</summary>
/// <param name="Submitter">Signs and pays for the anchor transactions (not disposed by the job).</param>
/// <param name="Records">The anchor state: a file in the data directory, or the ledger schema's tables.</param>
public sealed record AnchorJobServices(ISigner Submitter, IAnchorRecordStore Records) : IAsyncDisposable
{
    /// <summary>Closes the record store's connections (the submitter key belongs to the host and is disposed there).</summary>
    public ValueTask DisposeAsync() => Records is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;
}

/// <summary>
/// The scheduled anchoring of this node's certified head on an EVM chain (<see cref="Anchorer"/>). Never two at once:
/// a second run would send a second transaction for the same checkpoint. Outcomes in Status: <c>succeeded</c> (anchored,
/// not due, or sent and pending), <c>failed</c> (refused with the contract's reason, EVM node unavailable, not sent).
/// </summary>
[DisallowConcurrentExecution]
public sealed class AnchorJob(IJobLedger ledger, AnchorJobOptions options, AnchorJobServices services, JobRuns runs, JobMetrics metrics, ILogger<AnchorJob> logger, TimeProvider time)
    : Scheduling.LedgerJob(ledger, runs, metrics, logger, time)
{
    public const string JobName = "anchor";

    protected override string Name => JobName;

    protected override async Task<(string Outcome, string Summary)> RunAsync(JobLedgerView ledger, CancellationToken cancellationToken)
    {
        var anchorer = new Anchorer(options, services.Submitter, services.Records, ledger.Genesis.ChainId, Metrics, Logger, Time);
        var result = await anchorer.RunAsync(ledger.Store, cancellationToken).ConfigureAwait(false);
        return (Outcome(result.Status), result.Summary);
    }

    public static string Outcome(AnchorRunStatus status)
        => status is AnchorRunStatus.Anchored or AnchorRunStatus.NothingToAnchor or AnchorRunStatus.Pending ? JobOutcomes.Succeeded : JobOutcomes.Failed;
}
