using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;

namespace SmartCity.Ledger.State;

public sealed partial class CreditStateMachine
{
    private static readonly string[] TaxGrades = ["A", "B", "M", "C", "D"];

    /// <summary>
    /// Credit records and objections. Submit and amend make or widen a decision and need the designator role; repair,
    /// annul and objection answers withdraw or answer for the designator's own decision and need ownership only.
    /// </summary>
    private static IEnumerable<IKindRules> RecordRules() =>
    [
        new KindRules<CreditRecordSubmit>(TransactionKind.CreditRecordSubmit, MemberRole.CreditDesignator, "writes the record as version 1")
            .Creates(StateObject.Record, "recordId", b => b.RecordId)
            .InSignersRegion(b => b.DivisionCode)
            .Check(RejectionCode.InvalidField, (c, b) => First(
                Text(b.LegalBasis, "legalBasis"),
                CategoryFields(b.Category, b.Severity, b.Grade),
                b.DecidedAt <= c.Now ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, "decidedAt is after the block time")))
            .Check(RejectionCode.InvalidSubject, (_, b) => SubjectField(b.Subject))
            .Check(RejectionCode.PublicationPeriodOutOfRange, (c, b) => PublicationPeriod(c.Machine.Parameters, b.Category, b.Severity, b.PublicationMonths))
            .Effect((c, b) =>
            {
                var region = c.Machine.Regions.RegionOf(b.DivisionCode)!.Code;
                var record = new CreditRecordState(
                    b.Subject, b.Category, b.Severity, b.DivisionCode, region, c.Signer, b.DecidedAt, b.PublicationMonths,
                    b.LegalBasis, b.Grade, b.PayloadDigest, Version: 1, RecordStatus.Active, c.Now, default);
                Put(c.State, StateKeys.Record(b.RecordId), record);
                Put(c.State, StateKeys.RecordVersion(b.RecordId, 1), record);
            })
            .Touches((b, _) => [TouchedObject.Of(StateObject.Record, b.RecordId)])
            .Build(),

        new KindRules<CreditRecordAmend>(TransactionKind.CreditRecordAmend, MemberRole.CreditDesignator, "writes the next version with the new severity, period, legal basis and payload")
            .ActsOn(StateObject.Record, b => b.RecordId)
            .OwnedBy(OwnerRule.RecordDesignator)
            .TargetInSignersRegion()
            .Check(RejectionCode.InvalidField, (c, b) => First(
                Text(b.LegalBasis, "legalBasis"),
                Text(b.Reason, "reason"),
                c.Record is null ? Verdict.Ok : CategoryFields(c.Record.Category, b.Severity, c.Record.Grade)))
            .Check(RejectionCode.RecordNotActive, (c, _) => Active(c))
            .Check(RejectionCode.PublicationPeriodOutOfRange, (c, b) => PublicationPeriod(c.Machine.Parameters, c.Record!.Category, b.Severity, b.PublicationMonths))
            .Effect((c, b) => NewVersion(c, c.Record! with
            {
                Severity = b.Severity,
                PublicationMonths = b.PublicationMonths,
                LegalBasis = b.LegalBasis,
                PayloadDigest = b.PayloadDigest,
            }))
            .Touches((b, _) => [TouchedObject.Of(StateObject.Record, b.RecordId)])
            .Build(),

