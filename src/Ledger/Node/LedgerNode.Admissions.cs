using System.Collections.Concurrent;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node;

/// <summary>
/// Admission, coalesced: submitters decode and verify on their own threads, then queue their verified transactions
/// here; the first one to find the queue without a pass scheduled puts one <see cref="DrainAdmissions"/> command on the
/// writer's inbox, and that pass admits everything queued by the time it runs, in queue order. Under load one writer
/// command serves hundreds of submissions; each submitter still gets its own answers.
/// </summary>
public sealed partial class LedgerNode
{
    private readonly ConcurrentQueue<PendingAdmission> _admissions = new();
    private readonly DrainCommand _drain;
    private int _drainScheduled;

    /// <summary>Queues verified transactions for the writer's next admission pass; completes with one answer per transaction.</summary>
    private Task<(SubmitResult Result, Task<TransactionOutcome>? Outcome)[]> AdmitOnWriterAsync(PendingAdmission pending, CancellationToken cancellationToken)
    {
        _admissions.Enqueue(pending);
        return Interlocked.Exchange(ref _drainScheduled, 1) == 0 && !_inbox.Writer.TryWrite(_drain)
            ? ScheduleThenWaitAsync(pending, cancellationToken)
            : pending.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// The inbox is full (or closed): the pass serves every submitter queued behind this one, so its scheduling does not
    /// follow this caller's cancellation; this caller only stops waiting.
    /// </summary>
    private async Task<(SubmitResult Result, Task<TransactionOutcome>? Outcome)[]> ScheduleThenWaitAsync(PendingAdmission pending, CancellationToken cancellationToken)
    {
        await ScheduleDrainAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        return await pending.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task ScheduleDrainAsync()
    {
        try
        {
            await _inbox.Writer.WriteAsync(_drain, CancellationToken.None).ConfigureAwait(false);
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            FailQueuedAdmissions(StoppedMessage());
        }
    }

    /// <summary>The writer's admission pass: everything queued so far, in order, one answer per submitter.</summary>
    private void DrainAdmissions()
    {
        // Cleared before the queue is read: a submitter that queues after this point schedules the next pass itself.
        Interlocked.Exchange(ref _drainScheduled, 0);
        var started = NodeTimers.Start();
        var count = 0;
        while (_admissions.TryDequeue(out var pending))
        {
            if (_stopping)
            {
                pending.TrySetException(new NodeStoppedException(StoppedMessage()));
                continue;
            }

            count += pending.Transactions.Count;
            try
            {
                pending.TrySetResult(AdmitEach(pending.Transactions, pending.WaitForCommit));
            }
            catch (Exception e)
            {
                pending.TrySetException(e); // StoreUnavailableException while reading an account: the caller answers Unavailable
            }
        }

        UpdateCounts();
        Timers.Add(NodeStage.Admit, started, count);
    }

    /// <summary>Refuses everything queued (the node stopped, or the pass could not be scheduled).</summary>
    private void FailQueuedAdmissions(string reason)
    {
        Interlocked.Exchange(ref _drainScheduled, 0);
        while (_admissions.TryDequeue(out var pending))
        {
            pending.TrySetException(new NodeStoppedException(reason));
        }
    }

    private (SubmitResult Result, Task<TransactionOutcome>? Outcome)[] AdmitEach(IReadOnlyList<VerifiedTransaction> transactions, bool waitForCommit)
    {
        var results = new (SubmitResult, Task<TransactionOutcome>?)[transactions.Count];
        for (var i = 0; i < transactions.Count; i++)
        {
            var tx = transactions[i];
            var (code, reason) = _mempool.Admit(tx, Account);
            results[i] = code == AdmissionCode.Accepted
                ? (SubmitResult.Accepted(tx.Hash), waitForCommit ? Waiter(tx.Hash) : null)
                : (SubmitResult.Rejected(tx.Hash, code, reason), null);
        }

        return results;
    }

    /// <summary>One submitter's verified transactions, waiting for the writer; completed by the admission pass.</summary>
    private sealed class PendingAdmission(IReadOnlyList<VerifiedTransaction> transactions, bool waitForCommit)
        : TaskCompletionSource<(SubmitResult Result, Task<TransactionOutcome>? Outcome)[]>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public IReadOnlyList<VerifiedTransaction> Transactions { get; } = transactions;

        public bool WaitForCommit { get; } = waitForCommit;
    }

    /// <summary>The writer command that runs an admission pass; one instance, at most one queued at a time.</summary>
    private sealed class DrainCommand(LedgerNode node) : WriterCommand
    {
        public override ValueTask RunAsync()
        {
            node.DrainAdmissions();
            return ValueTask.CompletedTask;
        }

        public override void Abandon(string reason) => node.FailQueuedAdmissions(reason);
    }
}
