using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Node.Consensus;

/// <summary>
/// QBFT in a node (docs/consensus.md, "In a node"): drives one <see cref="QbftEngine"/> — the pure state machine —
/// from the node's <see cref="IConsensusHost"/>, a journal and a transport, following the <see cref="ConsensusOutput"/>
/// contract: save the journal before sending, send, commit a decision and start the next height, build and validate
/// blocks when asked (off the loop; the engine goes on meanwhile), tick at the wake-up time. One loop owns the engine,
/// so it is never touched by two threads.
/// </summary>
/// <remarks>
/// The proposer of (h, r) is the chain's rule <see cref="ValidatorSet.ProposerFor"/> — V[(h + r) mod n] — which the
/// node's block building and validation use: the engine's rotation is given the previous height's round-0 proposer, so
/// the two agree. A validator that fell behind (the engine's <see cref="ConsensusOutput.SyncTarget"/>) catches up
/// from an <see cref="ICertifiedBlockSource"/> when it has one (the peer network's block sync between processes), also
/// towards the head its peers report when no vote tells it it is behind. Each height's validator set is the node's
/// <see cref="NodeSnapshot.Validators"/>: the set in force after the head, so a governance change takes effect at the
/// height after the vote (docs/consensus.md, "Validator-set changes").
/// </remarks>
public sealed partial class QbftConsensusEngine : IConsensusEngine
{
    private readonly ISigner _signer;
    private readonly IConsensusTransport _transport;
    private readonly IConsensusJournal _journal;
    private readonly QbftParameters _parameters;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<object> _events = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _inboundSlots;
    private readonly ICertifiedBlockSource? _blocks;
    private long _syncTarget;
    private ITimer? _syncRetry;
    private ITimer? _timer;
    private DateTimeOffset? _scheduledAt;
    private long _timerGeneration;
    private long _running;

    public QbftConsensusEngine(
        ISigner signer,
        IConsensusTransport transport,
        IConsensusJournal journal,
        QbftParameters? parameters = null,
        TimeProvider? time = null,
        ILogger<QbftConsensusEngine>? logger = null,
        ICertifiedBlockSource? blocks = null)
    {
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(journal);
        _parameters = parameters ?? new QbftParameters();
        if (_parameters.Validate() is { } problem)
        {
            throw new ArgumentException($"invalid QBFT parameters: {problem}", nameof(parameters));
        }

        _signer = signer;
        _transport = transport;
        _journal = journal;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<QbftConsensusEngine>.Instance;
        _blocks = blocks;
        _inboundSlots = new SemaphoreSlim(MaxQueuedMessages, MaxQueuedMessages);
    }

    /// <summary>Peer messages decoded and waiting for the engine; beyond it the transport's own bounded queue fills and drops.</summary>
    public const int MaxQueuedMessages = 1_024;

    /// <summary>Heights this engine decided (and the node committed) since it started.</summary>
    public long Decided => Interlocked.Read(ref _decided);

    /// <summary>Messages from peers that did not decode (dropped).</summary>
    public long Undecodable => Interlocked.Read(ref _undecodable);

    private long _decided;
    private long _undecodable;

    /// <summary>Why this chain cannot run QBFT, or null: it needs at least four validators.</summary>
    public static string? Misfit(ValidatorSet validators)
    {
        ArgumentNullException.ThrowIfNull(validators);
        return validators.Count < ConsensusHeight.MinValidators
            ? $"QBFT needs at least {ConsensusHeight.MinValidators} validators (f = 1); this chain has {validators.Count} (a single validator seals its own blocks)"
            : null;
    }

    /// <summary>The engine's view of the height after <paramref name="head"/>, with the chain's proposer rule.</summary>
    public static ConsensusHeight HeightAfter(NodeSnapshot head)
    {
        ArgumentNullException.ThrowIfNull(head);
        var validators = head.Validators;

        // ConsensusHeight rotates from the member after the previous proposer; naming V[h mod n] (round 0 of the head's
        // height under the chain's rule) makes its proposer of (h + 1, r) exactly ValidatorSet.ProposerFor(h + 1, r).
        return new ConsensusHeight(head.Height + 1, validators, head.HeadHash, head.Header.TimestampMs, validators.ProposerFor(head.Height, 0));
    }

    public async Task RunAsync(IConsensusHost host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException("a QBFT engine drives one node once; create one per node");
        }

        if (Misfit(host.Head.Validators) is { } misfit)
        {
            throw new InvalidOperationException(misfit);
        }

