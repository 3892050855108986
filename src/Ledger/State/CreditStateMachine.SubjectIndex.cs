using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.State;

/// <summary>
/// The indexes the trust score reads, kept in the certified state: <c>subject/{subject}</c> (a summary of each of the
/// subject's records and list entries, <see cref="SubjectIndexState"/>) and <c>memoranda/{colour}/{H(listType)}</c>
/// (the memoranda for a list). They are derived after a transaction's rule has run, from the objects it touched as
/// they are now, so a rule never has to know about them and a score never depends on a projection outside the
/// state root.
/// </summary>
public sealed partial class CreditStateMachine
{
    /// <summary>Brings the indexes up to date with what an accepted transaction wrote.</summary>
    private void IndexForScoring(RuleContext context, ITransactionBody body)
    {
        switch (body)
        {
            case CreditRecordSubmit b: IndexRecord(context, b.RecordId); break;
            case CreditRecordAmend b: IndexRecord(context, b.RecordId); break;
            case CreditRecordRepair b: IndexRecord(context, b.RecordId); break;
            case CreditRecordAnnul b: IndexRecord(context, b.RecordId); break;
            case ObjectionFile b: IndexRecord(context, b.RecordId); break;
            case ObjectionResolve b when context.State.Read(StateKeys.Objection(b.ObjectionId), ObjectionState.Read) is { } objection:
                IndexRecord(context, objection.RecordId);
                break;
            case ListEntryAdd b: IndexListEntry(context, b.EntryId); break;
            case ListEntryRemove b: IndexListEntry(context, b.EntryId); break;
            case MemorandumPublish b: IndexMemorandum(context, b); break;
        }
    }

    private void IndexRecord(RuleContext context, Hash256 recordId)
    {
        if (context.State.Read(StateKeys.Record(recordId), CreditRecordState.Read) is not { } record)
        {
            return;
        }

        var objection = record.OpenObjection.IsZero ? null : context.State.Read(StateKeys.Objection(record.OpenObjection), ObjectionState.Read);
        var summary = new RecordSummary(
            recordId,
            StateKeys.Record(recordId).Hash,
            record.Category,
            record.Severity,
            record.Grade.Length == 1 ? (byte)record.Grade[0] : (byte)0,
            record.Status,
            record.DecidedAt,
            record.PublicationMonths,
            record.Category == RecordCategory.AdministrativePenalty ? LedgerTime.AddMonths(record.DecidedAt, Rule(Parameters, record.Severity).RepairAfterMonths) : 0,
            record.Designator,
            LegalBasisText: 0,
            record.OpenObjection,
            objection?.FiledAt ?? 0,
            objection?.DeadlineAt ?? 0);
        var key = StateKeys.SubjectIndex(record.Subject);
        var index = context.State.Read(key, SubjectIndexState.Read) ?? SubjectIndexState.Empty;
        Put(context.State, key, index.With(summary, record.LegalBasis));
    }

    private static void IndexListEntry(RuleContext context, Hash256 entryId)
    {
        if (context.State.Read(StateKeys.ListEntry(entryId), ListEntryState.Read) is not { } entry)
        {
            return;
        }

        var summary = new ListEntrySummary(
            entryId,
            StateKeys.ListEntry(entryId).Hash,
            entry.Colour,
            entry.EffectiveFrom,
            entry.ExpiresAt,
            entry.RemovedAt,
            StateKeys.MemorandaOfList(entry.Colour, entry.ListType).Hash,
            entry.Initiator,
            ListTypeText: 0,
            LegalBasisText: 0,
            RegionText: 0);
        var key = StateKeys.SubjectIndex(entry.Subject);
        var index = context.State.Read(key, SubjectIndexState.Read) ?? SubjectIndexState.Empty;
        Put(context.State, key, index.With(summary, entry.ListType, entry.LegalBasis, entry.Region));
    }

    private static void IndexMemorandum(RuleContext context, MemorandumPublish tx)
    {
        var key = StateKeys.MemorandaOfList(tx.Colour, tx.ListType);
        var list = context.State.Read(key, MemorandumListState.Read);
        Put(context.State, key, new MemorandumListState([.. list?.Ids ?? [], tx.MemorandumId]));
    }
}
