using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.State;

public sealed partial class CreditStateMachine
{
    /// <summary>
    /// Joint incentives and punishment (发起-响应). A listing follows from a specific legal violation decided by the
    /// initiator, so it needs a legal basis; the initiator removes its own entry without needing the role (a listing
    /// must be removable once the debtor performs, even by a department that no longer lists).
    /// </summary>
    private static IEnumerable<IKindRules> IncentiveRules() =>
    [
        new KindRules<ListEntryAdd>(TransactionKind.ListEntryAdd, MemberRole.ListInitiator, "writes the entry (active from effectiveFrom until expiresAt or removal)")
            .Creates(StateObject.ListEntry, "entryId", b => b.EntryId)
            .InSignersRegion(b => b.DivisionCode)
            .Check(RejectionCode.InvalidField, (_, b) => First(
                Colour(b.Colour),
                Text(b.ListType, "listType"),
                Text(b.LegalBasis, "legalBasis"),
                b.ExpiresAt == 0 || b.ExpiresAt > b.EffectiveFrom ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, "expiresAt must be after effectiveFrom (or 0)")))
            .Check(RejectionCode.InvalidSubject, (_, b) => SubjectField(b.Subject))
            .Effect((c, b) => Put(c.State, StateKeys.ListEntry(b.EntryId), new ListEntryState(
                b.Subject, b.Colour, b.ListType, b.LegalBasis, b.DivisionCode, c.Machine.Regions.RegionOf(b.DivisionCode)!.Code, c.Signer, b.EffectiveFrom, b.ExpiresAt, 0)))
            .Touches((b, _) => [TouchedObject.Of(StateObject.ListEntry, b.EntryId)])
            .Build(),

        new KindRules<ListEntryRemove>(TransactionKind.ListEntryRemove, MemberRole.None, "sets removedAt to the block time")
            .ActsOn(StateObject.ListEntry, b => b.EntryId)
            .OwnedBy(OwnerRule.ListEntryInitiator)
            .TargetInSignersRegion()
            .Check(RejectionCode.InvalidField, (_, b) => Text(b.Reason, "reason"))
            .Check(RejectionCode.ListEntryNotActive, (c, b) => c.Entry!.RemovedAt == 0 && (c.Entry.ExpiresAt == 0 || c.Now < c.Entry.ExpiresAt)
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.ListEntryNotActive, $"list entry {b.EntryId} is already removed or expired"))
            .Effect((c, b) => Put(c.State, StateKeys.ListEntry(b.EntryId), c.Entry! with { RemovedAt = c.Now }))
            .Touches((b, _) => [TouchedObject.Of(StateObject.ListEntry, b.EntryId)])
            .Build(),

        new KindRules<MemorandumPublish>(TransactionKind.MemorandumPublish, MemberRole.MemorandumPublisher, "writes the memorandum (in force from effectiveFrom until effectiveTo)")
            .Creates(StateObject.Memorandum, "memorandumId", b => b.MemorandumId)
            .Region(RegionRule.MemorandumCoversSigner, RejectionCode.RegionMismatch, (c, b) => b.Regions.Contains(c.Member.Region)
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.RegionMismatch, $"a publisher from {c.Member.Region} publishes only memoranda that cover its own region"))
            .Check(RejectionCode.InvalidField, (c, b) => First(
                Text(b.Title, "title"),
                Colour(b.Colour),
                Text(b.ListType, "listType"),
                b.Measures.Count > 0 && b.Measures.All(m => Text(m, "measure").IsOk) && b.Measures.Distinct(StringComparer.Ordinal).Count() == b.Measures.Count
                    ? Verdict.Ok
                    : Verdict.Reject(RejectionCode.InvalidField, "measures must be one or more distinct names of 1 to 512 characters"),
                b.Regions.Count > 0 && b.Regions.All(c.Machine.Regions.Contains) && b.Regions.Distinct(StringComparer.Ordinal).Count() == b.Regions.Count
                    ? Verdict.Ok
                    : Verdict.Reject(RejectionCode.InvalidField, "regions must be distinct regions of the consortium"),
                b.EffectiveTo == 0 || b.EffectiveTo > b.EffectiveFrom ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, "effectiveTo must be after effectiveFrom (or 0)")))
            .Effect((c, b) => Put(c.State, StateKeys.Memorandum(b.MemorandumId), new MemorandumState(
                b.Title, b.Colour, b.ListType, b.Measures, b.Regions, b.EffectiveFrom, b.EffectiveTo, c.Signer)))
            .Touches((b, _) => [TouchedObject.Of(StateObject.Memorandum, b.MemorandumId)])
            .Build(),

        new KindRules<MeasureFeedback>(TransactionKind.MeasureFeedback, MemberRole.MeasureImplementer, "writes the feedback with the implementer and its region")
            .Creates(StateObject.Feedback, "feedbackId", b => b.FeedbackId)
            .ActsOn(StateObject.ListEntry, b => b.EntryId)
            .ActsOn(StateObject.Memorandum, b => b.MemorandumId)
            .Region(RegionRule.MemorandumCoversEntryAndSigner, RejectionCode.RegionNotCoveredByMemorandum, (c, _) =>
                c.Memorandum!.Regions.Contains(c.Entry!.Region) && c.Memorandum.Regions.Contains(c.Member.Region)
                    ? Verdict.Ok
                    : Verdict.Reject(RejectionCode.RegionNotCoveredByMemorandum, $"the memorandum covers {string.Join(",", c.Memorandum.Regions)}; the entry is from {c.Entry.Region} and the implementer in {c.Member.Region}"))
            .Check(RejectionCode.InvalidField, (c, b) => First(
                Enum.IsDefined(b.Outcome) ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, "outcome is applied (1), not applicable (2) or lifted (3)"),
                b.AppliedAt <= c.Now ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, "appliedAt is after the block time")))
            .Check(RejectionCode.ListEntryNotActive, (c, b) => c.Entry!.IsActiveAt(c.Now) || b.Outcome == FeedbackOutcome.Lifted
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.ListEntryNotActive, $"list entry {b.EntryId} is not active"))
            .Check(RejectionCode.MemorandumNotInForce, (c, b) => c.Memorandum!.IsInForceAt(c.Now)
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.MemorandumNotInForce, $"memorandum {b.MemorandumId} is not in force"))
            .Check(RejectionCode.ListNotCoveredByMemorandum, (c, _) => c.Memorandum!.Colour == c.Entry!.Colour && c.Memorandum.ListType == c.Entry.ListType
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.ListNotCoveredByMemorandum, $"the memorandum covers the {c.Memorandum.Colour} list '{c.Memorandum.ListType}', the entry is on the {c.Entry.Colour} list '{c.Entry.ListType}'"))
            .Check(RejectionCode.MeasureNotInMemorandum, (c, b) => c.Memorandum!.Measures.Contains(b.Measure)
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.MeasureNotInMemorandum, $"'{b.Measure}' is not a measure of the memorandum"))
            .Effect((c, b) => Put(c.State, StateKeys.Feedback(b.FeedbackId), new FeedbackState(
                b.EntryId, b.MemorandumId, b.Measure, b.Outcome, b.AppliedAt, c.Signer, c.Member.Region)))
            .Touches((b, _) => [TouchedObject.Of(StateObject.Feedback, b.FeedbackId)])
            .Build(),
    ];

    private static Verdict Colour(ListColour colour)
        => Enum.IsDefined(colour) ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, $"colour {(byte)colour} is not red (1) or black (2)");
}
