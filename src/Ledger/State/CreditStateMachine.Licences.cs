using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.State;

public sealed partial class CreditStateMachine
{
    /// <summary>
    /// The licence lifecycle on the recorded status: suspend 01 → 02, resume 02 → 01, revoke 01/02 → 03 (07 as a
    /// penalty), cancel 01/02 → 04, change 01/02 → 99 (the new version keeps the status). 03, 04, 06, 07 and 99 are final.
    /// A licence past validTo reads 05 expired: suspend, resume and revoke are refused, cancel and renewal remain.
    /// No transaction writes 06 transferred out (see docs/domain.md).
    /// </summary>
    internal static readonly IReadOnlyList<LicenceTransition> LicenceLifecycle =
    [
        new(TransactionKind.LicenceSuspend, [LicenceStatus.Valid], [LicenceStatus.Suspended], RefusedWhenExpired: true),
        new(TransactionKind.LicenceResume, [LicenceStatus.Suspended], [LicenceStatus.Valid], RefusedWhenExpired: true),
        new(TransactionKind.LicenceRevoke, [LicenceStatus.Valid, LicenceStatus.Suspended], [LicenceStatus.Revoked, LicenceStatus.RevokedAsPenalty], RefusedWhenExpired: true),
        new(TransactionKind.LicenceCancel, [LicenceStatus.Valid, LicenceStatus.Suspended], [LicenceStatus.Cancelled], RefusedWhenExpired: false),
        new(TransactionKind.LicenceChange, [LicenceStatus.Valid, LicenceStatus.Suspended], [LicenceStatus.Other], RefusedWhenExpired: false),
    ];

    /// <summary>
    /// E-licences. Issue, change, suspend and resume make or widen a decision and need the issuer role; revoke and
    /// cancel end the issuer's own licence for good and need ownership only.
    /// </summary>
    private static IEnumerable<IKindRules> LicenceRules() =>
    [
        new KindRules<LicenceIssue>(TransactionKind.LicenceIssue, MemberRole.LicenceIssuer, "writes version 001 with status 01 valid")
            .CreatesLicence(b => b.Identifier)
            .OwnedBy(OwnerRule.IdentifierIssuer)
            .InSignersRegion(b => b.AreaCode)
            .Check(RejectionCode.InvalidField, (_, b) => First(Text(b.LicenceName, "licenceName"), Validity(b.ValidFrom, b.ValidTo)))
            .Check(RejectionCode.InvalidSubject, (_, b) => SubjectField(b.Holder))
            .Check(RejectionCode.InvalidLicenceIdentifier, (_, b) => WellFormed(b.Identifier))
            .Check(RejectionCode.LicenceIssuerMismatch, (c, b) => NamesSignerAsIssuer(c, b.Identifier))
            .Check(RejectionCode.LicenceVersionNotNext, (_, b) => LicenceIdentifier.Parse(b.Identifier).Value.Version == 1
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.LicenceVersionNotNext, "a licence is issued as version 001; later versions come by a change"))
            .Effect((c, b) => Put(c.State, StateKeys.Licence(b.Identifier), new LicenceState(
                b.Holder, b.LicenceName, b.AreaCode, c.Signer, b.ValidFrom, b.ValidTo, b.FileDigest, LicenceStatus.Valid, c.Now, string.Empty, string.Empty)))
            .Touches((b, _) => [TouchedObject.Licence(b.Identifier)])
            .Build(),

        StatusChange<LicenceSuspend>(TransactionKind.LicenceSuspend, MemberRole.LicenceIssuer, b => b.Identifier, b => b.Reason, _ => LicenceStatus.Suspended),
        StatusChange<LicenceResume>(TransactionKind.LicenceResume, MemberRole.LicenceIssuer, b => b.Identifier, b => b.Reason, _ => LicenceStatus.Valid),

