using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>What a node is built from.</summary>
public sealed record LedgerNodeSetup
{
    public required GenesisDocument Genesis { get; init; }

    /// <summary>The node's store; the node owns it from now on and disposes it when it stops.</summary>
    public required ILedgerStore Store { get; init; }

    /// <summary>
    /// The signature scheme of the genesis's crypto suite (secp256k1 for eth, SM2 with the genesis's identifier for
    /// gm; native in production); null: the suite's process-wide implementation (<see cref="GenesisCrypto.CreateSuite"/>).
    /// The node wraps it in its signature cache. A scheme of another suite than the genesis's is refused.
    /// </summary>
    public ISignatureScheme? Curve { get; init; }

    /// <summary>How blocks get certified; none means the node serves reads and refuses submissions (<see cref="AdmissionCode.NotCommitting"/>).</summary>
    public IConsensusEngine? Consensus { get; init; }

    public LedgerNodeOptions Options { get; init; } = new();

    /// <summary>How the chain keeps its state: retention of old state versions, cache sizes (see <see cref="LedgerChainOptions"/>).</summary>
    public LedgerChainOptions ChainOptions { get; init; } = LedgerChainOptions.Default;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Where transactions this node admits from its clients are passed on (the peers' mempools); none: nowhere.</summary>
    public ITransactionRelay? Relay { get; init; }
}

/// <summary>
/// One node's ledger: the single writer that owns the chain and its store. Everything that changes the chain or the
/// mempool (admissions, proposals, validations, commits) is a command on one <see cref="Channel{T}"/>, executed in
/// order by one task; readers take immutable <see cref="NodeSnapshot"/>s and never block the writer.
/// <para>
/// A submitted transaction is decoded once and its signature verified once, on the submitter's thread, through the
/// node's <see cref="SignatureBatchVerifier"/> and <see cref="VerifiedSignatureCache"/>; the writer then checks its
/// nonce against the signer's queue and admits it to the bounded mempool. The consensus engine
/// (<see cref="IConsensusEngine"/>) builds blocks from the mempool, certifies them and hands them back to commit:
/// certificate checked, block written to the store durably, head moved, block published to subscribers.
/// </para>
/// </summary>
public sealed partial class LedgerNode : IAsyncDisposable
{
    private readonly LedgerChain _chain;
    private readonly ILedgerStore _store;
    private readonly LedgerNodeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SignatureBatchVerifier _verifier;

    // Turns at decoding and verifying a single submission (LedgerNodeOptions.IntakeConcurrency): a core stays free for the writer.
    private readonly SemaphoreSlim _intakeSlots;
    private readonly IConsensusEngine? _consensus;
    private readonly ITransactionRelay? _relay;
    private readonly Channel<WriterCommand> _inbox;
    private readonly Mempool _mempool;
    private readonly OutcomeLog _outcomes;
    private readonly Dictionary<Hash256, TaskCompletionSource<TransactionOutcome>> _waiters = [];
    private readonly Dictionary<Hash256, BlockCandidate> _candidates = [];
    private readonly ConcurrentDictionary<long, CommittedBlockEvent> _recentBlocks = new();
    private readonly CancellationTokenSource _stopEngine = new();
    private readonly int _maxTransactionBytes;
    private readonly long? _retention;
    private volatile NodeSnapshot _head;
    private volatile TaskCompletionSource _work = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile int _readyCount;
    private volatile int _mempoolCount;
    private volatile bool _stopping;
    private volatile string? _storeOutage;
    private Task _writer = Task.CompletedTask;
    private Task _engine = Task.CompletedTask;
    private int _disposed;

