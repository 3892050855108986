using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.Consensus.Simulation;

/// <summary>
/// The invariants checked after every step of a run (CONSENSUS-NOTES §5), each violation a line of text:
/// <list type="bullet">
/// <item>agreement: no two honest nodes commit different blocks at one height;</item>
/// <item>validity: every block an honest node commits carries a certificate of a quorum of distinct seals of V_h — the
/// set in force at its height, which the checker derives itself from the decided blocks (a set change in block h
/// takes effect at h+1) — and re-executes on its parent;</item>
/// <item>one decision per (node, height): a node never commits a height twice nor decides one it already has;</item>
/// <item>no honest double vote: one PROPOSAL/PREPARE/COMMIT/ROUND-CHANGE content per (validator, height, round);</item>
/// <item>the lock: once a block is decided in round r, every honest PREPARE at a later round of that height is for it;</item>
/// <item>bounded state: every honest engine's buffers stay within their bounds.</item>
/// </list>
/// </summary>
internal sealed class SafetyChecker(SimulationWorld world)
{
    private readonly Dictionary<long, (Hash256 Hash, int Round, int Node)> _decided = [];
    private readonly Dictionary<long, SimulatedState> _states = new() { [0] = world.GenesisState };
    private readonly Dictionary<(Address Sender, long Height, int Round, ConsensusMessageKind Kind), Hash256> _votes = [];
    private readonly Dictionary<long, List<(int Round, Hash256 Hash, int Node)>> _prepares = [];
    private readonly List<string> _violations = [];

    public IReadOnlyList<string> Violations => _violations;

    public int DecidedHeights => _decided.Count;

    /// <summary>Set changes in the decided chain, and the height of the block with the last one.</summary>
    public int SetChangesApplied { get; private set; }

    public long LastSetChangeHeight { get; private set; }

    /// <summary>Decided blocks built by a validator that was voted in (not in the genesis set).</summary>
    public int BlocksByAddedValidators { get; private set; }

    public void Violation(string text)
    {
        if (_violations.Count < 20)
        {
            _violations.Add($"t={world.NowMs} ms: {text}");
        }
    }

    /// <summary>An honest instance sends a message its engine produced.</summary>
    public void OnSent(int node, ConsensusMessage message)
    {
        var fingerprint = message switch
        {
            ProposalMessage p => p.BlockHash,
            PrepareMessage p => p.BlockHash,
            CommitMessage c => c.BlockHash,
            RoundChangeMessage rc => RoundChangeFingerprint(rc.Payload),
            _ => throw new InvalidOperationException("unknown message"),
        };
        var key = (message.Sender, message.Height, message.Round, message.Kind);
        if (_votes.TryGetValue(key, out var earlier))
        {
            if (earlier != fingerprint)
            {
                Violation($"honest double vote: node {node} sent two different {message.Kind}s for {message.Height}/{message.Round}");
            }
        }
        else
        {
            _votes[key] = fingerprint;
        }

        if (message is PrepareMessage prepare)
        {
            if (!_prepares.TryGetValue(prepare.Height, out var list))
            {
                list = [];
                _prepares[prepare.Height] = list;
            }

            list.Add((prepare.Round, prepare.BlockHash, node));
            if (_decided.TryGetValue(prepare.Height, out var decided) && prepare.Round > decided.Round && prepare.BlockHash != decided.Hash)
            {
                Violation($"lock broken: node {node} prepared {prepare.BlockHash} in {prepare.Height}/{prepare.Round} after {decided.Hash} was decided in round {decided.Round}");
            }
        }
    }

    /// <summary>An honest instance commits a block to its chain (decided by its engine or fetched by catch-up).</summary>
    public void OnCommit(int node, SimulatedLedger ledger, CommittedBlock committed)
    {
        var block = committed.Block;
        var certificate = committed.Certificate;
        if (!_states.TryGetValue(block.Height - 1, out var before))
        {
            Violation($"validity: node {node} committed height {block.Height} before any node committed {block.Height - 1}");
            return;
        }

        // The set in force at this height, as the checker derived it from the decided chain, not as the node holds it.
        var validators = before.Validators;
        var verdict = certificate.Verify(block.Header, validators, world.DomainSeparator, world.Curve);
        if (!verdict.IsValid || certificate.Seals.Length < validators.Quorum)
        {
            Violation($"validity: node {node} committed {block} with a bad certificate for the set in force at {block.Height} ({validators.Count} validators): {verdict.Reason}");
        }

        var parent = block.Height == 1 ? world.Genesis : ledger.At(block.Height - 1)?.Block.Header;
        if (parent is null || SimulatedExecution.Check(parent, block, validators, before, world.Rules, Math.Max(world.NowMs, block.Header.TimestampMs)) is { } problem)
        {
            Violation($"validity: node {node} committed an invalid {block}");
        }

        if (_decided.TryGetValue(block.Height, out var decided))
        {
            if (decided.Hash != block.Hash)
            {
                Violation($"agreement: node {node} committed {block.Hash} at height {block.Height}, node {decided.Node} committed {decided.Hash}");
            }

            if (certificate.Round < decided.Round)
            {
                _decided[block.Height] = (block.Hash, certificate.Round, node);
                CheckLock(block.Height);
            }

            return;
        }

        _decided[block.Height] = (block.Hash, certificate.Round, node);
        var after = world.Rules.Apply(before, block, out _) ?? before;
        _states[block.Height] = after;
        if (after.ChangesApplied > before.ChangesApplied)
        {
            SetChangesApplied = after.ChangesApplied;
            LastSetChangeHeight = block.Height;
        }

        if (!world.GenesisValidators.Contains(block.Header.Proposer))
        {
            BlocksByAddedValidators++;
        }

        CheckLock(block.Height);
    }

    /// <summary>Bounds on what an honest engine keeps, checked after each of its steps.</summary>
    public void CheckBounds(int node, QbftEngine engine)
    {
        var parameters = engine.Parameters;
        if (engine.BufferedFutureMessages > parameters.MaxFutureMessages)
        {
            Violation($"bounds: node {node} buffers {engine.BufferedFutureMessages} future messages (max {parameters.MaxFutureMessages})");
        }

        if (engine.StoredRoundChanges > (engine.CurrentHeight?.ValidatorCount ?? 0) * parameters.MaxRoundChangesPerSender)
        {
            Violation($"bounds: node {node} keeps {engine.StoredRoundChanges} round changes");
        }

        if (engine.RetainedRounds > parameters.RetainedPastRounds + parameters.FutureRoundWindow + 1)
        {
            Violation($"bounds: node {node} keeps state for {engine.RetainedRounds} rounds");
        }
    }

    private void CheckLock(long height)
    {
        var decided = _decided[height];
        if (!_prepares.TryGetValue(height, out var prepares))
        {
            return;
        }

        foreach (var (round, hash, node) in prepares)
        {
            if (round > decided.Round && hash != decided.Hash)
            {
                Violation($"lock broken: node {node} prepared {hash} in {height}/{round}, but {decided.Hash} was decided in round {decided.Round}");
            }
        }
    }

    private static Hash256 RoundChangeFingerprint(in QbftRoundChange payload)
    {
        Span<byte> bytes = stackalloc byte[37];
        bytes[0] = payload.Prepared ? (byte)1 : (byte)0;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes[1..], payload.PreparedRound);
        payload.PreparedBlockHash.CopyTo(bytes[5..]);
        return Keccak256.Hash(bytes);
    }
}
