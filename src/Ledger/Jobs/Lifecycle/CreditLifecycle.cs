using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Jobs.Lifecycle;

/// <summary>A lifecycle fact that has come due for one record, before it is stamped and written.</summary>
public sealed record LifecycleDue(string Kind, Hash256 ObjectionId, ulong DueAt);

/// <summary>
/// Which lifecycle facts of one credit record have come due at a time, from the engine's own derivations and nothing
/// else: the record's summary in the certified subject index (its publication end <see cref="RecordSummary.PublicationEndsAt"/>,
/// its publication status <see cref="RecordSummary.PublicationStatusAt"/>, its repair date
/// <see cref="RecordSummary.RepairEligibleAt"/>, all computed by the state machine from the genesis' publication rules)
/// and the open objection's state (<see cref="ObjectionState.IsOverdueAt"/>, its deadline set when it was filed). No
/// rule of DOMAIN.md §5 is re-derived here.
/// </summary>
public static class CreditLifecycle
{
    /// <summary>
    /// The facts due at <paramref name="now"/> (Unix seconds): an open objection past its deadline; a published
    /// record whose period ends within <paramref name="noticeSeconds"/> (or has ended); a published penalty its designator
    /// may now repair.
    /// </summary>
    public static IReadOnlyList<LifecycleDue> Due(RecordSummary record, ObjectionState? openObjection, ulong now, ulong noticeSeconds)
    {
        var due = new List<LifecycleDue>(2);
        if (openObjection is { } objection && objection.IsOverdueAt(now))
        {
            due.Add(new LifecycleDue(LifecycleKinds.ObjectionOverdue, record.OpenObjection, objection.DeadlineAt));
        }

        if (record.Status != RecordStatus.Active)
        {
            return due; // repaired or annulled: nothing published any more
        }

        var status = record.PublicationStatusAt(now);
        if (status == PublicationStatus.Expired)
        {
            due.Add(new LifecycleDue(LifecycleKinds.PublicationEnded, Hash256.Zero, record.PublicationEndsAt));
        }
        else if (status is PublicationStatus.Published or PublicationStatus.Disputed)
        {
            if (now + noticeSeconds >= record.PublicationEndsAt)
            {
                due.Add(new LifecycleDue(LifecycleKinds.PublicationEnding, Hash256.Zero, record.PublicationEndsAt));
            }

            if (record.RepairEligibleAt != 0 && now >= record.RepairEligibleAt)
            {
                due.Add(new LifecycleDue(LifecycleKinds.RepairPossible, Hash256.Zero, record.RepairEligibleAt));
            }
        }

        return due;
    }

    /// <summary>
    /// Whether nothing can come due for the record any more without a new transaction touching it: not published (or no
    /// longer), and no open objection still within its deadline. Such records are no longer watched.
    /// </summary>
    public static bool IsSettled(RecordSummary record, ObjectionState? openObjection, ulong now)
    {
        if (openObjection is { } objection && objection.IsOpen && !objection.IsOverdueAt(now))
        {
            return false;
        }

        return record.Status != RecordStatus.Active || record.PublicationStatusAt(now) is not (PublicationStatus.Published or PublicationStatus.Disputed);
    }
}
