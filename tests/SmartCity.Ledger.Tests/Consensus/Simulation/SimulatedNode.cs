using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.Consensus.Simulation;

/// <summary>
/// One simulated validator process: the production engine driven as the node drives it (persist the journal, then
/// send; commit a decision after checking it, then start the next height; catch up when told to; tick when asked),
/// its chain and journal surviving crashes. A Byzantine instance runs the same engine and corrupts what it sends.
/// </summary>
internal sealed class SimulatedNode
{
    private const long NoWake = long.MinValue;
    private const int ReplayMemory = 256;

    private readonly SimulationWorld _world;
    private readonly List<ConsensusMessage> _received = [];
    private readonly HashSet<(long Height, int Round)> _nonMemberVotes = [];
    private long _scheduledWake = NoWake;
    private long _syncWanted;
    private bool _syncRetryPending;
    private byte[]? _journal;
    private Hash256? _alternative;
    private bool _started;

    public SimulatedNode(SimulationWorld world, int index)
    {
        _world = world;
        Index = index;
        Validator = world.Scenario.InstanceValidator[index];
        Behaviour = world.Scenario.Byzantine.GetValueOrDefault(Validator);
        IsHonest = world.Scenario.IsHonestInstance(index);
        Signer = new InMemorySigner(world.Keys[Validator], world.Curve);
        Crypto = new Eip712ConsensusCrypto(world.DomainSeparator, new SignatureBatchVerifier(world.Curve, new VerifiedSignatureCache(1_024), maxDegreeOfParallelism: 1));
        Ledger = new SimulatedLedger(world, index) { BuildInvalidBlocks = Behaviour.HasFlag(Misbehaviour.InvalidBlocks) };
    }

    public int Index { get; }

    public int Validator { get; }

    public Misbehaviour Behaviour { get; }

    public bool IsHonest { get; }

    public bool IsUp { get; private set; }

    public QbftEngine? Engine { get; private set; }

    public SimulatedLedger Ledger { get; }

    public ISigner Signer { get; }

    public IConsensusCrypto Crypto { get; }

    /// <summary>Die at the next output with messages, after saving its journal and before sending anything.</summary>
    public bool CrashAtNextSend { get; set; }

    private bool WireFormat => _world.Scenario.Options.RealCrypto || _world.Scenario.Seed % 4 == 0;

    public void Start()
    {
        _started = true;
        IsUp = true;
        Engine = NewEngine();
        StartNextHeight();
    }

    /// <summary>The process dies: memory lost; chain and journal (its disk) kept.</summary>
    public void Crash()
    {
        if (!IsUp)
        {
            return;
        }

        IsUp = false;
        Engine = null;
        _scheduledWake = NoWake;
        _syncWanted = 0;
        _syncRetryPending = false;
        _received.Clear();
    }

    public void Restart()
    {
        if (IsUp)
        {
            return;
        }

        IsUp = true;
        Engine = NewEngine();
        ConsensusJournalState? journal = null;
        if (_journal is not null && !_world.Scenario.Options.ForgetJournalOnRestart)
        {
            if (!ConsensusCodec.TryDecodeJournal(_journal, out journal, out var error))
            {
                _world.Checker.Violation($"node {Index} cannot read its journal: {error}");
                return;
            }
        }

        Apply(Engine.Restore(Ledger.NextHeight(), journal, _world.Now));
        if (!_started)
        {
            // A validator that was not running yet (voted in, or about to be): it fetches the chain at start-up, as the
            // node does, then follows as an observer until the set it is in takes effect.
            _started = true;
            _world.TraceLine($"node {Index} starts for the first time and asks its peers for blocks from {Ledger.HeadHeight + 1}");
            _world.Broadcast(Index, new SyncRequest(Ledger.HeadHeight + 1));
        }
    }

    public void Deliver(int from, object content)
    {
        if (!IsUp || Engine is null)
        {
            return;
        }

        switch (content)
        {
            case ConsensusMessage message:
                if (WireFormat && !RoundTrip(ref message))
                {
                    return;
                }

                if (Behaviour.HasFlag(Misbehaviour.Replay))
                {
                    _received.Add(message);
                    if (_received.Count > ReplayMemory)
                    {
                        _received.RemoveAt(0);
                    }
                }

                Apply(Engine.Handle(message, _world.Now));
                if (_world.Scenario.NonMembersVote && message is ProposalMessage proposal)
                {
                    VoteAsNonMember(proposal);
                }

                break;
            case SyncRequest request:
                AnswerSync(from, request);
                break;
            case SyncResponse response:
                ApplySync(response);
                break;
        }
    }

