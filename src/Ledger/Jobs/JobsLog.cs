namespace SmartCity.Ledger.Jobs;

/// <summary>
/// The jobs' log lines. Event ids 3300-3349 belong to the jobs, 3350-3369 to anchoring (docs/jobs.md, "Event ids").
/// </summary>
internal static partial class JobsLog
{
    [LoggerMessage(EventId = 3300, Level = LogLevel.Information, Message = "job {Job}: {Outcome} in {Milliseconds} ms: {Summary}")]
    public static partial void Finished(ILogger logger, string job, string outcome, long milliseconds, string summary);

    [LoggerMessage(EventId = 3301, Level = LogLevel.Warning, Message = "job {Job}: skipped, the ledger is not open")]
    public static partial void LedgerNotOpen(ILogger logger, string job);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Error, Message = "job {Job}: failed: {Reason}")]
    public static partial void Failed(ILogger logger, string job, string reason, Exception exception);

    [LoggerMessage(EventId = 3303, Level = LogLevel.Information, Message = "job {Job}: cancelled (the node is stopping); progress up to the last checkpoint is kept")]
    public static partial void Cancelled(ILogger logger, string job);

    [LoggerMessage(EventId = 3310, Level = LogLevel.Error, Message = "chain audit: block {Height} of this node's store is damaged: {Damage} (checked up to block {CheckedTo}; report {Report})")]
    public static partial void StoreDamaged(ILogger logger, long height, string damage, long checkedTo, long report);

    [LoggerMessage(EventId = 3311, Level = LogLevel.Information, Message = "chain audit: blocks {From}..{To} intact ({Signatures} signatures verified); head {Head}")]
    public static partial void AuditProgress(ILogger logger, long from, long to, long signatures, long head);

    [LoggerMessage(EventId = 3320, Level = LogLevel.Error, Message = "reconciliation: {Kind} at height {Height} with {Peer}: {Subject}: {Detail} (report {Report})")]
    public static partial void Divergence(ILogger logger, string kind, long height, string peer, string subject, string detail, long report);

    [LoggerMessage(EventId = 3321, Level = LogLevel.Warning, Message = "reconciliation: peer {Peer} cannot be read now; compared again on the next run")]
    public static partial void PeerUnavailable(ILogger logger, string peer);

    [LoggerMessage(EventId = 3330, Level = LogLevel.Information, Message = "credit lifecycle: {Kind} for record {RecordId} of {Subject}, due {DueAt:O}, from the state at block {Height} (notification {Sequence})")]
    public static partial void LifecycleNotification(ILogger logger, string kind, string recordId, string subject, DateTimeOffset dueAt, long height, long sequence);

    [LoggerMessage(EventId = 3350, Level = LogLevel.Information, Message = "anchoring: block {Height} ({Hash}) anchored in EVM transaction {Transaction} at EVM block {EvmBlock}")]
    public static partial void Anchored(ILogger logger, long height, string hash, string transaction, long evmBlock);

    [LoggerMessage(EventId = 3351, Level = LogLevel.Information, Message = "anchoring: nothing to anchor: the contract's latest checkpoint is height {Latest}, the head {Head} (every {Every} blocks)")]
    public static partial void NothingToAnchor(ILogger logger, long latest, long head, int every);

    [LoggerMessage(EventId = 3352, Level = LogLevel.Error, Message = "anchoring: the contract refused block {Height}: {Reason}")]
    public static partial void AnchorRefused(ILogger logger, long height, string reason);

    [LoggerMessage(EventId = 3353, Level = LogLevel.Warning, Message = "anchoring: the EVM node cannot be used now: {Reason}; retried on the next run, the ledger is not affected")]
    public static partial void EvmUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 3354, Level = LogLevel.Error, Message = "anchoring: nothing sent: {Reason}")]
    public static partial void AnchorNotSent(ILogger logger, string reason);
}
