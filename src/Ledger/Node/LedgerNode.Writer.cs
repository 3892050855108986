using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>The writer: the one task that changes the chain, the mempool and the store, one command at a time.</summary>
public sealed partial class LedgerNode
{
    // The next block, built on the one being made durable (writer-owned; see BuildAhead).
    private BlockCandidate? _builtAhead;
    private long _blocksBuiltAhead;

    /// <summary>How many proposals were blocks built ahead, while their parent was being made durable (tests, load tool).</summary>
    internal long BlocksBuiltAhead => Interlocked.Read(ref _blocksBuiltAhead);

    /// <summary>State-tree nodes this node read back from its store after its node cache missed them (load tool).</summary>
    internal long StateNodesReadFromStore => _chain.StateNodesReadFromStore;

    private async Task RunWriterAsync()
    {
        var reader = _inbox.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var command))
            {
                if (_stopping)
                {
                    command.Abandon(StoppedMessage());
                    continue;
                }

                await command.RunAsync().ConfigureAwait(false);
            }

            if (!_stopping)
            {
                Resolve(_mempool.ExpireHeld());
                UpdateCounts();
            }
        }

        // Stopped: submissions still queued are refused; whoever waits for a transaction learns the node stopped
        // before it was decided.
        FailQueuedAdmissions(StoppedMessage());
        foreach (var (id, waiter) in _waiters)
        {
            waiter.TrySetResult(new TransactionOutcome(id, TransactionState.Unknown, -1, -1, RejectionCode.None, StoppedMessage()));
        }

        _waiters.Clear();
    }

    private string StoppedMessage() => _head.Fault is { } fault ? $"the node stopped after a fault: {fault}" : "the node stopped";

    /// <summary>
    /// Runs <paramref name="work"/> on the writer, after every command queued before it. The caller resumes on the
    /// thread pool, unless <paramref name="resumeOnWriter"/>: then it resumes on the writer, as soon as the work is done
    /// and before the writer takes its next command (the consensus host does so for an engine that only seals).
    /// </summary>
    private async Task<T> OnWriterAsync<T>(Func<ValueTask<T>> work, CancellationToken cancellationToken, bool resumeOnWriter = false)
    {
        var command = new WriterCommand<T>(work, resumeOnWriter);
        try
        {
            if (!_inbox.Writer.TryWrite(command))
            {
                await _inbox.Writer.WriteAsync(command, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            throw new NodeStoppedException(StoppedMessage());
        }

        return await command.Result.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private (bool IsMember, ulong Nonce) Account(Address signer)
    {
        var state = _chain.CachedState;
        return (state.Get(StateKeys.Member(signer)) is not null, state.Read(StateKeys.Nonce(signer), CounterState.Read)?.Value ?? 0);
    }

    private ulong NonceAtHead(Address signer) => _chain.CachedState.Read(StateKeys.Nonce(signer), CounterState.Read)?.Value ?? 0;

    private Task<TransactionOutcome> Waiter(Hash256 id)
    {
        if (!_waiters.TryGetValue(id, out var waiter))
        {
            waiter = new TaskCompletionSource<TransactionOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add(id, waiter);
        }

        return waiter.Task;
    }

    private void Resolve(TransactionOutcome outcome)
    {
        _outcomes.Add(outcome.Id, new RecordedOutcome(outcome.State, outcome.Height, outcome.IndexInBlock, outcome.Rule, outcome.Reason));
        if (_waiters.Remove(outcome.Id, out var waiter))
        {
            waiter.TrySetResult(outcome);
        }
    }

    /// <summary>A committed transaction: recorded without an outcome object unless someone waits for it.</summary>
    private void ResolveCommitted(Hash256 id, long height, int index)
    {
        _outcomes.Add(id, new RecordedOutcome(TransactionState.Committed, height, index, RejectionCode.None, string.Empty));
        if (_waiters.Remove(id, out var waiter))
        {
            waiter.TrySetResult(TransactionOutcome.Committed(id, height, index));
        }
    }

    private void Resolve(List<TransactionOutcome> outcomes)
    {
        foreach (var outcome in outcomes)
        {
            if (outcome.State == TransactionState.Rejected)
            {
                LogDropped(_logger, outcome.Id, outcome.Rule, outcome.Reason);
            }

            Resolve(outcome);
        }
    }

    /// <summary>Publishes the mempool's counts and wakes the engine when work appears.</summary>
    private void UpdateCounts()
    {
        var wasReady = _readyCount;
        _mempoolCount = _mempool.Count;
        _readyCount = _mempool.ReadyCount;
        if (wasReady == 0 && _readyCount > 0)
        {
            Interlocked.Exchange(ref _work, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    /// <summary>The block time of the next block: this node's clock, but strictly after the parent.</summary>
    private DateTimeOffset NextBlockTime()
        => DateTimeOffset.FromUnixTimeMilliseconds(Math.Max(_time.GetUtcNow().ToUnixTimeMilliseconds(), _chain.Head.TimestampMs + 1));

    private BlockProposal? BuildProposal(long height, int round)
    {
        if (height != _chain.Head.Height + 1 || round < 0)
        {
            return null;
        }

        if (TakeBuiltAhead(height, round) is { } ahead)
        {
            _candidates[ahead.Header.Hash] = ahead;
            return new BlockProposal(ahead.Header, [.. ahead.Body.Included.Select(t => t.Bytes)]);
        }

        var parameters = Genesis.Parameters;
        var ready = _mempool.PeekReady(parameters.MaxBlockTransactions, parameters.MaxBlockBytes);
        if (ready.Count == 0)
        {
            return null;
        }

        var started = NodeTimers.Start();
        var candidate = _chain.Assembler.Assemble(_chain.HeadForBuilding, ready, NextBlockTime(), round);
        Timers.Add(NodeStage.Build, started, ready.Count);
        if (candidate.Body.Included.Count == 0)
        {
            // Every ready transaction broke a rule: they leave the mempool with their reasons; no empty block.
            Resolve(_mempool.Settle([], candidate.Body.Skipped, -1, NonceAtHead));
            UpdateCounts();
            return null;
        }

        _candidates[candidate.Header.Hash] = candidate;
        return new BlockProposal(candidate.Header, [.. candidate.Body.Included.Select(t => t.Bytes)]);
    }

    /// <summary>Re-executes a proposal whose transactions are decoded and verified; keeps the result to commit later.</summary>
    private ProposalValidation Execute(BlockProposal proposal, IReadOnlyList<VerifiedTransaction> transactions, bool checkClock)
    {
        var header = proposal.Header;
        var head = _chain.Head;
        var problem = header.ChainId != head.ChainId ? $"proposal for chain {header.ChainId}, this is chain {head.ChainId}"
            : header.Height != head.Height + 1 ? $"proposal for height {header.Height}, the head is {head.Height}"
            : header.PreviousHash != head.Hash ? $"proposal builds on {header.PreviousHash}, the head is {head.Hash}"
            : header.Round < 0 ? $"negative round {header.Round}"
            : header.Proposer != _chain.NextValidators.ProposerFor(header.Height, header.Round) ? $"{header.Proposer} is not the proposer of height {header.Height} round {header.Round}"
            : header.TimestampMs <= head.TimestampMs ? $"timestamp {header.TimestampMs} is not after the parent's {head.TimestampMs}"
            : checkClock && header.Timestamp > _time.GetUtcNow() + _options.MaxClockDrift ? $"timestamp {header.Timestamp:O} is more than {_options.MaxClockDrift} ahead of this node's clock"
            : null;
        if (problem is not null)
        {
            return ProposalValidation.Invalid(problem);
        }

        var started = NodeTimers.Start();
        var candidate = _chain.Assembler.Assemble(_chain.HeadForBuilding, transactions, header.Timestamp, header.Round);
        Timers.Add(NodeStage.Validate, started, transactions.Count);
        if (candidate.Body.Skipped.Count > 0)
        {
            var skip = candidate.Body.Skipped[0];
            return ProposalValidation.Invalid($"transaction {skip.Index} ({skip.Hash}) is rejected by the rules: {skip.Code}: {skip.Reason}", candidate.Header.Hash);
        }

        if (candidate.Header.Hash != header.Hash)
        {
            return ProposalValidation.Invalid($"re-execution gives header {candidate.Header.Hash}, the proposal says {header.Hash}", candidate.Header.Hash);
        }

        _candidates[candidate.Header.Hash] = candidate;
        return new ProposalValidation(true, candidate.Header.Hash, string.Empty);
    }

    /// <summary>Commits a decided block: null when this node has not executed it (the caller executes it first).</summary>
    private async ValueTask<CommitResult?> CommitDecidedAsync(BlockProposal block, CommitCertificate certificate)
    {
        var header = block.Header;
        if (header.Height <= _chain.Head.Height)
        {
            var existing = (await _chain.GetCertifiedHeaderAsync(header.Height, CancellationToken.None).ConfigureAwait(false))!.Value.Header.Hash;
            return existing == header.Hash
                ? new CommitResult(true, CertificateCheck.Valid, "already committed", _head)
                : new CommitResult(false, CertificateCheck.HeaderMismatch, $"height {header.Height} already holds block {existing}", _head);
        }

        if (!_candidates.TryGetValue(header.Hash, out var candidate))
        {
            return null;
        }

        var started = NodeTimers.Start();
        CertificateVerdict verdict;
        try
        {
            Action? whileAppending = null;
            if (_consensus is SoloSealingEngine)
            {
                whileAppending = () =>
                {
                    Timers.Add(NodeStage.Commit, started, 0); // the build ahead counts as a build, not as commit time
                    BuildAhead(candidate);
                    started = NodeTimers.Start();
                };
            }

            verdict = await _chain.CommitWhileAsync(candidate, certificate, _store, whileAppending, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StoreUnavailableException e)
        {
            DropBuiltAhead();
            // Disk full, database down: the block was not acknowledged and nothing of it is visible. Keep the candidate
            // and retry (Host.CommitAsync); refuse submissions meanwhile. A failed fsync is StoreFailedException: fatal.
            EnterStoreOutage(header.Height, e);
            throw new StoreOutageException(e.Message, e);
        }
        catch (Exception e)
        {
            DropBuiltAhead();
            Fault($"block {header.Height} could not be committed: {e.GetType().Name}: {e.Message}");
            throw new NodeStoppedException(StoppedMessage());
        }

        Timers.Add(NodeStage.Commit, started);
        if (!verdict.IsValid)
        {
            DropBuiltAhead();
            return new CommitResult(false, verdict.Check, verdict.Reason, _head);
        }

        started = NodeTimers.Start();
        Publish(candidate, certificate);
        Timers.Add(NodeStage.Publish, started);
        return new CommitResult(true, CertificateCheck.Valid, string.Empty, _head);
    }

    /// <summary>
    /// Runs while the store makes <paramref name="committing"/> durable (its fsync): builds the next block on it from
    /// the ready transactions it does not hold, so the writer's work overlaps the disk's. The next block is only a
    /// candidate, kept for the engine's next proposal (<see cref="TakeBuiltAhead"/>); it is written, published and
    /// acknowledged in its own turn, after <paramref name="committing"/>. Only a node sealing its own blocks builds
    /// ahead (with other validators the proposer changes from block to block). A block whose rules rejected some
    /// transaction is not built on: the mempool first settles those rejections (later nonces go back to held).
    /// </summary>
    private void BuildAhead(BlockCandidate committing)
    {
        _builtAhead = null;
        if (committing.Body.Skipped.Count > 0 || _stopping)
        {
            return;
        }

        try
        {
            var parameters = Genesis.Parameters;
            var passOver = new HashSet<Hash256>(committing.Body.Included.Count);
            foreach (var tx in committing.Body.Included)
            {
                passOver.Add(tx.Hash);
            }

            var ready = _mempool.PeekReady(parameters.MaxBlockTransactions, parameters.MaxBlockBytes, passOver);
            if (ready.Count == 0)
            {
                return;
            }

            var started = NodeTimers.Start();
            var blockTime = DateTimeOffset.FromUnixTimeMilliseconds(Math.Max(_time.GetUtcNow().ToUnixTimeMilliseconds(), committing.Header.TimestampMs + 1));
            var next = _chain.AssembleOn(committing, ready, blockTime);
            Timers.Add(NodeStage.Build, started, ready.Count);
            if (next.Body.Included.Count == 0 || next.Body.Skipped.Count > 0)
            {
                _chain.DropAssembledOn(); // rejections settle through the ordinary path
                return;
            }

            _builtAhead = next;
        }
#pragma warning disable CA1031 // building ahead is an optimisation: whatever fails, the ordinary path builds the block
        catch (Exception e)
#pragma warning restore CA1031
        {
            // Building ahead is an optimisation: the ordinary proposal path builds the block instead.
            _chain.DropAssembledOn();
            LogBuildAheadFailed(_logger, committing.Header.Height + 1, e.Message);
        }
    }

    /// <summary>The block built ahead for <paramref name="height"/>, if it still fits: on the head, round 0, every transaction still waiting.</summary>
    private BlockCandidate? TakeBuiltAhead(long height, int round)
    {
        var ahead = _builtAhead;
        _builtAhead = null;
        if (ahead is null)
        {
            return null;
        }

        if (round != 0 || ahead.Header.Height != height || ahead.Header.PreviousHash != _chain.Head.Hash
            || ahead.Body.Included.Any(t => !_mempool.TryGet(t.Hash, out _)))
        {
            return null; // its pending tree nodes were forgotten when its parent committed, or go at the next commit
        }

        Interlocked.Increment(ref _blocksBuiltAhead);
        return ahead;
    }

    private void DropBuiltAhead()
    {
        _builtAhead = null;
        _chain.DropAssembledOn();
    }

    /// <summary>After the store has the block: settle the mempool, tell waiters, publish the new head.</summary>
    private void Publish(BlockCandidate block, CommitCertificate certificate)
    {
        var header = block.Header;
        var included = block.Body.Included;
        var settled = _mempool.Settle(included, block.Body.Skipped, header.Height, NonceAtHead);
        var ids = new Hash256[included.Count];
        for (var i = 0; i < included.Count; i++)
        {
            ids[i] = included[i].Hash;
        }

        _candidates.Clear();
        _recentBlocks[header.Height] = new CommittedBlockEvent(header, certificate, ids);
        _recentBlocks.TryRemove(header.Height - _options.RecentBlocks, out _);
        UpdateCounts();

        if (_storeOutage is not null)
        {
            _storeOutage = null;
            LogStoreBack(_logger, header.Height);
        }

        var last = _head;
        var next = new NodeSnapshot(header, certificate, _chain.NextValidators, NodeHealth.Running);
        _head = next;
        last.Succeed(next);

        // Waiters last: a submitter told its transaction committed reads a head that includes the block.
        Resolve(settled);
        for (var i = 0; i < included.Count; i++)
        {
            ResolveCommitted(included[i].Hash, header.Height, i);
        }

        LogCommitted(_logger, header.Height, included.Count, header.Hash);
    }

    /// <summary>The store refused a decided block for now (<see cref="StoreUnavailableException"/>); the commit is retried.</summary>
    private sealed class StoreOutageException(string message, Exception inner) : Exception(message, inner);

    private abstract class WriterCommand
    {
        public abstract ValueTask RunAsync();

        public abstract void Abandon(string reason);
    }

    private sealed class WriterCommand<T>(Func<ValueTask<T>> work, bool resumeOnWriter) : WriterCommand
    {
        private readonly TaskCompletionSource<T> _result = new(resumeOnWriter ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Result => _result.Task;

        public override async ValueTask RunAsync()
        {
            try
            {
                _result.TrySetResult(await work().ConfigureAwait(false));
            }
            catch (Exception e)
            {
                _result.TrySetException(e);
            }
        }

        public override void Abandon(string reason) => _result.TrySetException(new NodeStoppedException(reason));
    }

    /// <summary>An outcome as the log keeps it: a value, so a committed transaction costs the log no object of its own.</summary>
    private readonly record struct RecordedOutcome(TransactionState State, long Height, int Index, RejectionCode Rule, string Reason);

    /// <summary>Recent outcomes by transaction id, oldest forgotten first (the store remains the record of commits).</summary>
    private sealed class OutcomeLog(int capacity)
    {
        private readonly Dictionary<Hash256, RecordedOutcome> _byId = [];
        private readonly Queue<Hash256> _order = new();

        public void Add(Hash256 id, RecordedOutcome outcome)
        {
            if (_byId.TryAdd(id, outcome))
            {
                _order.Enqueue(id);
                if (_order.Count > capacity)
                {
                    _byId.Remove(_order.Dequeue());
                }
            }
            else
            {
                _byId[id] = outcome;
            }
        }

        public TransactionOutcome? Find(Hash256 id)
            => _byId.TryGetValue(id, out var o) ? new TransactionOutcome(id, o.State, o.Height, o.Index, o.Rule, o.Reason) : null;
    }

    [LoggerMessage(EventId = 3020, Level = LogLevel.Debug, Message = "node: committed block {Height} with {Count} transactions ({Hash})")]
    private static partial void LogCommitted(ILogger logger, long height, int count, Hash256 hash);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Debug, Message = "node: dropped transaction {Id}: {Rule}: {Reason}")]
    private static partial void LogDropped(ILogger logger, Hash256 id, RejectionCode rule, string reason);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Warning, Message = "node: could not build block {Height} ahead, it is built after its parent commits: {Reason}")]
    private static partial void LogBuildAheadFailed(ILogger logger, long height, string reason);
}