    public void OnTimer(long atMs)
    {
        if (!IsUp || Engine is null || atMs != _scheduledWake)
        {
            return;
        }

        _scheduledWake = NoWake;
        Apply(Engine.Tick(_world.Now));
    }

    public void OnSyncRetry()
    {
        _syncRetryPending = false;
        if (IsUp && Ledger.HeadHeight < _syncWanted)
        {
            RequestSync();
        }
    }

    /// <summary>The node's answer to the engine's build or validation request, if the engine that asked still runs.</summary>
    public void OnBlockWork(object work)
    {
        if (!IsUp || Engine is null || work is not BlockWork(var engine, var request) || engine != Engine)
        {
            return;
        }

        switch (request)
        {
            case ProposalRequest build:
                // As the runtime does: no block for a height that is not the next one.
                var block = build.Height.Height == Ledger.HeadHeight + 1 ? Ledger.Build(build) : null;
                Apply(Engine.OnBlockBuilt(block, _world.Now));
                break;
            case ProposalMessage proposal:
                Apply(Engine.OnBlockValidated(proposal, Ledger.Validate(proposal.Block, _world.Now), _world.Now));
                break;
        }
    }

    /// <summary>Transactions reached this node: a height waiting for work starts.</summary>
    public void OnWork(object token)
    {
        if (IsUp && Engine is not null && token is BlockWork(var engine, long height) && engine == Engine && Engine.Height == height)
        {
            Apply(Engine.WorkAvailable(_world.Now));
        }
    }

    /// <summary>
    /// A key outside the set in force (removed, or not yet added) signs a PREPARE, a COMMIT with a valid seal and a
    /// ROUND-CHANGE for a proposal it sees, as a removed validator that missed its removal would. Every engine must
    /// ignore them: counted, the COMMIT's seal would land in a certificate the set in force does not accept.
    /// </summary>
    private void VoteAsNonMember(ProposalMessage proposal)
    {
        if (Engine?.CurrentHeight is not { } height || proposal.Height != height.Height || height.Validators.Contains(Signer.Address))
        {
            return;
        }

        _nonMemberVotes.RemoveWhere(v => v.Height < height.Height);
        if (!_nonMemberVotes.Add((proposal.Height, proposal.Round)))
        {
            return;
        }

        _world.TraceLine($"node {Index} (not a validator of {height.Height}) votes for {proposal.Height}/{proposal.Round} anyway");
        _world.Broadcast(Index, ConsensusSigning.Prepare(Crypto, Signer, proposal.Height, proposal.Round, proposal.BlockHash));
        _world.Broadcast(Index, ConsensusSigning.Commit(Crypto, Signer, proposal.Height, proposal.Round, proposal.BlockHash));
        _world.Broadcast(Index, ConsensusSigning.RoundChange(Crypto, Signer, proposal.Height, proposal.Round + 1, null));
    }

    private QbftEngine NewEngine() => new(_world.Scenario.Parameters, Signer, Crypto);

    private void StartNextHeight()
    {
        var height = Ledger.NextHeight();
        Apply(Engine!.StartHeight(height, _world.Now, awaitWork: _world.Scenario.AwaitWork));
        if (_world.Scenario.AwaitWork)
        {
            _world.ScheduleWork(Index, new BlockWork(Engine, height.Height));
        }
    }

