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
    /// <summary>
    /// Brings the indexes up to date with what an accepted transaction wrote: every record, list entry and memorandum
    /// the catalogue says it touched (<see cref="TransactionRules.Touched"/>), read as it now is.
    /// </summary>
    private void IndexForScoring(StateOverlay state, ITransactionBody body)
    {
        foreach (var touched in TransactionRules.Touched(body, state))
        {
            switch (touched.Object)
            {
                case StateObject.Record: IndexRecord(state, touched.Id); break;
                case StateObject.ListEntry: IndexListEntry(state, touched.Id); break;
                case StateObject.Memorandum when body is MemorandumPublish: IndexMemorandum(state, touched.Id); break;
            }
        }
    }

    private void IndexRecord(StateOverlay state, Hash256 recordId)
    {
        if (state.Read(StateKeys.Record(recordId), CreditRecordState.Read) is not { } record)
        {
            return;
        }

        var objection = record.OpenObjection.IsZero ? null : state.Read(StateKeys.Objection(record.OpenObjection), ObjectionState.Read);
        var summary = new RecordSummary(
            recordId,
            state.KeyHash(StateKeys.Record(recordId)),
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
        var index = state.Read(key, SubjectIndexState.Read) ?? SubjectIndexState.Empty;
        Put(state, key, index.With(summary, record.LegalBasis));
    }

    private static void IndexListEntry(StateOverlay state, Hash256 entryId)
    {
        if (state.Read(StateKeys.ListEntry(entryId), ListEntryState.Read) is not { } entry)
        {
            return;
        }

        var summary = new ListEntrySummary(
            entryId,
            state.KeyHash(StateKeys.ListEntry(entryId)),
            entry.Colour,
            entry.EffectiveFrom,
            entry.ExpiresAt,
            entry.RemovedAt,
            state.KeyHash(StateKeys.MemorandaOfList(entry.Colour, entry.ListType, state.Suite)),
            entry.Initiator,
            ListTypeText: 0,
            LegalBasisText: 0,
            RegionText: 0);
        var key = StateKeys.SubjectIndex(entry.Subject);
        var index = state.Read(key, SubjectIndexState.Read) ?? SubjectIndexState.Empty;
        Put(state, key, index.With(summary, entry.ListType, entry.LegalBasis, entry.Region));
    }

    private static void IndexMemorandum(StateOverlay state, Hash256 memorandumId)
    {
        if (state.Read(StateKeys.Memorandum(memorandumId), MemorandumState.Read) is not { } memorandum)
        {
            return;
        }

        var key = StateKeys.MemorandaOfList(memorandum.Colour, memorandum.ListType, state.Suite);
        var list = state.Read(key, MemorandumListState.Read);
        if (list?.Ids.Contains(memorandumId) != true)
        {
            Put(state, key, new MemorandumListState([.. list?.Ids ?? [], memorandumId], [.. list?.Keys ?? [], state.KeyHash(StateKeys.Memorandum(memorandumId))]));
        }
    }
}