        new KindRules<CreditRecordRepair>(TransactionKind.CreditRecordRepair, MemberRole.None, "writes the next version with status repaired")
            .ActsOn(StateObject.Record, b => b.RecordId)
            .OwnedBy(OwnerRule.RecordDesignator)
            .TargetInSignersRegion()
            .Check(RejectionCode.InvalidField, (_, b) => Text(b.Reason, "reason"))
            .Check(RejectionCode.RecordNotActive, (c, _) => Active(c))
            .Check(RejectionCode.NotRepairable, (c, _) => c.Record!.Category == RecordCategory.AdministrativePenalty
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.NotRepairable, $"a {c.Record.Category} record is not repaired (only administrative penalties are)"))
            .Check(RejectionCode.RepairTooEarly, (c, _) =>
            {
                var eligibleAt = LedgerTime.AddMonths(c.Record!.DecidedAt, Rule(c.Machine.Parameters, c.Record.Severity).RepairAfterMonths);
                return c.Now >= eligibleAt
                    ? Verdict.Ok
                    : Verdict.Reject(RejectionCode.RepairTooEarly, $"a {c.Record.Severity} penalty may be repaired from {DateTimeOffset.FromUnixTimeSeconds((long)eligibleAt):yyyy-MM-dd}");
            })
            .Effect((c, _) => NewVersion(c, c.Record! with { Status = RecordStatus.Repaired }))
            .Touches((b, _) => [TouchedObject.Of(StateObject.Record, b.RecordId)])
            .Build(),

        new KindRules<CreditRecordAnnul>(TransactionKind.CreditRecordAnnul, MemberRole.None, "writes the next version with status annulled (an open objection stays open)")
            .ActsOn(StateObject.Record, b => b.RecordId)
            .OwnedBy(OwnerRule.RecordDesignator)
            .TargetInSignersRegion()
            .Check(RejectionCode.InvalidField, (_, b) => Text(b.Reason, "reason"))
            .Check(RejectionCode.RecordNotActive, (c, _) => Active(c))
            .Effect((c, _) => NewVersion(c, c.Record! with { Status = RecordStatus.Annulled }))
            .Touches((b, _) => [TouchedObject.Of(StateObject.Record, b.RecordId)])
            .Build(),

        new KindRules<ObjectionFile>(TransactionKind.ObjectionFile, MemberRole.None, "writes the open objection (deadline: block time + objectionDeadlineDays) and marks the record disputed")
            .Creates(StateObject.Objection, "objectionId", b => b.ObjectionId)
            .ActsOn(StateObject.Record, b => b.RecordId)
            .OwnedBy(OwnerRule.NotRecordDesignator)
            .Check(RejectionCode.RecordNotActive, (c, _) => Active(c))
            .Check(RejectionCode.ObjectionAlreadyOpen, (c, _) => c.Record!.OpenObjection.IsZero
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.ObjectionAlreadyOpen, $"objection {c.Record.OpenObjection} on this record is still open"))
            .Effect((c, b) =>
            {
                var deadline = LedgerTime.AddDays(c.Now, c.Machine.Parameters.ObjectionDeadlineDays);
                Put(c.State, StateKeys.Objection(b.ObjectionId), new ObjectionState(b.RecordId, c.Signer, c.Now, deadline, b.GroundsDigest, 0, 0, default));
                Put(c.State, StateKeys.Record(b.RecordId), c.Record! with { OpenObjection = b.ObjectionId });
            })
            .Touches((b, _) => [TouchedObject.Of(StateObject.Record, b.RecordId)])
            .Build(),

        new KindRules<ObjectionResolve>(TransactionKind.ObjectionResolve, MemberRole.None, "writes the outcome and clears the record's open objection")
            .ActsOn(StateObject.Objection, b => b.ObjectionId)
            .OwnedBy(OwnerRule.RecordDesignator)
            .TargetInSignersRegion()
            .Check(RejectionCode.InvalidField, (_, b) => Enum.IsDefined(b.Outcome)
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.InvalidField, $"outcome {(byte)b.Outcome} is not corrected (1), upheld (2) or noted (3)"))
            .Check(RejectionCode.ObjectionAlreadyResolved, (c, b) => c.Objection!.IsOpen
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.ObjectionAlreadyResolved, $"objection {b.ObjectionId} was answered {c.Objection.Outcome}"))
            .Effect((c, b) =>
            {
                Put(c.State, StateKeys.Objection(b.ObjectionId), c.Objection! with { Outcome = b.Outcome, ResolvedAt = c.Now, AnswerDigest = b.AnswerDigest });
                Put(c.State, StateKeys.Record(c.RecordId), c.Record! with { OpenObjection = default });
            })
            .Touches((b, after) => after.Read(StateKeys.Objection(b.ObjectionId), ObjectionState.Read) is { } objection
                ? [TouchedObject.Of(StateObject.Record, objection.RecordId)]
                : [])
            .Build(),
    ];

    private static Verdict Active(RuleContext c) => c.Record!.Status == RecordStatus.Active
        ? Verdict.Ok
        : Verdict.Reject(RejectionCode.RecordNotActive, $"record {c.RecordId} is {c.Record.Status}");

    /// <summary>Writes the next version of the record (history is never overwritten: record/{id}/v/{n} keeps each).</summary>
    private static void NewVersion(RuleContext c, CreditRecordState record)
    {
        var next = record with { Version = record.Version + 1, StatusChangedAt = c.Now };
        Put(c.State, StateKeys.Record(c.RecordId), next);
        Put(c.State, StateKeys.RecordVersion(c.RecordId, next.Version), next);
    }

    /// <summary>
    /// A known category; a penalty has severity minor (1), moderate (2) or serious (3), every other category severity
    /// none (0) exactly; only a tax grade has a grade, and it is A, B, M, C or D.
    /// </summary>
    private static Verdict CategoryFields(RecordCategory category, Severity severity, string grade)
    {
        if (!Enum.IsDefined(category))
        {
            return Verdict.Reject(RejectionCode.InvalidField, $"category {(byte)category} is unknown");
        }

        if (category == RecordCategory.AdministrativePenalty)
        {
            if (severity is not (Severity.Minor or Severity.Moderate or Severity.Serious))
            {
                return Verdict.Reject(RejectionCode.InvalidField, $"a penalty has a severity minor (1), moderate (2) or serious (3), not {(byte)severity}");
            }
        }
        else if (severity != Severity.None)
        {
            return Verdict.Reject(RejectionCode.InvalidField, $"a {category} record has severity none (0), not {(byte)severity}");
        }

        var taxGrade = category == RecordCategory.TaxGrade;
        return taxGrade == TaxGrades.Contains(grade) && (taxGrade || grade.Length == 0)
            ? Verdict.Ok
            : Verdict.Reject(RejectionCode.InvalidField, taxGrade ? "a tax grade is A, B, M, C or D" : "only a tax grade record has a grade");
    }

    /// <summary>
    /// Penalties: within the genesis range of their severity (SAMR Order 107). Court defaulters: 2 years, extendable
    /// by 1-3 years (24-60 months). Tax grades and honours: 1 to 36 months.
    /// </summary>
    private static Verdict PublicationPeriod(ChainParameters parameters, RecordCategory category, Severity severity, uint months)
    {
        var (min, max) = category switch
        {
            RecordCategory.AdministrativePenalty => (Rule(parameters, severity).MinMonths, Rule(parameters, severity).MaxMonths),
            RecordCategory.CourtDefaulter => (24, 60),
            _ => (1, 36),
        };
        return months >= min && months <= max
            ? Verdict.Ok
            : Verdict.Reject(RejectionCode.PublicationPeriodOutOfRange, $"a {severity} {category} is published {min} to {max} months, not {months}");
    }

    private static PublicationRule Rule(ChainParameters parameters, Severity severity) => severity switch
    {
        Severity.Minor => parameters.Minor,
        Severity.Moderate => parameters.Moderate,
        _ => parameters.Serious,
    };
}