    /// <summary>The driver's contract (<see cref="ConsensusOutput"/>): journal first, then messages, decision, catch-up, timer.</summary>
    private void Apply(ConsensusOutput output)
    {
        if (output.Journal is { } journal)
        {
            _journal = ConsensusCodec.EncodeJournal(journal);
        }

        if (CrashAtNextSend && output.Messages.Count > 0)
        {
            _world.TraceLine($"node {Index} crashes between saving its journal and sending");
            CrashAtNextSend = false;
            Crash();
            return;
        }

        if (_world.Scenario.Options.Trace)
        {
            foreach (var rejection in output.Rejections)
            {
                _world.TraceLine($"node {Index} rejects {rejection}");
            }

            foreach (var message in output.Messages)
            {
                _world.TraceLine($"node {Index} sends {Describe(message)}");
            }
        }

        foreach (var message in output.Messages)
        {
            if (IsHonest)
            {
                _world.Checker.OnSent(Index, message);
            }

            SendOut(message);
        }

        if (output.Decision is { } decision && Engine is not null)
        {
            OnDecision(decision);
        }

        if (output.SyncTarget is { } target)
        {
            WantSync(target);
        }

        if (Engine is { } engine)
        {
            if (output.BuildRequest is { } request)
            {
                _world.ScheduleBlockWork(Index, new BlockWork(engine, request));
            }

            foreach (var proposal in output.ValidationRequests)
            {
                _world.ScheduleBlockWork(Index, new BlockWork(engine, proposal));
            }
        }

        ScheduleWake();
    }

    private void OnDecision(ConsensusDecision decision)
    {
        var block = decision.Block;
        if (block.Height != Ledger.HeadHeight + 1)
        {
            Flag($"node {Index} decided height {block.Height} with its chain at {Ledger.HeadHeight}: a second decision");
            return;
        }

        if (Ledger.CheckCertified(block, decision.Certificate, _world.NowMs) is { } problem)
        {
            Flag($"node {Index} decided {block} it cannot commit: {problem}");
            return;
        }

        _world.TraceLine($"node {Index} decides {block} in round {decision.Certificate.Round}");
        Commit(new CommittedBlock(block, decision.Certificate));
        StartNextHeight();
    }

    private void Commit(CommittedBlock committed)
    {
        var before = Ledger.State;
        Ledger.Append(committed.Block, committed.Certificate);
        if (Ledger.State != before)
        {
            _world.TraceLine($"node {Index}: block {committed.Block.Height} applies set change {before.ChangesApplied}; "
                + $"{Ledger.State.Validators.Count} validators from height {committed.Block.Height + 1}"
                + (Ledger.State.Validators.Contains(Signer.Address) ? string.Empty : " (this node is not one of them)"));
        }
        if (IsHonest)
        {
            _world.Checker.OnCommit(Index, Ledger, committed);
        }
    }

    private void Flag(string violation)
    {
        if (IsHonest)
        {
            _world.Checker.Violation(violation);
        }
    }

    private void ScheduleWake()
    {
        if (Engine?.WakeAt is not { } wake)
        {
            _scheduledWake = NoWake;
            return;
        }

        var ms = (long)Math.Ceiling((wake - _world.Now).TotalMilliseconds) + _world.NowMs;
        if (ms != _scheduledWake)
        {
            _scheduledWake = ms;
            _world.ScheduleTimer(Index, ms);
        }
    }

    private bool RoundTrip(ref ConsensusMessage message)
    {
        var bytes = ConsensusCodec.Encode(message);
        if (!ConsensusCodec.TryDecode(bytes, out var decoded, out var error) || !ConsensusCodec.Encode(decoded).AsSpan().SequenceEqual(bytes))
        {
            _world.Checker.Violation($"codec: a {message.Kind} does not survive encoding: {error}");
            return false;
        }

        message = decoded;
        return true;
    }

    private void WantSync(long target)
    {
        if (target <= _syncWanted)
        {
            return;
        }

        _syncWanted = target;
        if (Ledger.HeadHeight < target)
        {
            RequestSync();
        }
    }

    private void RequestSync()
    {
        var peer = _world.Random.Next(_world.Nodes.Length - 1);
        _world.Send(Index, peer >= Index ? peer + 1 : peer, new SyncRequest(Ledger.HeadHeight + 1));
        if (!_syncRetryPending)
        {
            _syncRetryPending = true;
            _world.ScheduleSyncRetry(Index);
        }
    }