    private LedgerNode(LedgerNodeSetup setup, LedgerChain chain, ISignatureScheme curve, SignatureBatchVerifier verifier)
    {
        _chain = chain;
        _store = setup.Store;
        _options = setup.Options;
        _time = setup.Time;
        _logger = setup.LoggerFactory.CreateLogger("SmartCity.Ledger.Node");
        _consensus = setup.Consensus;
        _relay = setup.Relay;
        _verifier = verifier;
        Curve = curve;
        Genesis = setup.Genesis;
        _maxTransactionBytes = Math.Min(Genesis.Parameters.MaxTransactionBytes, Genesis.Parameters.MaxBlockBytes);
        _retention = setup.ChainOptions.StateRetentionBlocks;
        _mempool = new Mempool(_options, _time);
        _intakeSlots = new SemaphoreSlim(_options.EffectiveIntakeConcurrency);
        _outcomes = new OutcomeLog(_options.RecentOutcomes);
        _inbox = Channel.CreateBounded<WriterCommand>(new BoundedChannelOptions(_options.InboxCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _drain = new DrainCommand(this);
        var last = chain.HeadBlock;
        _head = new NodeSnapshot(last.Header, last.Certificate, chain.NextValidators, NodeHealth.Running);
    }

    public GenesisDocument Genesis { get; }

    public Eip712Domain Domain => _chain.Domain;

    public TrustAnchor Anchor => _chain.Anchor;

    /// <summary>The node's signature scheme (its chain's suite), behind its signature cache for eth.</summary>
    public ISignatureScheme Curve { get; }

    /// <summary>The chain's crypto suite, from its genesis.</summary>
    public CryptoSuite Suite => _chain.Suite;

    /// <summary>The cache admission, proposal validation and block application share.</summary>
    public VerifiedSignatureCache SignatureCache => _verifier.Cache!;

    /// <summary>How the chain was opened: from the stored trees at the head, by replay, or from genesis.</summary>
    public ChainOpening Opening { get; private init; }

    /// <summary>The current head; immutable.</summary>
    public NodeSnapshot Head => _head;

    /// <summary>Transactions waiting in the mempool (ready and held).</summary>
    public int MempoolSize => _mempoolCount;

    /// <summary>Whether a consensus engine runs, so submitted transactions can be committed.</summary>
    public bool IsCommitting => _consensus is not null;

    /// <summary>Bounds the chain's caches at a share of their configured size (<see cref="LedgerChain.ResizeCaches"/>, <see cref="MemoryGovernor"/>). Safe from any thread.</summary>
    public void ResizeCaches(double share) => _chain.ResizeCaches(share);

    /// <summary>
    /// The store's query projections (records by subject, licences, list entries, memoranda, feedback), read
    /// concurrently with the writer: they show committed blocks only.
    /// </summary>
    public IProjectionStore Queries => _store;

    /// <summary>Per-stage timers of the pipeline (for the load tool).</summary>
    public NodeTimers Timers { get; } = new();

    /// <summary>What the consensus engine sees of this node.</summary>
    public IConsensusHost ConsensusHost => new Host(this);

    /// <summary>
    /// Opens the chain from the store (writing the genesis block to an empty store), then starts the writer and the
    /// consensus engine.
    /// </summary>
    public static async Task<LedgerNode> OpenAsync(LedgerNodeSetup setup, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var errors = setup.Options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"node options: {errors[0]}", nameof(setup));
        }

        ArgumentNullException.ThrowIfNull(setup.ChainOptions);
        setup.ChainOptions.Validate();

        var cache = new VerifiedSignatureCache(setup.Options.SignatureCacheCapacity);
        var scheme = setup.Curve ?? setup.Genesis.Crypto.CreateSuite().Signatures;
        _ = setup.Genesis.Crypto.SuiteOver(scheme); // a scheme of another suite (or SM2 identifier) is a wiring bug: throws here
        ISignatureScheme curve = scheme is ISecp256k1 secp256k1 ? new CachingSecp256k1(secp256k1, cache) : scheme;
        var verifier = new SignatureBatchVerifier(scheme, cache, setup.Options.VerifyParallelism);
        var logger = setup.LoggerFactory.CreateLogger("SmartCity.Ledger.Node");
        var (chain, opening) = await ChainLoader.OpenAsync(setup.Genesis, curve, verifier, setup.Store, setup.ChainOptions, logger, cancellationToken).ConfigureAwait(false);
        var node = new LedgerNode(setup, chain, curve, verifier) { Opening = opening };
        node.Start();
        return node;
    }

    private void Start()
    {
        _writer = Task.Run(RunWriterAsync);
        LogOpened(_logger, _head.Height, _head.HeadHash, _head.StateRoot, _head.HistorySize, _consensus?.GetType().Name ?? "none");
        if (_consensus is { } consensus)
        {
            _engine = Task.Run(() => RunEngineAsync(consensus));
        }
    }

