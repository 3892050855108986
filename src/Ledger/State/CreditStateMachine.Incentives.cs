using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.State;

public sealed partial class CreditStateMachine
{
    /// <summary>A listing follows from a specific legal violation decided by the initiator: a legal basis is required.</summary>
    private Verdict AddListEntry(Context context, ListEntryAdd tx)
    {
        var key = StateKeys.ListEntry(tx.EntryId);
        var verdict = First(
            Fresh(context, key, "list entry"),
            SubjectField(tx.Subject, out _),
            Enum.IsDefined(tx.Colour) ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, "colour is red (1) or black (2)"),
            Text(tx.ListType, "listType"),
            Text(tx.LegalBasis, "legalBasis"),
            tx.ExpiresAt == 0 || tx.ExpiresAt > tx.EffectiveFrom ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, "expiresAt must be after effectiveFrom (or 0)"),
            InSignersRegion(context, tx.DivisionCode, out var region));
        if (!verdict.IsOk)
        {
            return verdict;
        }

        Put(context.State, key, new ListEntryState(tx.Subject, tx.Colour, tx.ListType, tx.LegalBasis, tx.DivisionCode, region, context.Signer, tx.EffectiveFrom, tx.ExpiresAt, 0));
        return Verdict.Ok;
    }

    private static Verdict RemoveListEntry(Context context, ListEntryRemove tx)
    {
        var key = StateKeys.ListEntry(tx.EntryId);
        var entry = context.State.Read(key, ListEntryState.Read);
        if (entry is null)
        {
            return Verdict.Reject(RejectionCode.UnknownListEntry, $"no list entry {tx.EntryId}");
        }

        if (entry.Initiator != context.Signer)
        {
            return Verdict.Reject(RejectionCode.NotTheInitiator, $"only the initiator {entry.Initiator} removes its entry");
        }

        if (entry.RemovedAt != 0 || (entry.ExpiresAt != 0 && context.Now >= entry.ExpiresAt))
        {
            return Verdict.Reject(RejectionCode.ListEntryNotActive, $"list entry {tx.EntryId} is already removed or expired");
        }

        var reason = Text(tx.Reason, "reason");
        if (!reason.IsOk)
        {
            return reason;
        }

        Put(context.State, key, entry with { RemovedAt = context.Now });
        return Verdict.Ok;
    }

    private Verdict PublishMemorandum(Context context, MemorandumPublish tx)
    {
        var key = StateKeys.Memorandum(tx.MemorandumId);
        var verdict = First(
            Fresh(context, key, "memorandum"),
            Text(tx.Title, "title"),
            Enum.IsDefined(tx.Colour) ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, "colour is red (1) or black (2)"),
            Text(tx.ListType, "listType"),
            tx.Measures.Count > 0 && tx.Measures.All(m => Text(m, "measure").IsOk) && tx.Measures.Distinct(StringComparer.Ordinal).Count() == tx.Measures.Count
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.InvalidField, "measures must be one or more distinct names"),
            tx.Regions.Count > 0 && tx.Regions.All(Regions.Contains) && tx.Regions.Distinct(StringComparer.Ordinal).Count() == tx.Regions.Count
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.InvalidField, "regions must be distinct regions of the consortium"),
            tx.EffectiveTo == 0 || tx.EffectiveTo > tx.EffectiveFrom ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, "effectiveTo must be after effectiveFrom (or 0)"));
        if (!verdict.IsOk)
        {
            return verdict;
        }

        if (!tx.Regions.Contains(context.Member.Region))
        {
            return Verdict.Reject(RejectionCode.RegionMismatch, $"a publisher from {context.Member.Region} publishes only memoranda that cover its own region");
        }

        Put(context.State, key, new MemorandumState(tx.Title, tx.Colour, tx.ListType, tx.Measures, tx.Regions, tx.EffectiveFrom, tx.EffectiveTo, context.Signer));
        return Verdict.Ok;
    }

    /// <summary>
    /// 发起-响应: an implementer applies a measure of a memorandum in force to an active entry of the list the
    /// memorandum names. Cross-region mutual recognition: the memorandum must cover both the entry's region and
    /// the implementer's.
    /// </summary>
    private static Verdict RecordFeedback(Context context, MeasureFeedback tx)
    {
        var key = StateKeys.Feedback(tx.FeedbackId);
        var verdict = First(
            Fresh(context, key, "feedback"),
            Enum.IsDefined(tx.Outcome) ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, "outcome is applied (1), not applicable (2) or lifted (3)"),
            tx.AppliedAt <= context.Now ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, "appliedAt is after the block time"));
        if (!verdict.IsOk)
        {
            return verdict;
        }

        var entry = context.State.Read(StateKeys.ListEntry(tx.EntryId), ListEntryState.Read);
        if (entry is null)
        {
            return Verdict.Reject(RejectionCode.UnknownListEntry, $"no list entry {tx.EntryId}");
        }

        var memorandum = context.State.Read(StateKeys.Memorandum(tx.MemorandumId), MemorandumState.Read);
        if (memorandum is null)
        {
            return Verdict.Reject(RejectionCode.UnknownMemorandum, $"no memorandum {tx.MemorandumId}");
        }

        if (!entry.IsActiveAt(context.Now) && tx.Outcome != FeedbackOutcome.Lifted)
        {
            return Verdict.Reject(RejectionCode.ListEntryNotActive, $"list entry {tx.EntryId} is not active");
        }

        if (!memorandum.IsInForceAt(context.Now))
        {
            return Verdict.Reject(RejectionCode.MemorandumNotInForce, $"memorandum {tx.MemorandumId} is not in force");
        }

        if (memorandum.Colour != entry.Colour || memorandum.ListType != entry.ListType)
        {
            return Verdict.Reject(RejectionCode.ListNotCoveredByMemorandum, $"the memorandum covers the {memorandum.Colour} list '{memorandum.ListType}', the entry is on the {entry.Colour} list '{entry.ListType}'");
        }

        if (!memorandum.Regions.Contains(entry.Region) || !memorandum.Regions.Contains(context.Member.Region))
        {
            return Verdict.Reject(RejectionCode.RegionNotCoveredByMemorandum, $"the memorandum covers {string.Join(",", memorandum.Regions)}; the entry is from {entry.Region} and the implementer in {context.Member.Region}");
        }

        if (!memorandum.Measures.Contains(tx.Measure))
        {
            return Verdict.Reject(RejectionCode.MeasureNotInMemorandum, $"'{tx.Measure}' is not a measure of the memorandum");
        }

        Put(context.State, key, new FeedbackState(tx.EntryId, tx.MemorandumId, tx.Measure, tx.Outcome, tx.AppliedAt, context.Signer, context.Member.Region));
        return Verdict.Ok;
    }
}
