namespace SmartCity.Ledger.Jobs.State;

/// <summary>What a report is about.</summary>
public static class JobReportKinds
{
    /// <summary>The chain audit found a stored block that fails a check (hash link, root, certificate, signature, unreadable).</summary>
    public const string StoreDamage = "store-damage";

    /// <summary>
    /// A stored block names a new validator set, and the state that would prove the hand-over (the state after the block
    /// before it) is pruned: its certificate cannot be checked from this store. Not damage (docs/consensus.md).
    /// </summary>
    public const string HandOverStatePruned = "hand-over-state-pruned";

    /// <summary>A peer's certified header at a height both nodes hold differs from this node's.</summary>
    public const string PeerDivergence = "peer-divergence";

    /// <summary>A peer served a header whose certificate does not prove it final.</summary>
    public const string PeerCertificateInvalid = "peer-certificate-invalid";

    /// <summary>A query projection row disagrees with the certified state tree at the head.</summary>
    public const string ProjectionDivergence = "projection-divergence";
}

/// <summary>
/// A persisted alert of a job: a divergence or damage it found and did not repair. Reports are append-only; the Audit
/// API's <c>ListReconciliationReports</c> reads them.
/// </summary>
/// <param name="Sequence">Assigned by the store on append, from 1.</param>
/// <param name="Job">The job that found it (<c>chain-audit</c>, <c>reconciliation</c>).</param>
/// <param name="Kind">One of <see cref="JobReportKinds"/>.</param>
/// <param name="Height">The first height concerned (-1: none, e.g. a projection row).</param>
/// <param name="Peer">The peer compared with (empty: this node alone).</param>
/// <param name="Subject">What diverged: a field, a projection row's identity.</param>
/// <param name="Detail">What failed, in words.</param>
/// <param name="FoundAt">When the job found it.</param>
public sealed record JobReport(long Sequence, string Job, string Kind, long Height, string Peer, string Subject, string Detail, DateTimeOffset FoundAt);

/// <summary>
/// Where the jobs keep their progress (a checkpoint per job, an opaque JSON document) and their reports. The embedded
/// node keeps them in files next to its store, the PostgreSQL node in tables of its schema, so progress survives a
/// restart and every instance of a region sees the same.
/// </summary>
public interface IJobStateStore
{
    ValueTask<string?> GetCheckpointAsync(string job, CancellationToken cancellationToken);

    /// <summary>Replaces the job's checkpoint, durably.</summary>
    ValueTask SaveCheckpointAsync(string job, string checkpoint, CancellationToken cancellationToken);

    /// <summary>Appends a report durably and returns it with its sequence number.</summary>
    ValueTask<JobReport> AppendReportAsync(JobReport report, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> reports with a sequence above <paramref name="afterSequence"/>, oldest first.</summary>
    ValueTask<IReadOnlyList<JobReport>> ListReportsAsync(long afterSequence, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Appends a lifecycle notification durably unless one with the same <see cref="Lifecycle.LifecycleNotification.Key"/>
    /// exists; returns it with its sequence number, or null when it was already written.
    /// </summary>
    ValueTask<Lifecycle.LifecycleNotification?> AppendNotificationAsync(Lifecycle.LifecycleNotification notification, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> notifications with a sequence above <paramref name="afterSequence"/>, oldest first; only <paramref name="designator"/>'s when given (0x address).</summary>
    ValueTask<IReadOnlyList<Lifecycle.LifecycleNotification>> ListNotificationsAsync(long afterSequence, int limit, string? designator, CancellationToken cancellationToken);
}
