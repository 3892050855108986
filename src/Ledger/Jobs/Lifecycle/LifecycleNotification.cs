using System.Globalization;

namespace SmartCity.Ledger.Jobs.Lifecycle;

/// <summary>What a lifecycle notification announces (docs/jobs.md, "CreditLifecycleJob").</summary>
public static class LifecycleKinds
{
    /// <summary>An objection (异议) still open past its answer deadline (filing + the genesis' objectionDeadlineDays).</summary>
    public const string ObjectionOverdue = "objection-overdue";

    /// <summary>A published record whose publication period ends within the notice period.</summary>
    public const string PublicationEnding = "publication-ending";

    /// <summary>A record whose publication period has ended: it is no longer published.</summary>
    public const string PublicationEnded = "publication-ended";

    /// <summary>A published administrative penalty that its designator may now repair (信用修复).</summary>
    public const string RepairPossible = "repair-possible";
}

/// <summary>
/// A notification of the credit lifecycle job: a fact of the certified state that has come due by the node's clock.
/// Written once per <see cref="Key"/>; the ledger itself is never written (its state is a function of block time).
/// </summary>
/// <param name="Sequence">Assigned by the store on append, from 1.</param>
/// <param name="Kind">One of <see cref="LifecycleKinds"/>.</param>
/// <param name="Subject">The record's subject (e.g. <c>uscc:…</c>).</param>
/// <param name="RecordId">The credit record (0x hex).</param>
/// <param name="ObjectionId">The open objection for <see cref="LifecycleKinds.ObjectionOverdue"/>, else empty.</param>
/// <param name="Designator">The member that designated the record (who answers the objection, who may repair it).</param>
/// <param name="DueAt">When it came or comes due: the answer deadline, the publication end, the repair date.</param>
/// <param name="Height">The block height whose certified state it was derived from.</param>
/// <param name="NotedAt">When the job wrote it (the node's clock).</param>
public sealed record LifecycleNotification(long Sequence, string Kind, string Subject, string RecordId, string ObjectionId, string Designator, DateTimeOffset DueAt, long Height, DateTimeOffset NotedAt)
{
    /// <summary>What makes a notification unique: the kind, the record, the objection and the due time (a changed date is a new notification).</summary>
    public string Key => string.Create(CultureInfo.InvariantCulture, $"{Kind}|{RecordId}|{ObjectionId}|{DueAt.ToUnixTimeSeconds()}");
}
