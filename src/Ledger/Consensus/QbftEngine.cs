using System.Collections.Immutable;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Consensus;

/// <summary>
/// QBFT for one validator as a pure, deterministic state machine (docs/consensus.md). Inputs: the start of a height,
/// a message, a clock tick, work arriving, a block the node built, the node's verdict on a proposed block — each with
/// the current time, which the engine never reads itself. Outputs (<see cref="ConsensusOutput"/>): the state to
/// persist, the messages to broadcast, a decision, requests to build or validate blocks, a catch-up hint and when to
/// tick next. No I/O, no threads, no randomness: the simulator and the node run this same code.
/// Not thread-safe: one caller (the node's single writer) drives it.
/// </summary>
public sealed partial class QbftEngine
{
    /// <summary>Proposals of different rounds awaiting the node's verdict at once (later rounds supersede earlier ones).</summary>
    private const int MaxPendingValidations = 4;

    private readonly QbftParameters _parameters;
    private readonly ISigner _signer;
    private readonly IConsensusCrypto _crypto;
    private readonly SortedDictionary<int, RoundState> _rounds = [];
    private readonly SortedDictionary<int, ProposalMessage> _validating = [];
    private readonly Dictionary<Address, SortedDictionary<int, RoundChangeMessage>> _roundChanges = [];
    private readonly FutureMessageBuffer _future;

    private ConsensusHeight? _height;
    private bool _isValidator;
    private int _round;
    private bool _roundShared;
    private DateTimeOffset _roundDeadline;
    private DateTimeOffset? _buildAt;
    private int _buildRequested = -1;
    private bool _idle;
    private bool _decided;
    private PreparedCertificate? _lastPrepared;
    private RoundChangeMessage? _sentRoundChange;
    private bool _journalDirty;
    private long _reportedSyncTarget;
    private DateTimeOffset _now;
    private ConsensusOutput _output = new();

    public QbftEngine(QbftParameters parameters, ISigner signer, IConsensusCrypto crypto)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(crypto);
        if (parameters.Validate() is { } problem)
        {
            throw new ArgumentException($"invalid QBFT parameters: {problem}", nameof(parameters));
        }

