using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;

namespace SmartCity.Ledger.State;

public sealed partial class CreditStateMachine
{
    private static readonly string[] TaxGrades = ["A", "B", "M", "C", "D"];

    private Verdict Submit(Context context, CreditRecordSubmit tx)
    {
        var key = StateKeys.Record(tx.RecordId);
        var verdict = First(
            Fresh(context, key, "record"),
            SubjectField(tx.Subject, out _),
            Text(tx.LegalBasis, "legalBasis"),
            InSignersRegion(context, tx.DivisionCode, out var region),
            CategoryFields(tx.Category, tx.Severity, tx.Grade),
            tx.DecidedAt <= context.Now ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, "decidedAt is after the block time"));
        if (!verdict.IsOk)
        {
            return verdict;
        }

        verdict = PublicationPeriod(tx.Category, tx.Severity, tx.PublicationMonths);
        if (!verdict.IsOk)
        {
            return verdict;
        }

        var record = new CreditRecordState(
            tx.Subject, tx.Category, tx.Severity, tx.DivisionCode, region, context.Signer, tx.DecidedAt, tx.PublicationMonths,
            tx.LegalBasis, tx.Grade, tx.PayloadDigest, Version: 1, RecordStatus.Active, context.Now, default);
        Put(context.State, key, record);
        Put(context.State, StateKeys.RecordVersion(tx.RecordId, 1), record);
        return Verdict.Ok;
    }

    private Verdict Amend(Context context, CreditRecordAmend tx)
    {
        var verdict = DesignatorsActiveRecord(context, tx.RecordId, out var record);
        if (!verdict.IsOk)
        {
            return verdict;
        }

        verdict = First(
            Text(tx.LegalBasis, "legalBasis"),
            Text(tx.Reason, "reason"),
            CategoryFields(record.Category, tx.Severity, record.Grade));
        if (!verdict.IsOk)
        {
            return verdict;
        }

        verdict = PublicationPeriod(record.Category, tx.Severity, tx.PublicationMonths);
        if (!verdict.IsOk)
        {
            return verdict;
        }

        var amended = record with
        {
            Severity = tx.Severity,
            PublicationMonths = tx.PublicationMonths,
            LegalBasis = tx.LegalBasis,
            PayloadDigest = tx.PayloadDigest,
            Version = record.Version + 1,
            StatusChangedAt = context.Now,
        };
        Put(context.State, StateKeys.Record(tx.RecordId), amended);
        Put(context.State, StateKeys.RecordVersion(tx.RecordId, amended.Version), amended);
        return Verdict.Ok;
    }

    /// <summary>谁认定谁修复: only the designator repairs, and only a penalty once its minimum period has passed.</summary>
    private Verdict Repair(Context context, CreditRecordRepair tx)
    {
        var verdict = DesignatorsActiveRecord(context, tx.RecordId, out var record);
        if (!verdict.IsOk || !(verdict = Text(tx.Reason, "reason")).IsOk)
        {
            return verdict;
        }

        if (record.Category != RecordCategory.AdministrativePenalty)
        {
            return Verdict.Reject(RejectionCode.NotRepairable, $"a {record.Category} record is not repaired (only administrative penalties are)");
        }

        var eligibleAt = LedgerTime.AddMonths(record.DecidedAt, Rule(record.Severity).RepairAfterMonths);
        if (context.Now < eligibleAt)
        {
            return Verdict.Reject(RejectionCode.RepairTooEarly, $"a {record.Severity} penalty may be repaired from {DateTimeOffset.FromUnixTimeSeconds((long)eligibleAt):yyyy-MM-dd}");
        }

        return NewVersion(context, tx.RecordId, record with { Status = RecordStatus.Repaired });
    }

    private Verdict Annul(Context context, CreditRecordAnnul tx)
    {
        var verdict = DesignatorsActiveRecord(context, tx.RecordId, out var record);
        if (!verdict.IsOk || !(verdict = Text(tx.Reason, "reason")).IsOk)
        {
            return verdict;
        }

        return NewVersion(context, tx.RecordId, record with { Status = RecordStatus.Annulled });
    }

    private Verdict FileObjection(Context context, ObjectionFile tx)
    {
        var key = StateKeys.Objection(tx.ObjectionId);
        var verdict = Fresh(context, key, "objection");
        if (!verdict.IsOk)
        {
            return verdict;
        }

        var record = context.State.Read(StateKeys.Record(tx.RecordId), CreditRecordState.Read);
        if (record is null)
        {
            return Verdict.Reject(RejectionCode.UnknownRecord, $"no record {tx.RecordId}");
        }

        if (record.Status != RecordStatus.Active)
        {
            return Verdict.Reject(RejectionCode.RecordNotActive, $"record {tx.RecordId} is {record.Status}");
        }

        if (!record.OpenObjection.IsZero)
        {
            return Verdict.Reject(RejectionCode.ObjectionAlreadyOpen, $"objection {record.OpenObjection} on this record is still open");
        }

        var deadline = LedgerTime.AddDays(context.Now, Parameters.ObjectionDeadlineDays);
        Put(context.State, key, new ObjectionState(tx.RecordId, context.Signer, context.Now, deadline, tx.GroundsDigest, 0, 0, default));
        Put(context.State, StateKeys.Record(tx.RecordId), record with { OpenObjection = tx.ObjectionId });
        return Verdict.Ok;
    }

    private static Verdict ResolveObjection(Context context, ObjectionResolve tx)
    {
        var key = StateKeys.Objection(tx.ObjectionId);
        var objection = context.State.Read(key, ObjectionState.Read);
        if (objection is null)
        {
            return Verdict.Reject(RejectionCode.UnknownObjection, $"no objection {tx.ObjectionId}");
        }

        if (!objection.IsOpen)
        {
            return Verdict.Reject(RejectionCode.ObjectionAlreadyResolved, $"objection {tx.ObjectionId} was answered {objection.Outcome}");
        }

        if (!Enum.IsDefined(tx.Outcome))
        {
            return Verdict.Reject(RejectionCode.InvalidField, $"outcome {(byte)tx.Outcome} is not corrected (1), upheld (2) or noted (3)");
        }

        var recordKey = StateKeys.Record(objection.RecordId);
        var record = context.State.Read(recordKey, CreditRecordState.Read)!;
        if (record.Designator != context.Signer)
        {
            return Verdict.Reject(RejectionCode.NotTheDesignator, $"only the designator {record.Designator} answers objections to its record");
        }

        Put(context.State, key, objection with { Outcome = tx.Outcome, ResolvedAt = context.Now, AnswerDigest = tx.AnswerDigest });
        Put(context.State, recordKey, record with { OpenObjection = default });
        return Verdict.Ok;
    }

    private static Verdict DesignatorsActiveRecord(Context context, Crypto.Hash256 recordId, out CreditRecordState record)
    {
        record = context.State.Read(StateKeys.Record(recordId), CreditRecordState.Read)!;
        if (record is null)
        {
            return Verdict.Reject(RejectionCode.UnknownRecord, $"no record {recordId}");
        }

        if (record.Designator != context.Signer)
        {
            return Verdict.Reject(RejectionCode.NotTheDesignator, $"only the designator {record.Designator} may change record {recordId}");
        }

        return record.Status == RecordStatus.Active
            ? Verdict.Ok
            : Verdict.Reject(RejectionCode.RecordNotActive, $"record {recordId} is {record.Status}");
    }

    private static Verdict NewVersion(Context context, Crypto.Hash256 recordId, CreditRecordState record)
    {
        var next = record with { Version = record.Version + 1, StatusChangedAt = context.Now };
        Put(context.State, StateKeys.Record(recordId), next);
        Put(context.State, StateKeys.RecordVersion(recordId, next.Version), next);
        return Verdict.Ok;
    }

    private static Verdict CategoryFields(RecordCategory category, Severity severity, string grade)
    {
        if (!Enum.IsDefined(category))
        {
            return Verdict.Reject(RejectionCode.InvalidField, $"category {(byte)category} is unknown");
        }

        var penalty = category == RecordCategory.AdministrativePenalty;
        if (penalty != severity is Severity.Minor or Severity.Moderate or Severity.Serious)
        {
            return Verdict.Reject(RejectionCode.InvalidField, penalty ? "a penalty has a severity minor (1), moderate (2) or serious (3)" : $"a {category} record has severity none (0)");
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
    private Verdict PublicationPeriod(RecordCategory category, Severity severity, uint months)
    {
        var (min, max) = category switch
        {
            RecordCategory.AdministrativePenalty => (Rule(severity).MinMonths, Rule(severity).MaxMonths),
            RecordCategory.CourtDefaulter => (24, 60),
            _ => (1, 36),
        };
        return months >= min && months <= max
            ? Verdict.Ok
            : Verdict.Reject(RejectionCode.PublicationPeriodOutOfRange, $"a {severity} {category} is published {min} to {max} months, not {months}");
    }

    private PublicationRule Rule(Severity severity) => severity switch
    {
        Severity.Minor => Parameters.Minor,
        Severity.Moderate => Parameters.Moderate,
        _ => Parameters.Serious,
    };
}
