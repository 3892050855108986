using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>
/// Derives the query rows of a committed block (records by subject, licences, list entries, memoranda, feedback) from
/// its transactions and the state after it: the catalogue (<see cref="TransactionRules.Touched"/>) names what each
/// transaction touched, and the row is that object's current value, so a later write in the same block wins. Pure:
/// the same block gives the same rows on every node.
/// </summary>
public static class LedgerProjector
{
    public static ProjectionRows Project(BlockCandidate block, IStateReader after)
    {
        ArgumentNullException.ThrowIfNull(block);
        var height = block.Header.Height;
        var records = new Dictionary<Hash256, CreditRecordRow>();
        var licences = new Dictionary<string, LicenceRow>(StringComparer.Ordinal);
        var entries = new Dictionary<Hash256, ListEntryRow>();
        var memoranda = new List<MemorandumRow>();
        var feedback = new List<MeasureApplicationRow>();

        foreach (var included in block.Body.Included)
        {
            // A block built by the node runtime carries each transaction decoded once; a block re-read from bytes decodes here.
            if ((included.Decoded ?? TransactionCodec.Decode(included.Bytes).Transaction) is not { } tx)
            {
                continue; // cannot happen for an accepted transaction; nothing to project
            }

            var hash = included.Hash;
            foreach (var touched in TransactionRules.Touched(tx.Body, after))
            {
                switch (touched.Object)
                {
                    case StateObject.Record: Record(touched.Id); break;
                    case StateObject.Licence: Licence(touched.Identifier); break;
                    case StateObject.ListEntry: Entry(touched.Id); break;
                    case StateObject.Memorandum: Memorandum(touched.Id); break;
                    case StateObject.Feedback: Feedback(touched.Id); break;
                }
            }

            void Record(Hash256 id)
            {
                if (after.Read(StateKeys.Record(id), CreditRecordState.Read) is { } r)
                {
                    records[id] = new CreditRecordRow(id.ToString(), r.Subject, hash, height, (short)r.Category, (short)r.PublicationStatusAt(LedgerTime.ToUnixSeconds(block.Header.Timestamp)), (short)r.Severity, r.Designator, (long)r.DecidedAt, (long)r.PublicationEndsAt);
                }
            }

            void Licence(string identifier)
            {
                if (after.Read(StateKeys.Licence(identifier), LicenceState.Read) is { } l)
                {
                    var version = LicenceIdentifier.Parse(identifier).Value.Version;
                    licences[identifier] = new LicenceRow(identifier, version, l.Holder, (short)l.Status, l.Issuer, hash, Hash256.Zero, height, (long)l.ValidTo);
                }
            }

            void Memorandum(Hash256 id)
            {
                if (after.Get(StateKeys.Memorandum(id)) is { } bytes)
                {
                    var m = StateValue.Decode(bytes, MemorandumState.Read);
                    memoranda.Add(new MemorandumRow(id.ToString(), m.Title, m.Publisher, hash, height, bytes));
                }
            }

            void Feedback(Hash256 id)
            {
                if (after.Read(StateKeys.Feedback(id), FeedbackState.Read) is { } f)
                {
                    var listed = after.Read(StateKeys.ListEntry(f.EntryId), ListEntryState.Read);
                    feedback.Add(new MeasureApplicationRow(id.ToString(), f.MemorandumId.ToString(), f.EntryId.ToString(), listed?.Subject ?? "", MeasureCode(f.Measure, after.Suite), (short)f.Outcome, f.Implementer, hash, height));
                }
            }

            void Entry(Hash256 id)
            {
                if (after.Read(StateKeys.ListEntry(id), ListEntryState.Read) is { } e)
                {
                    var active = e.RemovedAt == 0 ? (short)1 : (short)2; // 1 listed, 2 removed
                    entries[id] = new ListEntryRow(id.ToString(), e.Subject, (short)e.Colour, active, e.Initiator, hash, height, (long)e.EffectiveFrom, (long)e.ExpiresAt);
                }
            }
        }

        return new ProjectionRows([.. records.Values], [.. licences.Values], [.. entries.Values], memoranda, feedback);
    }

    /// <summary>Measures are free text in memoranda; the store indexes a stable 16-bit code derived from the name (by the chain suite's hash).</summary>
    private static short MeasureCode(string measure, CryptoSuite suite)
    {
        var hash = suite.Hash(System.Text.Encoding.UTF8.GetBytes(measure));
        return (short)((hash.Bytes[0] << 8) | hash.Bytes[1]);
    }
}
