using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Jobs.State;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Jobs.Reconciliation;

/// <summary>
/// This node's query projections against its own certified state tree at the head. Every stored block's transactions
/// name the objects they touched (the catalogue's <see cref="TransactionRules.Touched"/>, the same the projector
/// uses); for each object, the projection row must exist, carry the values the state tree holds for it, and name the
/// last block and transaction that touched it. The state is read through the store's state-tree nodes, each re-hashed
/// against the hash it was asked for, so a row cannot agree with a state table edited the same way.
/// </summary>
public static class ProjectionReconciler
{
    public sealed record Result(long ObjectsChecked, IReadOnlyList<Divergence> Divergences);

    public static async Task<Result> RunAsync(ILedgerStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (await StoreStateTree.HeadAsync(store, cancellationToken).ConfigureAwait(false) is not { } head)
        {
            return new Result(0, []);
        }

        var state = StoreStateTree.At(store, head);
        var last = new Dictionary<TouchedObject, (long Height, Hash256 Tx, long BlockTime)>();
        for (var height = 1L; height <= head.Height; height++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            StoredBlock? block;
            try
            {
                block = await store.GetBlockAsync(height, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreCorruptedException)
            {
                continue; // the chain audit reports an unreadable block
            }

            if (block is null)
            {
                continue;
            }

            var blockTime = (long)LedgerTime.ToUnixSeconds(DateTimeOffset.FromUnixTimeMilliseconds(block.Header.Timestamp));
            foreach (var tx in block.Transactions)
            {
                if (TransactionCodec.Decode(tx.Bytes).Transaction is not { } decoded)
                {
                    continue;
                }

                foreach (var touched in TransactionRules.Touched(decoded.Body, state))
                {
                    last[touched] = (height, tx.TxHash, blockTime);
                }
            }
        }

        var divergences = new List<Divergence>();
        foreach (var (touched, at) in last)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await CheckAsync(store, state, touched, at.Height, at.Tx, (ulong)at.BlockTime, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                divergences.Add(new Divergence(JobReportKinds.ProjectionDivergence, at.Height, string.Empty, problem.Subject, problem.Detail));
            }
        }

        return new Result(last.Count, divergences);
    }

    private static async Task<(string Subject, string Detail)?> CheckAsync(ILedgerStore store, IStateReader state, TouchedObject touched, long height, Hash256 tx, ulong blockTime, CancellationToken cancellationToken)
    {
        switch (touched.Object)
        {
            case StateObject.Record when state.Read(StateKeys.Record(touched.Id), CreditRecordState.Read) is { } r:
                {
                    var subject = $"credit record {touched.Id}";
                    var row = (await store.GetCreditRecordsBySubjectAsync(r.Subject, cancellationToken).ConfigureAwait(false)).FirstOrDefault(x => x.RecordId == touched.Id.ToString());
                    var expected = new CreditRecordRow(touched.Id.ToString(), r.Subject, tx, height, (short)r.Category, (short)r.PublicationStatusAt(blockTime), (short)r.Severity, r.Designator, (long)r.DecidedAt, (long)r.PublicationEndsAt);
                    return Compare(subject, row, expected);
                }

            case StateObject.Licence when state.Read(StateKeys.Licence(touched.Identifier), LicenceState.Read) is { } l:
                {
                    var subject = $"licence {touched.Identifier}";
                    var row = await store.GetLicenceAsync(touched.Identifier, cancellationToken).ConfigureAwait(false);
                    var version = LicenceIdentifier.Parse(touched.Identifier).Value.Version;
                    var expected = new LicenceRow(touched.Identifier, version, l.Holder, (short)l.Status, l.Issuer, tx, row?.PreviousTxHash ?? Hash256.Zero, height, (long)l.ValidTo);
                    return Compare(subject, row, expected);
                }

            case StateObject.ListEntry when state.Read(StateKeys.ListEntry(touched.Id), ListEntryState.Read) is { } e:
                {
                    var subject = $"list entry {touched.Id}";
                    var row = (await store.GetListEntriesBySubjectAsync(e.Subject, cancellationToken).ConfigureAwait(false)).FirstOrDefault(x => x.EntryId == touched.Id.ToString());
                    var expected = new ListEntryRow(touched.Id.ToString(), e.Subject, (short)e.Colour, e.RemovedAt == 0 ? (short)1 : (short)2, e.Initiator, tx, height, (long)e.EffectiveFrom, (long)e.ExpiresAt);
                    return Compare(subject, row, expected);
                }

            case StateObject.Memorandum when state.Get(StateKeys.Memorandum(touched.Id)) is { } bytes:
                {
                    var subject = $"memorandum {touched.Id}";
                    var m = StateValue.Decode(bytes, MemorandumState.Read);
                    var row = await store.GetMemorandumAsync(touched.Id.ToString(), cancellationToken).ConfigureAwait(false);
                    if (row is null)
                    {
                        return (subject, "the projection has no row for it");
                    }

                    return row.Title != m.Title || row.Publisher != m.Publisher || !row.Rules.Span.SequenceEqual(bytes)
                        ? (subject, $"the projection row says title '{row.Title}', publisher {row.Publisher}; the state tree '{m.Title}', {m.Publisher}, or the rules differ")
                        : null;
                }

            default:
                return null; // feedback rows carry a derived measure code; objections and proposals are not projected
        }
    }

    private static (string Subject, string Detail)? Compare<T>(string subject, T? row, T expected)
        where T : class
        => row is null
            ? (subject, "the projection has no row for it")
            : row.Equals(expected) ? null : (subject, $"the projection row is {row}, the certified state gives {expected}");
}
