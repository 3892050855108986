using System.Text.Json;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Jobs.State;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Jobs.Lifecycle;

/// <summary>
/// How far the lifecycle job has read the chain (<see cref="Height"/>: every block up to it has been scanned for the
/// subjects its transactions touched) and the subjects that still have a record with something to come due.
/// </summary>
public sealed record LifecycleCheckpoint(long Height, List<string> Watched)
{
    public static LifecycleCheckpoint Start => new(0, []);

    public string ToJson() => JsonSerializer.Serialize(this, JobJson.Options);

    public static LifecycleCheckpoint? FromJson(string? json) => json is null ? null : JsonSerializer.Deserialize<LifecycleCheckpoint>(json, JobJson.Options);
}

/// <summary>What one lifecycle run read and wrote.</summary>
/// <param name="Checkpoint">Where the next run continues.</param>
/// <param name="Height">The head whose certified state the notifications were derived from (-1: empty chain).</param>
/// <param name="BlocksScanned">Blocks read for new subjects.</param>
/// <param name="SubjectsChecked">Subjects whose records were evaluated.</param>
/// <param name="Written">Notifications written by this run (those already written before are not repeated).</param>
public sealed record LifecycleRun(LifecycleCheckpoint Checkpoint, long Height, long BlocksScanned, int SubjectsChecked, IReadOnlyList<LifecycleNotification> Written);

/// <summary>
/// The credit lifecycle scan: reads the blocks committed since the checkpoint for the subjects their transactions
/// touched (the catalogue's <see cref="TransactionRules.Touched"/>), then, for those and the subjects still watched,
/// reads each subject's index in the certified state at the head and writes the notifications that have come due at
/// the node's clock (<see cref="CreditLifecycle.Due"/>), each once. It never writes the ledger.
/// </summary>
public static class CreditLifecycleScanner
{
    public static async Task<LifecycleRun> RunAsync(ILedgerStore store, IJobStateStore state, LifecycleCheckpoint from, DateTimeOffset now, TimeSpan notice, long maxBlocks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(from);
        if (await StoreStateTree.HeadAsync(store, cancellationToken).ConfigureAwait(false) is not { } head)
        {
            return new LifecycleRun(from, -1, 0, 0, []);
        }

        var reader = StoreStateTree.At(store, head);
        var subjects = new SortedSet<string>(from.Watched, StringComparer.Ordinal);
        var scannedTo = Math.Min(head.Height, from.Height + maxBlocks);
        for (var height = from.Height + 1; height <= scannedTo; height++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            StoredBlock? block;
            try
            {
                block = await store.GetBlockAsync(height, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreCorruptedException)
            {
                block = null; // the chain audit reports an unreadable block; its records are found when touched again
            }

            foreach (var tx in block?.Transactions ?? [])
            {
                if (TransactionCodec.Decode(tx.Bytes).Transaction is not { } decoded)
                {
                    continue;
                }

                foreach (var touched in TransactionRules.Touched(decoded.Body, reader))
                {
                    if (touched.Object == StateObject.Record && reader.Read(StateKeys.Record(touched.Id), CreditRecordState.Read) is { } record)
                    {
                        subjects.Add(record.Subject);
                    }
                }
            }
        }

        var at = LedgerTime.ToUnixSeconds(now);
        var noticeSeconds = (ulong)notice.TotalSeconds;
        var written = new List<LifecycleNotification>();
        var watched = new List<string>();
        foreach (var subject in subjects)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (reader.Read(StateKeys.SubjectIndex(subject), SubjectIndexState.Read) is not { } index)
            {
                continue;
            }

            var settled = true;
            foreach (var record in index.Records)
            {
                var objection = record.OpenObjection.IsZero ? null : reader.Read(StateKeys.Objection(record.OpenObjection), ObjectionState.Read);
                foreach (var due in CreditLifecycle.Due(record, objection, at, noticeSeconds))
                {
                    var notification = new LifecycleNotification(0, due.Kind, subject, record.RecordId.ToString(), due.ObjectionId.IsZero ? string.Empty : due.ObjectionId.ToString(),
                        record.Designator.ToString(), DateTimeOffset.FromUnixTimeSeconds((long)due.DueAt), head.Height, now);
                    if (await state.AppendNotificationAsync(notification, cancellationToken).ConfigureAwait(false) is { } stored)
                    {
                        written.Add(stored);
                    }
                }

                settled &= CreditLifecycle.IsSettled(record, objection, at);
            }

            if (!settled)
            {
                watched.Add(subject);
            }
        }

        return new LifecycleRun(new LifecycleCheckpoint(Math.Max(from.Height, scannedTo), watched), head.Height, Math.Max(0, scannedTo - from.Height), subjects.Count, written);
    }
}