    private void AnswerSync(int requester, SyncRequest request)
    {
        var blocks = new List<CommittedBlock>();
        for (var height = request.FromHeight; height < request.FromHeight + 16 && Ledger.At(height) is { } committed; height++)
        {
            blocks.Add(committed);
        }

        if (blocks.Count == 0)
        {
            return;
        }

        if (Behaviour.HasFlag(Misbehaviour.BadSync))
        {
            blocks[0] = Tamper(blocks[0]);
        }

        _world.Send(Index, requester, new SyncResponse(blocks));
    }

    /// <summary>What a lying peer serves: too few seals, a seal by itself for another block, or another block under the certificate.</summary>
    private CommittedBlock Tamper(CommittedBlock committed)
    {
        var (block, certificate) = (committed.Block, committed.Certificate);
        switch (_world.Random.Next(3))
        {
            case 0:
                return committed with { Certificate = certificate with { Seals = certificate.Seals.RemoveAt(0) } };
            case 1:
                var forged = Signer.Sign(Crypto.SealDigest(RandomHash(), block.Height, certificate.Round));
                return committed with { Certificate = certificate with { Seals = certificate.Seals.SetItem(0, forged) } };
            default:
                byte[] extra = [SimulatedExecution.ValidTransactionMarker, 0xEE];
                return committed with { Block = new ProposedBlock(block.Header, block.Transactions.Add(extra)) };
        }
    }

    private void ApplySync(SyncResponse response)
    {
        var advanced = false;
        foreach (var committed in response.Blocks)
        {
            if (committed.Block.Height <= Ledger.HeadHeight)
            {
                continue;
            }

            if (committed.Block.Height != Ledger.HeadHeight + 1)
            {
                break;
            }

            if (Ledger.CheckCertified(committed.Block, committed.Certificate, _world.NowMs) is { } problem)
            {
                _world.TraceLine($"node {Index} refuses a fetched block: {problem}");
                break;
            }

            Commit(committed);
            advanced = true;
        }

        if (advanced && Engine is not null && Engine.Height <= Ledger.HeadHeight)
        {
            _world.TraceLine($"node {Index} caught up to {Ledger.HeadHeight}");
            StartNextHeight();
        }
    }

    private void SendOut(ConsensusMessage message)
    {
        if (IsHonest || Behaviour == Misbehaviour.None)
        {
            _world.Broadcast(Index, message);
            return;
        }

        if (Behaviour.HasFlag(Misbehaviour.Silent))
        {
            return;
        }

        ConsensusMessage? other = message switch
        {
            ProposalMessage proposal when Behaviour.HasFlag(Misbehaviour.Equivocate) => Equivocation(proposal),
            PrepareMessage prepare when Behaviour.HasFlag(Misbehaviour.DoubleVote) =>
                ConsensusSigning.Prepare(Crypto, Signer, prepare.Height, prepare.Round, _alternative ?? RandomHash()),
            CommitMessage commit when Behaviour.HasFlag(Misbehaviour.DoubleVote) =>
                ConsensusSigning.Commit(Crypto, Signer, commit.Height, commit.Round, _alternative ?? RandomHash()),
            PrepareMessage prepare when Behaviour.HasFlag(Misbehaviour.InvalidBlocks) =>
                ConsensusSigning.Prepare(Crypto, Signer, prepare.Height, prepare.Round, RandomHash()),
            _ => null,
        };

        if (other is null)
        {
            _world.Broadcast(Index, message);
            return;
        }

        // Half the peers get one version, the rest the other.
        for (var to = 0; to < _world.Nodes.Length; to++)
        {
            if (to != Index)
            {
                _world.Send(Index, to, _world.Random.Next(2) == 0 ? message : other);
            }
        }
    }

    private ProposalMessage Equivocation(ProposalMessage proposal)
    {
        var request = new ProposalRequest(Engine!.CurrentHeight!, proposal.Round, Signer.Address, _world.Now);
        var block = Ledger.BuildAlternative(request);
        _alternative = block.Hash;
        return ConsensusSigning.Proposal(Crypto, Signer, proposal.Round, block, proposal.RoundChanges, proposal.Prepares);
    }