        var crypto = new Eip712ConsensusCrypto(host.DomainSeparator, new SignatureBatchVerifier(host.Curve, new VerifiedSignatureCache(16_384)));
        var engine = new QbftEngine(_parameters, _signer, crypto);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cancellationToken = stop.Token; // the helpers below end with the loop, whatever ends it
        var inbound = Task.Run(() => PumpInboundAsync(cancellationToken), CancellationToken.None);
        var peerHeads = _blocks is null ? Task.CompletedTask : Task.Run(() => FollowPeerHeadsAsync(cancellationToken), CancellationToken.None);
        try
        {
            var head = host.Head;
            var next = HeightAfter(head);
            var journal = await _journal.LoadAsync(cancellationToken).ConfigureAwait(false);
            LogStarting(_logger, _signer.Address, next.Height, journal?.Height, journal?.Round);
            ConsensusOutput? output = journal is null || journal.Height < next.Height
                ? StartHeight(host, engine, next, cancellationToken)
                : engine.Restore(next, journal, Now);
            while (true)
            {
                await ApplyAsync(host, engine, output, cancellationToken).ConfigureAwait(false);
                var input = await _events.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (input is ConsensusMessage)
                {
                    _inboundSlots.Release();
                }

                output = input switch
                {
                    ConsensusMessage message => engine.Handle(message, Now),
                    Built built when built.Height == engine.Height => engine.OnBlockBuilt(built.Block, Now),
                    Validated validated when validated.Proposal.Height == engine.Height => engine.OnBlockValidated(validated.Proposal, validated.Verdict, Now),
                    Work work when work.Height == engine.Height => engine.WorkAvailable(Now),
                    Tick tick when tick.Generation == Interlocked.Read(ref _timerGeneration) => OnTick(engine),
                    SyncRetry => await CatchUpAsync(host, engine, cancellationToken).ConfigureAwait(false),
                    PeersAhead ahead => OnPeersAhead(host, ahead.Height),
                    _ => null,
                };
            }
        }
        finally
        {
            _timer?.Dispose();
            _syncRetry?.Dispose();
            await stop.CancelAsync().ConfigureAwait(false);
            await inbound.ConfigureAwait(false);
            await peerHeads.ConfigureAwait(false);
        }
    }

    private DateTimeOffset Now => _time.GetUtcNow();

    private ConsensusOutput OnTick(QbftEngine engine)
    {
        // The timer has fired: the next Schedule arms a new one even for the same instant.
        _timer?.Dispose();
        _timer = null;
        _scheduledAt = null;
        return engine.Tick(Now);
    }

    private ConsensusOutput StartHeight(IConsensusHost host, QbftEngine engine, ConsensusHeight height, CancellationToken cancellationToken)
    {
        // An idle chain makes no blocks: the height waits until this node's mempool (or a peer's proposal) has work.
        _ = WaitForWorkAsync(host, height.Height, cancellationToken);
        return engine.StartHeight(height, Now, awaitWork: true);
    }

    private async Task ApplyAsync(IConsensusHost host, QbftEngine engine, ConsensusOutput? output, CancellationToken cancellationToken)
    {
        while (output is not null)
        {
            if (output.Journal is { } state)
            {
                await _journal.SaveAsync(state, cancellationToken).ConfigureAwait(false); // durable before any vote leaves
            }

            foreach (var message in output.Messages)
            {
                _transport.Broadcast(ConsensusCodec.Encode(message));
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                foreach (var rejection in output.Rejections)
                {
                    LogRejected(_logger, rejection.ToString());
                }
            }

            if (output.SyncTarget is { } target && target > _syncTarget)
            {
                _syncTarget = target;
                if (_blocks is null)
                {
                    LogBehind(_logger, engine.Height, target);
                }
                else
                {
                    ScheduleSyncRetry(TimeSpan.Zero);
                }
            }

            if (output.BuildRequest is { } request)
            {
                _ = BuildAsync(host, request, cancellationToken);
            }

            foreach (var proposal in output.ValidationRequests)
            {
                _ = ValidateAsync(host, proposal, cancellationToken);
            }

            if (output.Decision is { } decision)
            {
                var head = await CommitAsync(host, decision).ConfigureAwait(false);
                output = StartHeight(host, engine, HeightAfter(head), cancellationToken);
                continue;
            }

            Schedule(engine.WakeAt);
            output = null;
        }
    }

    /// <summary>
    /// Fetches certified blocks up to the sync target and commits each through the node (certificate checked, block
    /// re-executed), then starts the engine at the new head. Blocks a peer does not have yet are asked for again later.
    /// </summary>
    private async Task<ConsensusOutput?> CatchUpAsync(IConsensusHost host, QbftEngine engine, CancellationToken cancellationToken)
    {
        _syncRetry?.Dispose();
        _syncRetry = null;
        var start = host.Head.Height;
        while (host.Head.Height < _syncTarget)
        {
            var height = host.Head.Height + 1;
            if (await _blocks!.GetAsync(height, cancellationToken).ConfigureAwait(false) is not { } fetched)
            {
                break;
            }

            var result = await host.CommitAsync(fetched.Block, fetched.Certificate, CancellationToken.None).ConfigureAwait(false);
            if (!result.IsCommitted)
            {
                LogCatchUpRefused(_logger, height, result.ToString());
                _blocks.Refused(height); // a bad block from a peer: the source asks another peer next time
                break;
            }
        }

        var head = host.Head;
        if (head.Height > start)
        {
            LogCaughtUp(_logger, start, head.Height, _syncTarget);
        }

        if (head.Height < _syncTarget)
        {
            ScheduleSyncRetry(SyncRetryDelay);
        }

        return head.Height >= engine.Height ? StartHeight(host, engine, HeightAfter(head), cancellationToken) : null;
    }

    /// <summary>
    /// A validator that restarted behind an idle chain hears no votes of later heights, so nothing would tell it to
    /// catch up: it also follows the head its block source believes an honest peer has (<see cref="ICertifiedBlockSource.PeersHead"/>).
    /// </summary>
    private async Task FollowPeerHeadsAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var head = _blocks!.PeersHead;
                if (head > Interlocked.Read(ref _peersAheadPosted))
                {
                    Interlocked.Exchange(ref _peersAheadPosted, head);
                    await _events.Writer.WriteAsync(new PeersAhead(head), cancellationToken).ConfigureAwait(false);
                }

                await Task.Delay(PeerHeadPollInterval, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // the node is stopping
        }
    }

    private long _peersAheadPosted;

    /// <summary>How often the engine compares its head with the head its peers reported.</summary>
    public static readonly TimeSpan PeerHeadPollInterval = TimeSpan.FromMilliseconds(500);

    private ConsensusOutput? OnPeersAhead(IConsensusHost host, long height)
    {
        if (height > host.Head.Height && height > _syncTarget)
        {
            _syncTarget = height;
            ScheduleSyncRetry(TimeSpan.Zero);
        }

        return null;
    }

    /// <summary>How long a validator behind waits before asking for blocks its peers did not have yet.</summary>
    public static readonly TimeSpan SyncRetryDelay = TimeSpan.FromMilliseconds(300);

    private void ScheduleSyncRetry(TimeSpan delay)
    {
        if (_syncRetry is not null)
        {
            return;
        }

        _syncRetry = _time.CreateTimer(_ => _events.Writer.TryWrite(new SyncRetry()), null, delay, Timeout.InfiniteTimeSpan);
    }

    private async Task<NodeSnapshot> CommitAsync(IConsensusHost host, ConsensusDecision decision)
    {
        var block = decision.Block;
        var result = await host.CommitAsync(new BlockProposal(block.Header, block.Transactions), decision.Certificate, CancellationToken.None).ConfigureAwait(false);
        if (!result.IsCommitted)
        {
            // A quorum decided a block this node cannot commit: its state or its code differs from the others'. Going
            // on would fork it from the consortium; stopping makes the node report itself faulted.
            throw new InvalidOperationException($"block {block.Height} ({block.Hash}) was decided by a quorum but this node refused it: {result.Check}: {result.Reason}");
        }

        Interlocked.Increment(ref _decided);
        LogDecided(_logger, block.Height, decision.Certificate.Round, block.Transactions.Length, block.Hash);
        return result.Head;
    }

    private async Task BuildAsync(IConsensusHost host, ProposalRequest request, CancellationToken cancellationToken)
    {
        ProposedBlock? block = null;
        try
        {
            var built = await host.BuildProposalAsync(request.Height.Height, request.Round, cancellationToken).ConfigureAwait(false);
            if (built is not null && built.Header.Proposer == request.Proposer)
            {
                block = new ProposedBlock(built.Header, [.. built.Transactions]);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception e) when (e is NodeStoppedException or ObjectDisposedException)
        {
            return;
        }

        await _events.Writer.WriteAsync(new Built(request.Height.Height, block), CancellationToken.None).ConfigureAwait(false);
    }

    private async Task ValidateAsync(IConsensusHost host, ProposalMessage proposal, CancellationToken cancellationToken)
    {
        BlockVerdict verdict;
        try
        {
            var block = proposal.Block;
            var validation = await host.ValidateProposalAsync(new BlockProposal(block.Header, block.Transactions), cancellationToken).ConfigureAwait(false);
            verdict = !validation.IsValid ? BlockVerdict.Invalid(validation.Reason)
                : validation.ComputedHash != block.Hash ? BlockVerdict.Invalid($"re-execution gives header {validation.ComputedHash}, the proposal is {block.Hash}")
                : BlockVerdict.Valid;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception e) when (e is NodeStoppedException or ObjectDisposedException)
        {
            return;
        }

        await _events.Writer.WriteAsync(new Validated(proposal, verdict), CancellationToken.None).ConfigureAwait(false);
    }

    private async Task WaitForWorkAsync(IConsensusHost host, long height, CancellationToken cancellationToken)
    {
        try
        {
            await host.WaitForWorkAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (NodeStoppedException)
        {
            return;
        }

        await _events.Writer.WriteAsync(new Work(height), CancellationToken.None).ConfigureAwait(false);
    }

    private async Task PumpInboundAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var bytes in _transport.Inbound.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (ConsensusCodec.TryDecode(bytes, out var message, out var error))
                {
                    await _inboundSlots.WaitAsync(cancellationToken).ConfigureAwait(false); // released when the engine takes it
                    await _events.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    Interlocked.Increment(ref _undecodable);
                    LogUndecodable(_logger, error);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the node is stopping
        }
    }

    /// <summary>One pending wake-up: a later output replaces it; a tick of a replaced timer is ignored.</summary>
    private void Schedule(DateTimeOffset? wakeAt)
    {
        if (wakeAt == _scheduledAt && (_timer is not null || wakeAt is null))
        {
            return;
        }

        _scheduledAt = wakeAt;
        var generation = Interlocked.Increment(ref _timerGeneration);
        _timer?.Dispose();
        _timer = null;
        if (wakeAt is not { } at)
        {
            return;
        }

        var delay = at - Now;
        _timer = _time.CreateTimer(
            _ => _events.Writer.TryWrite(new Tick(generation)),
            null,
            delay < TimeSpan.Zero ? TimeSpan.Zero : delay,
            Timeout.InfiniteTimeSpan);
    }

    [LoggerMessage(EventId = 3110, Level = LogLevel.Information, Message = "qbft: validator {Validator} starts at height {Height} (journal: height {JournalHeight}, round {JournalRound})")]
    private static partial void LogStarting(ILogger logger, Address validator, long height, long? journalHeight, int? journalRound);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Information, Message = "qbft: decided block {Height} in round {Round} with {Transactions} transactions ({Hash})")]
    private static partial void LogDecided(ILogger logger, long height, int round, int transactions, Hash256 hash);

    [LoggerMessage(EventId = 3112, Level = LogLevel.Debug, Message = "qbft: dropped {Rejection}")]
    private static partial void LogRejected(ILogger logger, string rejection);

    [LoggerMessage(EventId = 3113, Level = LogLevel.Warning, Message = "qbft: at height {Height}, peers have decided up to {Target}; no block source to catch up from")]
    private static partial void LogBehind(ILogger logger, long height, long target);

    [LoggerMessage(EventId = 3115, Level = LogLevel.Information, Message = "qbft: caught up from height {From} to {To} (peers decided up to {Target})")]
    private static partial void LogCaughtUp(ILogger logger, long from, long to, long target);

    [LoggerMessage(EventId = 3116, Level = LogLevel.Warning, Message = "qbft: catch-up block {Height} refused: {Result}")]
    private static partial void LogCatchUpRefused(ILogger logger, long height, string result);

    [LoggerMessage(EventId = 3114, Level = LogLevel.Debug, Message = "qbft: dropped an undecodable message: {Error}")]
    private static partial void LogUndecodable(ILogger logger, string error);

    private sealed record Built(long Height, ProposedBlock? Block);

    private sealed record Validated(ProposalMessage Proposal, BlockVerdict Verdict);

    private sealed record Work(long Height);

    private sealed record Tick(long Generation);

    private sealed record SyncRetry;

    private sealed record PeersAhead(long Height);
}