        _parameters = parameters;
        _signer = signer;
        _crypto = crypto;
        _future = new FutureMessageBuffer(parameters.MaxFutureMessages);
    }

    /// <summary>This validator's address.</summary>
    public Address Self => _signer.Address;

    public QbftParameters Parameters => _parameters;

    /// <summary>The height being agreed on (null before the first <see cref="StartHeight"/>).</summary>
    public ConsensusHeight? CurrentHeight => _height;

    public long Height => _height?.Height ?? 0;

    public int Round => _round;

    public bool IsDecided => _decided;

    /// <summary>The highest round in which this validator saw a quorum of PREPAREs for the accepted proposal, this height.</summary>
    public PreparedCertificate? LastPrepared => _lastPrepared;

    /// <summary>Messages held for later heights (bounded by <see cref="QbftParameters.MaxFutureMessages"/>).</summary>
    public int BufferedFutureMessages => _future.Count;

    /// <summary>ROUND-CHANGEs held (bounded by n · <see cref="QbftParameters.MaxRoundChangesPerSender"/>).</summary>
    public int StoredRoundChanges => _roundChanges.Values.Sum(r => r.Count);

    /// <summary>Rounds with state (bounded by the past and future round windows).</summary>
    public int RetainedRounds => _rounds.Count;

    /// <summary>When the engine wants its next <see cref="Tick"/>; null before a height starts, while it waits for work and once it is decided.</summary>
    public DateTimeOffset? WakeAt => _height is null || _decided || _idle ? null : _buildAt is { } at && at < _roundDeadline ? at : _roundDeadline;

    /// <summary>True while the height waits for work (<see cref="StartHeight"/> with <c>awaitWork</c>).</summary>
    public bool IsIdle => _idle;

    /// <summary>Proposals waiting for the node's verdict (bounded: one per round, a few rounds).</summary>
    public int PendingValidations => _validating.Count;

    /// <summary>
    /// Starts agreeing on <paramref name="height"/> at round 0 (after the chain committed its parent). With
    /// <paramref name="awaitWork"/> the height waits, without timers or proposals, until <see cref="WorkAvailable"/> or a
    /// message shows another validator has work: an idle chain makes no blocks and burns no rounds.
    /// </summary>
    public ConsensusOutput StartHeight(ConsensusHeight height, DateTimeOffset now, bool awaitWork = false)
    {
        ArgumentNullException.ThrowIfNull(height);
        if (_height is not null && height.Height <= _height.Height)
        {
            throw new InvalidOperationException($"heights only go up: the engine is at {_height.Height}, asked to start {height.Height}");
        }

        Begin(now);
        ResetHeight(height);
        _round = 0;
        _roundShared = true;
        _idle = awaitWork;
        if (!awaitWork)
        {
            BeginRoundZero();
        }

        ReplayFutureMessages();
        return Finish();
    }

    /// <summary>The node has work (transactions in its mempool): a height waiting for it starts round 0.</summary>
    public ConsensusOutput WorkAvailable(DateTimeOffset now)
    {
        RequireStarted();
        Begin(now);
        Wake();
        return Finish();
    }

    /// <summary>
    /// The block the node built for <see cref="ConsensusOutput.BuildRequest"/> (null: none). Ignored when it is no longer
    /// wanted (the round moved on, or a proposal for it exists); proposed otherwise, with the justification of the moment.
    /// </summary>
    public ConsensusOutput OnBlockBuilt(ProposedBlock? block, DateTimeOffset now)
    {
        RequireStarted();
        Begin(now);
        if (block is not null && !_decided && block.Height == _height!.Height && block.Round == _round && _buildRequested == _round)
        {
            CheckBuilt(block);
            ProposeForCurrentRound(block);
        }

        return Finish();
    }

    /// <summary>
    /// The node's verdict on a block of <see cref="ConsensusOutput.ValidationRequests"/>. A valid block's proposal is
    /// accepted (moving to its round if later) and PREPAREd; an invalid one is remembered so a resent copy is not
    /// re-executed. A verdict for a proposal no longer pending (round left, height decided) changes nothing.
    /// </summary>
    public ConsensusOutput OnBlockValidated(ProposalMessage proposal, BlockVerdict verdict, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        RequireStarted();
        Begin(now);
        if (!_decided && proposal.Height == _height!.Height && _validating.TryGetValue(proposal.Round, out var pending) && pending.BlockHash == proposal.BlockHash)
        {
            _validating.Remove(proposal.Round);
            OnValidated(pending, verdict);
        }

        return Finish();
    }

    /// <summary>
    /// Starts <paramref name="height"/> after a restart: when the journal is for this height, resumes its round with its
    /// prepared certificate and its votes (which are sent again, unchanged); otherwise starts the height afresh.
    /// </summary>
    public ConsensusOutput Restore(ConsensusHeight height, ConsensusJournalState? journal, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(height);
        if (journal is null || journal.Height < height.Height)
        {
            return StartHeight(height, now);
        }

        if (journal.Height > height.Height)
        {
            throw new InvalidOperationException(
                $"the consensus journal is at height {journal.Height} but the chain's next height is {height.Height}: committed blocks are missing from the store");
        }

        Begin(now);
        ResetHeight(height);
        _round = journal.Round;
        _idle = false;
        _lastPrepared = journal.LastPrepared;
        _roundDeadline = now + _parameters.RoundTimeout(_round);
        var state = RoundAt(_round);
        if (journal.AcceptedProposal is { } accepted && accepted.Height == height.Height && accepted.Round == _round)
        {
            state.Proposal = accepted;
        }

        foreach (var sent in journal.Sent)
        {
            if (sent.Height != height.Height || sent.Round != _round || sent.Sender != Self)
            {
                continue;
            }

            switch (sent)
            {
                case ProposalMessage proposal:
                    state.SentProposal = proposal;
                    state.Proposal ??= proposal;
                    break;
                case PrepareMessage prepare:
                    state.Prepares[Self] = prepare;
                    break;
                case CommitMessage commit:
                    state.Commits[Self] = commit;
                    break;
                case RoundChangeMessage roundChange:
                    _sentRoundChange = roundChange;
                    StoreRoundChange(roundChange);
                    break;
            }

            _output.Send(sent);
        }

        _roundShared = IsRoundShared(_round);
        CheckPrepared();
        TryDecide(_round);
        CheckProposerDuty();
        ReplayFutureMessages();
        return Finish();
    }

    /// <summary>Processes one message from another validator.</summary>
    public ConsensusOutput Handle(ConsensusMessage message, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(message);
        RequireStarted();
        Begin(now);
        Dispatch(message);
        return Finish();
    }

    /// <summary>Advances time: builds a delayed proposal, or ends a round whose timer ran out.</summary>
    public ConsensusOutput Tick(DateTimeOffset now)
    {
        RequireStarted();
        Begin(now);
        if (!_decided && !_idle)
        {
            if (_buildAt is { } at && now >= at)
            {
                _buildAt = null;
                CheckProposerDuty();
            }

            if (!_decided && now >= _roundDeadline)
            {
                OnRoundTimeout();
            }
        }

        return Finish();
    }

    /// <summary>Round 0 begins: not before the parent's time plus the block period; the proposer builds then.</summary>
    private void BeginRoundZero()
    {
        var start = DateTimeOffset.FromUnixTimeMilliseconds(_height!.ParentTimestampMs) + _parameters.BlockPeriod;
        if (start < _now)
        {
            start = _now;
        }

        _roundDeadline = start + _parameters.RoundTimeout(0);
        _buildAt = start > _now ? start : null;
        CheckProposerDuty();
    }

    /// <summary>A height waiting for work starts: this node has work, or another validator's message shows it has.</summary>
    private void Wake()
    {
        if (_idle && !_decided)
        {
            _idle = false;
            if (_round == 0)
            {
                BeginRoundZero();
            }
        }
    }

    private void Begin(DateTimeOffset now)
    {
        _now = now;
        _output = new ConsensusOutput();
    }

    private ConsensusOutput Finish()
    {
        if (_journalDirty && _height is not null && _isValidator)
        {
            _output.Journal = Snapshot();
        }

        _journalDirty = false;
        _output.WakeAt = WakeAt;
        var output = _output;
        _output = new ConsensusOutput();
        return output;
    }

    private void RequireStarted()
    {
        if (_height is null)
        {
            throw new InvalidOperationException("start a height first (StartHeight or Restore)");
        }
    }

    private void ResetHeight(ConsensusHeight height)
    {
        _height = height;
        _isValidator = height.Validators.Contains(Self);
        _rounds.Clear();
        _roundChanges.Clear();
        _validating.Clear();
        _buildRequested = -1;
        _decided = false;
        _lastPrepared = null;
        _sentRoundChange = null;
        _buildAt = null;
        _journalDirty = false;
    }

    private ConsensusJournalState Snapshot()
    {
        var sent = ImmutableArray.CreateBuilder<ConsensusMessage>(4);
        ProposalMessage? accepted = null;
        if (_rounds.TryGetValue(_round, out var state))
        {
            accepted = state.Proposal;
            if (state.SentProposal is { } proposal)
            {
                sent.Add(proposal);
            }

            if (state.Prepares.TryGetValue(Self, out var prepare))
            {
                sent.Add(prepare);
            }

            if (state.Commits.TryGetValue(Self, out var commit))
            {
                sent.Add(commit);
            }
        }

        if (_sentRoundChange is { } roundChange && roundChange.Round == _round)
        {
            sent.Add(roundChange);
        }

        return new ConsensusJournalState(_height!.Height, _round, _lastPrepared, accepted, sent.ToImmutable());
    }

    private RoundState RoundAt(int round)
    {
        if (!_rounds.TryGetValue(round, out var state))
        {
            state = new RoundState();
            _rounds[round] = state;
        }

        return state;
    }

    private void Reject(ConsensusMessage message, ConsensusRejectionCode code, string reason)
        => _output.Reject(new ConsensusRejection(code, message.Kind, message.Sender, message.Height, message.Round, reason));

    private void ReportSync(long target)
    {
        if (target > _reportedSyncTarget)
        {
            _reportedSyncTarget = target;
            _output.SyncTarget = target;
        }
    }

    /// <summary>What a validator knows about one round of the current height.</summary>
    private sealed class RoundState
    {
        /// <summary>The one proposal accepted in this round.</summary>
        public ProposalMessage? Proposal { get; set; }

        /// <summary>The proposal this validator sent as the round's proposer.</summary>
        public ProposalMessage? SentProposal { get; set; }

        /// <summary>The block hash of the last proposal that failed validation, so a resent copy is not re-executed.</summary>
        public Hash256? RejectedBlock { get; set; }

        /// <summary>The first PREPARE of each sender (this validator's own included).</summary>
        public Dictionary<Address, PrepareMessage> Prepares { get; } = [];

        /// <summary>The first COMMIT of each sender (this validator's own included).</summary>
        public Dictionary<Address, CommitMessage> Commits { get; } = [];
    }
}