    /// <summary>Replays old messages and sends forgeries that honest engines must reject.</summary>
    public void OnByzantineTick()
    {
        if (!IsUp || Engine?.CurrentHeight is not { } height)
        {
            return;
        }

        if (Behaviour.HasFlag(Misbehaviour.Replay) && _received.Count > 0)
        {
            for (var i = _world.Random.Next(1, 4); i > 0; i--)
            {
                var to = _world.Random.Next(_world.Nodes.Length);
                if (to != Index)
                {
                    _world.Send(Index, to, _received[_world.Random.Next(_received.Count)]);
                }
            }
        }

        if (Behaviour.HasFlag(Misbehaviour.Forge))
        {
            _world.Broadcast(Index, Forgery(height, Engine.Round));
        }
    }

    private ConsensusMessage Forgery(ConsensusHeight height, int round)
    {
        var validators = height.Validators;
        var victim = validators.Members[_world.Random.Next(validators.Count)];
        var hash = RandomHash();
        switch (_world.Random.Next(6))
        {
            case 5:
                // A COMMIT whose seal carries the raw recovery id (v = 0/1): it recovers, but would spoil a certificate.
                var own = Signer.Sign(Crypto.SealDigest(hash, height.Height, round));
                return ConsensusSigning.Commit(Crypto, Signer, height.Height, round, hash, new Signature(own.R, own.S, (byte)(own.V - 27)));
            case 0:
                // Another validator's address under this validator's signature.
                var prepare = ConsensusSigning.Prepare(Crypto, Signer, height.Height, round, hash);
                return new PrepareMessage(prepare.Payload, victim, prepare.Signature);
            case 1:
                // Garbage signature bytes.
                Span<byte> garbage = stackalloc byte[Signature.Size];
                _world.Random.NextBytes(garbage);
                var signature = new Signature(garbage);
                return new CommitMessage(new QbftCommit(height.Height, round, hash, signature), victim, signature);
            case 2:
                // A proper COMMIT whose seal is for another block.
                var seal = Signer.Sign(Crypto.SealDigest(RandomHash(), height.Height, round));
                return ConsensusSigning.Commit(Crypto, Signer, height.Height, round, hash, seal);
            case 3:
                // A proposal in the name of the round's proposer.
                var block = Ledger.BuildAlternative(new ProposalRequest(height, round, height.ProposerFor(round), _world.Now));
                var proposal = ConsensusSigning.Proposal(Crypto, Signer, round, block, [], []);
                return new ProposalMessage(proposal.Payload, height.ProposerFor(round), proposal.Signature, block, [], []);
            default:
                // A ROUND-CHANGE claiming a prepared block, with PREPAREs it signed in others' names.
                var claimed = Ledger.BuildAlternative(new ProposalRequest(height, round, Signer.Address, _world.Now));
                var prepares = validators.Members.Take(validators.Quorum)
                    .Select(v => ConsensusSigning.Prepare(Crypto, Signer, height.Height, round, claimed.Hash))
                    .Select((p, i) => new PrepareMessage(p.Payload, validators.Members[i], p.Signature))
                    .ToList();
                var roundChange = ConsensusSigning.RoundChange(Crypto, Signer, height.Height, round + 1,
                    new PreparedCertificate(round, claimed, [.. prepares]));
                return roundChange;
        }
    }

    private static string Describe(ConsensusMessage message) => message switch
    {
        ProposalMessage p => $"PROPOSAL {p.Height}/{p.Round} {p.BlockHash.ToString()[..10]} (block round {p.Block.Round}, {p.RoundChanges.Length} RCs, {p.Prepares.Length} prepares)",
        PrepareMessage p => $"PREPARE {p.Height}/{p.Round} {p.BlockHash.ToString()[..10]}",
        CommitMessage c => $"COMMIT {c.Height}/{c.Round} {c.BlockHash.ToString()[..10]}",
        RoundChangeMessage rc => $"ROUND-CHANGE {rc.Height}/{rc.Round} prepared={rc.Payload.Prepared}/{rc.Payload.PreparedRound}",
        _ => message.Kind.ToString(),
    };

    private Hash256 RandomHash()
    {
        Span<byte> bytes = stackalloc byte[32];
        _world.Random.NextBytes(bytes);
        return new Hash256(bytes);
    }
}

/// <summary>A request of one engine instance (a restarted node's new engine ignores its predecessor's answers).</summary>
internal sealed record BlockWork(QbftEngine Engine, object Request);