        new KindRules<LicenceChange>(TransactionKind.LicenceChange, MemberRole.LicenceIssuer, "marks the previous version 99 (other) pointing to the new one; the new version points back and keeps the previous status (01 or 02)")
            .ActsOnLicence(b => b.PreviousIdentifier)
            .CreatesLicence(b => b.Identifier)
            .OwnedBy(OwnerRule.LicenceIssuer)
            .TargetInSignersRegion()
            .Check(RejectionCode.InvalidField, (_, b) => First(Validity(b.ValidFrom, b.ValidTo), Text(b.Reason, "reason")))
            .Check(RejectionCode.InvalidLicenceIdentifier, (_, b) => First(WellFormed(b.PreviousIdentifier), WellFormed(b.Identifier)))
            .Check(RejectionCode.LicenceIssuerMismatch, (c, b) => NamesSignerAsIssuer(c, b.Identifier))
            .Check(RejectionCode.InvalidLicenceTransition, (c, b) => Allowed(c, TransactionKind.LicenceChange, b.PreviousIdentifier))
            .Check(RejectionCode.LicenceVersionNotNext, (_, b) =>
            {
                var previous = LicenceIdentifier.Parse(b.PreviousIdentifier).Value;
                var next = LicenceIdentifier.Parse(b.Identifier).Value;
                return next.Lineage == previous.Lineage && next.Version == previous.Version + 1
                    ? Verdict.Ok
                    : Verdict.Reject(RejectionCode.LicenceVersionNotNext, $"the new version must be {previous.NextVersion()}");
            })
            .Effect((c, b) =>
            {
                var previous = c.Licence!;
                Put(c.State, StateKeys.Licence(b.PreviousIdentifier), previous with { Status = LicenceStatus.Other, StatusChangedAt = c.Now, Next = b.Identifier });
                Put(c.State, StateKeys.Licence(b.Identifier), previous with
                {
                    ValidFrom = b.ValidFrom,
                    ValidTo = b.ValidTo,
                    FileDigest = b.FileDigest,
                    StatusChangedAt = c.Now,
                    Previous = b.PreviousIdentifier,
                    Next = string.Empty,
                });
            })
            .Touches((b, _) => [TouchedObject.Licence(b.PreviousIdentifier), TouchedObject.Licence(b.Identifier)])
            .Build(),

        StatusChange<LicenceRevoke>(TransactionKind.LicenceRevoke, MemberRole.None, b => b.Identifier, b => b.Reason, b => b.AsPenalty ? LicenceStatus.RevokedAsPenalty : LicenceStatus.Revoked),
        StatusChange<LicenceCancel>(TransactionKind.LicenceCancel, MemberRole.None, b => b.Identifier, b => b.Reason, _ => LicenceStatus.Cancelled),
    ];

    /// <summary>The identifier's issuer segment is the signer's own USCC (USCCs of members are unique).</summary>
    internal static Verdict NamesSignerAsIssuer(RuleContext c, string identifier)
    {
        var parsed = LicenceIdentifier.Parse(identifier);
        return parsed.IsValid && parsed.Value.Issuer.Value == c.Member.Uscc
            ? Verdict.Ok
            : Verdict.Reject(RejectionCode.LicenceIssuerMismatch, $"the identifier names issuer {(parsed.IsValid ? parsed.Value.Issuer.Value : "?")}; the signer is {c.Member.Uscc}");
    }

    private static IKindRules StatusChange<TBody>(TransactionKind kind, MemberRole role, Func<TBody, string> identifier, Func<TBody, string> reason, Func<TBody, LicenceStatus> target)
        where TBody : ITransactionBody
    {
        var transition = LicenceLifecycle.Single(t => t.Kind == kind);
        var effect = $"sets the status to {string.Join(" or ", transition.To.Select(s => $"{(byte)s:00}"))}";
        var rules = new KindRules<TBody>(kind, role, effect)
            .ActsOnLicence(identifier)
            .OwnedBy(OwnerRule.LicenceIssuer)
            .TargetInSignersRegion()
            .Check(RejectionCode.InvalidField, (_, b) => Text(reason(b), "reason"))
            .Check(RejectionCode.InvalidLicenceIdentifier, (_, b) => WellFormed(identifier(b)))
            .Check(RejectionCode.InvalidLicenceTransition, (c, b) => Allowed(c, kind, identifier(b)));
        if (transition.RefusedWhenExpired)
        {
            rules.Check(RejectionCode.LicenceExpired, (c, b) => c.Licence!.EffectiveStatusAt(c.Now) != LicenceStatus.Expired
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.LicenceExpired, $"licence {identifier(b)} expired; it can be cancelled or renewed"));
        }

        return rules.Effect((c, b) => Put(c.State, StateKeys.Licence(identifier(b)), c.Licence! with { Status = target(b), StatusChangedAt = c.Now }))
            .Touches((b, _) => [TouchedObject.Licence(identifier(b))])
            .Build();
    }

    private static Verdict Allowed(RuleContext c, TransactionKind kind, string identifier)
        => LicenceLifecycle.Single(t => t.Kind == kind).From.Contains(c.Licence!.Status)
            ? Verdict.Ok
            : Verdict.Reject(RejectionCode.InvalidLicenceTransition, $"licence {identifier} is {c.Licence.Status}; {kind} does not apply");

    private static Verdict WellFormed(string identifier)
    {
        var parsed = LicenceIdentifier.Parse(identifier);
        return parsed.IsValid ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidLicenceIdentifier, $"'{identifier}': {parsed.Error}: {parsed.Detail}");
    }

    private static Verdict Validity(ulong from, ulong to)
        => from < to ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, "validFrom must be before validTo");
}