    private async Task RunEngineAsync(IConsensusEngine consensus)
    {
        try
        {
            await consensus.RunAsync(ConsensusHost, _stopEngine.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopEngine.IsCancellationRequested)
        {
        }
        catch (NodeStoppedException)
        {
        }
        catch (Exception e)
        {
            LogEngineFailed(_logger, e);
            Fault($"consensus engine {consensus.GetType().Name} failed: {e.Message}");
        }
    }

    /// <summary>
    /// Submits one transaction (canonical bytes): admitted with its id, or refused with a code and reason. With
    /// <paramref name="waitForCommit"/> the call returns once the transaction is committed (or rejected by a rule in
    /// its block), and <see cref="SubmitResult.Outcome"/> says which. The node keeps a reference to the bytes.
    /// </summary>
    public async ValueTask<SubmitResult> SubmitAsync(ReadOnlyMemory<byte> transaction, bool waitForCommit, CancellationToken cancellationToken)
    {
        if (Refusal() is { } refusal)
        {
            return refusal;
        }

        await _intakeSlots.WaitAsync(cancellationToken).ConfigureAwait(false); // completes at once when a turn is free

        IntakeResult<VerifiedTransaction> verified;
        try
        {
            var started = NodeTimers.StartSampled(); // one submission in eight is timed: a thread's CPU clock is a system call
            var timed = !started.IsUntimed;
            var intake = TransactionIntake.Decode(transaction, Genesis.ChainId, Domain, _maxTransactionBytes);
            Timers.Add(NodeStage.Decode, started);
            if (!intake.IsAccepted)
            {
                return SubmitResult.Rejected(intake.Hash, SubmitResult.FromIntake(intake.Code), intake.Reason);
            }

            started = timed ? NodeTimers.Start() : StageClock.Untimed;
            verified = TransactionIntake.Verify(intake.Transaction!, Domain, _verifier);
            Timers.Add(NodeStage.Verify, started);
        }
        finally
        {
            _intakeSlots.Release();
        }

        if (verified.Transaction is not { } tx)
        {
            return SubmitResult.Rejected(verified.Hash, SubmitResult.FromIntake(verified.Code), verified.Reason);
        }

        (SubmitResult Result, Task<TransactionOutcome>? Outcome) admitted;
        try
        {
            admitted = (await AdmitOnWriterAsync(new PendingAdmission([tx], waitForCommit), cancellationToken).ConfigureAwait(false))[0];
        }
        catch (NodeStoppedException e)
        {
            return SubmitResult.Rejected(default, AdmissionCode.Unavailable, e.Message);
        }
        catch (StoreUnavailableException e)
        {
            return SubmitResult.Rejected(default, AdmissionCode.Unavailable, $"the store cannot be read: {e.Message}");
        }

        if (admitted.Result.IsAccepted)
        {
            _relay?.Relay([transaction]);
        }

        return admitted.Outcome is { } outcome
            ? admitted.Result with { Outcome = await outcome.WaitAsync(cancellationToken).ConfigureAwait(false) }
            : admitted.Result;
    }

    /// <summary>
    /// Submits many transactions at once: their signatures are verified in one batch across the cores. Results are in
    /// the order of <paramref name="transactions"/>.
    /// </summary>
    public Task<IReadOnlyList<SubmitResult>> SubmitManyAsync(IReadOnlyList<ReadOnlyMemory<byte>> transactions, bool waitForCommit, CancellationToken cancellationToken)
        => SubmitCoreAsync(transactions, waitForCommit, relay: true, cancellationToken);

    /// <summary>
    /// Admits transactions a peer relayed (gossip): verified and checked exactly as a client's, but not relayed again
    /// (every validator relays what its own clients submit to all the others).
    /// </summary>
    public Task<IReadOnlyList<SubmitResult>> SubmitRelayedAsync(IReadOnlyList<ReadOnlyMemory<byte>> transactions, CancellationToken cancellationToken)
        => SubmitCoreAsync(transactions, waitForCommit: false, relay: false, cancellationToken);

    private async Task<IReadOnlyList<SubmitResult>> SubmitCoreAsync(IReadOnlyList<ReadOnlyMemory<byte>> transactions, bool waitForCommit, bool relay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        var results = new SubmitResult[transactions.Count];
        if (Refusal() is { } refusal)
        {
            Array.Fill(results, refusal);
            return results;
        }

        var started = NodeTimers.Start();
        var decoded = new List<DecodedTransaction>(transactions.Count);
        var positions = new List<int>(transactions.Count);
        for (var i = 0; i < transactions.Count; i++)
        {
            var intake = TransactionIntake.Decode(transactions[i], Genesis.ChainId, Domain, _maxTransactionBytes);
            if (intake.IsAccepted)
            {
                decoded.Add(intake.Transaction!);
                positions.Add(i);
            }
            else
            {
                results[i] = SubmitResult.Rejected(intake.Hash, SubmitResult.FromIntake(intake.Code), intake.Reason);
            }
        }

        Timers.Add(NodeStage.Decode, started, transactions.Count);
        started = NodeTimers.Start();
        var verified = new IntakeResult<VerifiedTransaction>[decoded.Count];
        if (decoded.Count == 1)
        {
            verified[0] = TransactionIntake.Verify(decoded[0], Domain, _verifier);
        }
        else if (decoded.Count > 1)
        {
            TransactionIntake.Verify(decoded, Domain, _verifier, verified);
        }

        Timers.Add(NodeStage.Verify, started, decoded.Count);
        var admit = new List<VerifiedTransaction>(decoded.Count);
        var admitPositions = new List<int>(decoded.Count);
        for (var j = 0; j < verified.Length; j++)
        {
            if (verified[j].Transaction is { } tx)
            {
                admit.Add(tx);
                admitPositions.Add(positions[j]);
            }
            else
            {
                results[positions[j]] = SubmitResult.Rejected(verified[j].Hash, SubmitResult.FromIntake(verified[j].Code), verified[j].Reason);
            }
        }

        if (admit.Count == 0)
        {
            return results;
        }

        (SubmitResult Result, Task<TransactionOutcome>? Outcome)[] admitted;
        try
        {
            admitted = await AdmitOnWriterAsync(new PendingAdmission(admit, waitForCommit), cancellationToken).ConfigureAwait(false);
        }
        catch (NodeStoppedException e)
        {
            foreach (var position in admitPositions)
            {
                results[position] = SubmitResult.Rejected(default, AdmissionCode.Unavailable, e.Message);
            }

            return results;
        }
        catch (StoreUnavailableException e)
        {
            foreach (var position in admitPositions)
            {
                results[position] = SubmitResult.Rejected(default, AdmissionCode.Unavailable, $"the store cannot be read: {e.Message}");
            }

            return results;
        }

        for (var k = 0; k < admitted.Length; k++)
        {
            results[admitPositions[k]] = admitted[k].Result;
        }

        if (relay && _relay is not null)
        {
            var accepted = new List<ReadOnlyMemory<byte>>(admitted.Length);
            for (var k = 0; k < admitted.Length; k++)
            {
                if (admitted[k].Result.IsAccepted)
                {
                    accepted.Add(transactions[admitPositions[k]]);
                }
            }

            if (accepted.Count > 0)
            {
                _relay.Relay(accepted);
            }
        }

        if (waitForCommit)
        {
            for (var k = 0; k < admitted.Length; k++)
            {
                if (admitted[k].Outcome is { } outcome)
                {
                    results[admitPositions[k]] = admitted[k].Result with { Outcome = await outcome.WaitAsync(cancellationToken).ConfigureAwait(false) };
                }
            }
        }

        return results;
    }

    /// <summary>Where a transaction is: pending, committed (height and index), rejected after admission, or unknown.</summary>
    public async Task<TransactionOutcome> GetTransactionAsync(Hash256 id, CancellationToken cancellationToken)
    {
        var known = await OnWriterAsync(() => ValueTask.FromResult(_mempool.Contains(id) ? TransactionOutcome.Pending(id) : _outcomes.Find(id)), cancellationToken).ConfigureAwait(false);
        if (known is not null)
        {
            return known;
        }

        var stored = await _store.GetTransactionAsync(id, cancellationToken).ConfigureAwait(false);
        return stored is null ? TransactionOutcome.Unknown(id) : TransactionOutcome.Committed(id, stored.Height, stored.IndexInBlock);
    }

    /// <summary>Waits until an admitted transaction is committed or rejected; returns at once if it already is, or is unknown.</summary>
    public async Task<TransactionOutcome> WaitForTransactionAsync(Hash256 id, CancellationToken cancellationToken)
    {
        var wait = await OnWriterAsync(() => ValueTask.FromResult(_mempool.Contains(id) ? Waiter(id) : null), cancellationToken).ConfigureAwait(false);
        return wait is null
            ? await GetTransactionAsync(id, cancellationToken).ConfigureAwait(false)
            : await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An inclusion receipt for a committed transaction, against the head; null when it is not committed.</summary>
    public async Task<InclusionReceipt?> ProveTransactionAsync(Hash256 id, CancellationToken cancellationToken)
        => (await ProveTransactionAsync(id, null, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>
    /// An inclusion receipt for a committed transaction against the certified header of <paramref name="height"/> (the
    /// head when null), or why there is none: <see cref="ChainQueryError.TransactionNotFound"/>,
    /// <see cref="ChainQueryError.UnknownHeight"/>, <see cref="ChainQueryError.TransactionNotYetCommitted"/>. History is
    /// never pruned, so every height at or after the transaction's block answers.
    /// </summary>
    public Task<ChainQuery<InclusionReceipt>> ProveTransactionAsync(Hash256 id, long? height, CancellationToken cancellationToken)
        => OnWriterAsync(() => _chain.ProveTransactionAsync(id, height, cancellationToken), cancellationToken);

    /// <summary>A receipt of the value (or absence) of a state key at the head.</summary>
    public async Task<StateReceipt> ProveStateAsync(StateKey key, CancellationToken cancellationToken)
        => (await ProveStateAsync(key, null, cancellationToken).ConfigureAwait(false)).Value!;

    /// <summary>
    /// A receipt of the value (or absence) of a state key in the state after block <paramref name="height"/> (the head
    /// when null), or why there is none: <see cref="ChainQueryError.UnknownHeight"/> above the head,
    /// <see cref="ChainQueryError.StatePruned"/> below the retention floor (<see cref="StateRetainedFrom"/>) — never a
    /// wrong or partial answer.
    /// </summary>
    public Task<ChainQuery<StateReceipt>> ProveStateAsync(StateKey key, long? height, CancellationToken cancellationToken)
        => OnWriterAsync(() => _chain.ProveStateAsync(key, height, cancellationToken), cancellationToken);

    /// <summary>The lowest height whose state can still be read and proved (0 unless old versions were pruned).</summary>
    public long StateRetainedFrom => _chain.StateRetainedFrom;

    /// <summary>State versions the node keeps (the newest N blocks), or null when it keeps every version.</summary>
    public long? StateRetentionBlocks => _chain.Store is null ? null : _retention;

    /// <summary>What the store repaired, skipped or replayed when it opened (empty when it opened clean).</summary>
    public StoreRecoveryReport Recovery => _store.Recovery;

    /// <summary>
    /// The committed blocks from <paramref name="fromHeight"/> on, in order, then each new one as it commits, until
    /// cancelled or the node stops. Old blocks come from the store, recent ones from memory.
    /// </summary>
    public async IAsyncEnumerable<CommittedBlockEvent> WatchAsync(long fromHeight, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromHeight);
        var next = fromHeight;
        var head = _head;
        while (true)
        {
            while (next <= head.Height)
            {
                yield return await GetBlockEventAsync(next, cancellationToken).ConfigureAwait(false);
                next++;
            }

            if (head.Health is NodeHealth.Stopped or NodeHealth.Faulted)
            {
                yield break;
            }

            head = await head.NextAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A committed block as subscribers see it, or null above the head.</summary>
    public async ValueTask<CommittedBlockEvent> GetBlockEventAsync(long height, CancellationToken cancellationToken)
    {
        if (_recentBlocks.TryGetValue(height, out var recent))
        {
            return recent;
        }

        var block = await _store.GetBlockAsync(height, cancellationToken).ConfigureAwait(false)
            ?? throw new ArgumentOutOfRangeException(nameof(height), height, $"block {height} is not committed");
        if (!BlockHeader.TryDecode(block.Header.Header.Span, out var header, out var error) || !CommitCertificate.TryDecode(block.Header.Certificate.Span, out var certificate, out error))
        {
            throw new StoreCorruptedException($"block {height}: {error}");
        }

        return new CommittedBlockEvent(header!, certificate!, [.. block.Transactions.Select(t => t.TxHash)]);
    }

    /// <summary>Stops the consensus engine and the writer (commands still queued are refused), then closes the store.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopEngine.CancelAsync().ConfigureAwait(false);
        await _engine.ConfigureAwait(false);
        Stop(NodeHealth.Stopped, null);
        await _writer.ConfigureAwait(false);
        await _store.DisposeAsync().ConfigureAwait(false);
        _stopEngine.Dispose();
        LogStopped(_logger, _head.Height);
    }

    /// <summary>Why submissions are refused right now, if they are.</summary>
    private SubmitResult? Refusal()
    {
        if (_stopping)
        {
            return SubmitResult.Rejected(default, AdmissionCode.Unavailable, _head.Fault is { } fault ? $"the node stopped after a fault: {fault}" : "the node is stopping");
        }

        if (_storeOutage is { } outage)
        {
            return SubmitResult.Rejected(default, AdmissionCode.Unavailable, $"the store cannot commit ({outage}); the node accepts no transactions until it can, retries by itself and loses nothing it acknowledged");
        }

        return _consensus is null
            ? SubmitResult.Rejected(default, AdmissionCode.NotCommitting, $"this node cannot commit blocks: the genesis has {_chain.Anchor.Validators.Count} validators and no consensus engine runs")
            : null;
    }

    /// <summary>The store fails or the engine fails: stop committing, say why in the snapshot and the log.</summary>
    private void Fault(string reason)
    {
        LogFaulted(_logger, reason);
        _stopEngine.Cancel();
        Stop(NodeHealth.Faulted, reason);
    }

    /// <summary>Refuses every later command, publishes the final snapshot and wakes whoever waits for work.</summary>
    private void Stop(NodeHealth health, string? fault)
    {
        lock (_inbox)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            var last = _head;
            var final = new NodeSnapshot(last.Header, last.Certificate, last.Validators, health, fault);
            _head = final;
            last.Succeed(final);
            _inbox.Writer.TryComplete();
            Interlocked.Exchange(ref _work, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    /// <summary>The store refused the decided block for a reason that may pass: refuse submissions and say why until it takes it.</summary>
    private void EnterStoreOutage(long height, StoreUnavailableException cause)
    {
        var first = _storeOutage is null;
        _storeOutage = cause.Message;
        if (first)
        {
            LogStoreOutage(_logger, height, cause.Message);
            lock (_inbox)
            {
                if (!_stopping)
                {
                    var last = _head;
                    var next = new NodeSnapshot(last.Header, last.Certificate, last.Validators, NodeHealth.StoreUnavailable, cause.Message);
                    _head = next;
                    last.Succeed(next);
                }
            }
        }
        else
        {
            LogStoreStillUnavailable(_logger, height, cause.Message);
        }
    }

    /// <summary>Waits before the next attempt to commit a block the store refused; throws when the node stops meanwhile.</summary>
    private async Task WaitToRetryCommitAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopEngine.Token);
        try
        {
            await Task.Delay(_options.StoreRetryInterval, _time, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopEngine.IsCancellationRequested || _stopping)
        {
            throw new NodeStoppedException(StoppedMessage());
        }
    }

    [LoggerMessage(EventId = 3014, Level = LogLevel.Warning, Message = "node: the store refused block {Height}: {Reason}; submissions are refused (UNAVAILABLE) and the block is retried until the store takes it")]
    private static partial void LogStoreOutage(ILogger logger, long height, string reason);

    [LoggerMessage(EventId = 3015, Level = LogLevel.Debug, Message = "node: the store still refuses block {Height}: {Reason}")]
    private static partial void LogStoreStillUnavailable(ILogger logger, long height, string reason);

    [LoggerMessage(EventId = 3016, Level = LogLevel.Warning, Message = "node: the store took block {Height} again after refusing it; the node commits and accepts transactions again")]
    private static partial void LogStoreBack(ILogger logger, long height);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "node: opened at height {Height} ({Hash}), state root {StateRoot}, {History} transactions; consensus: {Consensus}")]
    private static partial void LogOpened(ILogger logger, long height, Hash256 hash, Hash256 stateRoot, long history, string consensus);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "node: stopped at height {Height}")]
    private static partial void LogStopped(ILogger logger, long height);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Critical, Message = "node: stopped committing: {Reason}")]
    private static partial void LogFaulted(ILogger logger, string reason);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Error, Message = "node: the consensus engine failed")]
    private static partial void LogEngineFailed(ILogger logger, Exception exception);
}

/// <summary>The node stopped (on request or after a fault) before it could serve the call.</summary>
public sealed class NodeStoppedException(string message) : Exception(message);
