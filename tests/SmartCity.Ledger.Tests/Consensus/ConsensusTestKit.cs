using System.Collections.Immutable;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.Ledger.Tests.Consensus;

/// <summary>
/// Four validators with real secp256k1 keys (sorted by address, so <c>Signers[i]</c> is member i of the set and the
/// proposer of round i at height 1), the consortium's EIP-712 crypto, a parent block, and helpers that sign any
/// message a test needs — honest or not.
/// </summary>
internal sealed class ConsensusTestKit
{
    public ConsensusTestKit(int validators = 4)
    {
        var signers = Enumerable.Range(0, validators)
            .Select(i => new InMemorySigner(Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes($"validator {i}")).ToArray(), Curve))
            .OrderBy(s => s.Address)
            .ToArray();
        Signers = signers;
        Validators = new ValidatorSet(signers.Select(s => s.Address));
        Parent = new BlockHeader(8610, 0, Hash256.Zero, Start.ToUnixTimeMilliseconds() - 1_000, Address.Zero, 0, 0,
            Keccak256.Hash("tx"u8), Keccak256.Hash("state"u8), 0, Keccak256.Hash("history"u8), Validators.Hash);
        Height = new ConsensusHeight(1, Validators, Parent.Hash, Parent.TimestampMs, Address.Zero);
    }

    public static ISecp256k1 Curve { get; } = Secp256k1.Default;

    public static DateTimeOffset Start { get; } = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    public Hash256 Domain { get; } = new Eip712Domain("SmartCity.Ledger", "1", 8610).Separator;

    public IConsensusCrypto Crypto => new Eip712ConsensusCrypto(Domain, new SignatureBatchVerifier(Curve));

    public InMemorySigner[] Signers { get; }

    public ValidatorSet Validators { get; }

    public BlockHeader Parent { get; }

    public ConsensusHeight Height { get; }

    public TestBlocks Blocks { get; } = new();

    public QbftParameters Parameters { get; set; } = new()
    {
        BaseRoundTimeout = TimeSpan.FromSeconds(1),
        MaxRoundTimeout = TimeSpan.FromSeconds(8),
    };

    public int Quorum => Validators.Quorum;

    public QbftEngine Engine(int validator) => new(Parameters, Signers[validator], Crypto);

    /// <summary>An engine for validator <paramref name="validator"/>, started at height 1.</summary>
    public (QbftEngine Engine, ConsensusOutcome Output) Started(int validator)
    {
        var engine = Engine(validator);
        return (engine, Drive(engine, engine.StartHeight(Height, Start), Start));
    }

    public ConsensusOutcome Handle(QbftEngine engine, ConsensusMessage message, DateTimeOffset now) => Drive(engine, engine.Handle(message, now), now);

    public ConsensusOutcome Tick(QbftEngine engine, DateTimeOffset now) => Drive(engine, engine.Tick(now), now);

    public ConsensusOutcome Begin(QbftEngine engine, ConsensusHeight height, DateTimeOffset now) => Drive(engine, engine.StartHeight(height, now), now);

    /// <summary>Answers the engine's build and validation requests at once, as a node would, and gathers everything it output.</summary>
    public ConsensusOutcome Drive(QbftEngine engine, ConsensusOutput output, DateTimeOffset now)
    {
        var outcome = new ConsensusOutcome();
        var pending = new Queue<ConsensusOutput>([output]);
        while (pending.TryDequeue(out var next))
        {
            outcome.Add(next);
            if (next.BuildRequest is { } request)
            {
                pending.Enqueue(engine.OnBlockBuilt(Blocks.Build(request), now));
            }

            foreach (var proposal in next.ValidationRequests)
            {
                pending.Enqueue(engine.OnBlockValidated(proposal, Blocks.Validate(proposal.Block, now), now));
            }
        }

        return outcome;
    }

    /// <summary>A fresh block of height 1 built in <paramref name="round"/> by validator <paramref name="proposer"/>.</summary>
    public ProposedBlock Block(int round, int proposer, string content = "")
        => TestBlocks.Make(Height, round, Signers[proposer].Address, Start, content);

    public ProposalMessage Proposal(int proposer, int round, ProposedBlock block, ImmutableArray<SignedRoundChange> roundChanges = default, ImmutableArray<PrepareMessage> prepares = default)
        => ConsensusSigning.Proposal(Crypto, Signers[proposer], round, block, roundChanges.IsDefault ? [] : roundChanges, prepares.IsDefault ? [] : prepares);

    public PrepareMessage Prepare(int validator, int round, ProposedBlock block) => ConsensusSigning.Prepare(Crypto, Signers[validator], 1, round, block.Hash);

    public CommitMessage Commit(int validator, int round, ProposedBlock block) => ConsensusSigning.Commit(Crypto, Signers[validator], 1, round, block.Hash);

    public ImmutableArray<PrepareMessage> Prepares(int round, ProposedBlock block, params int[] validators) => [.. validators.Select(v => Prepare(v, round, block))];

    public PreparedCertificate Prepared(int round, ProposedBlock block, params int[] validators) => new(round, block, Prepares(round, block, validators));

    public RoundChangeMessage RoundChange(int validator, int round, PreparedCertificate? prepared = null)
        => ConsensusSigning.RoundChange(Crypto, Signers[validator], 1, round, prepared);

    public ImmutableArray<SignedRoundChange> RoundChanges(int round, params (int Validator, PreparedCertificate? Prepared)[] senders)
        => [.. senders.Select(s => RoundChange(s.Validator, round, s.Prepared).Signed)];
}

/// <summary>Everything one input produced, after the kit answered the engine's requests (see <see cref="ConsensusTestKit.Drive"/>).</summary>
internal sealed class ConsensusOutcome
{
    private readonly List<ConsensusMessage> _messages = [];
    private readonly List<ConsensusRejection> _rejections = [];

    public IReadOnlyList<ConsensusMessage> Messages => _messages;

    public IReadOnlyList<ConsensusRejection> Rejections => _rejections;

    public ConsensusDecision? Decision { get; private set; }

    public ConsensusJournalState? Journal { get; private set; }

    public long? SyncTarget { get; private set; }

    public DateTimeOffset? WakeAt { get; private set; }

    public int BuildRequests { get; private set; }

    public void Add(ConsensusOutput output)
    {
        _messages.AddRange(output.Messages);
        _rejections.AddRange(output.Rejections);
        Decision ??= output.Decision;
        Journal = output.Journal ?? Journal;
        SyncTarget = output.SyncTarget ?? SyncTarget;
        WakeAt = output.WakeAt;
        BuildRequests += output.BuildRequest is null ? 0 : 1;
    }
}

/// <summary>The node's side for unit tests: builds empty blocks on the height's parent; blocks marked invalid fail validation.</summary>
internal sealed class TestBlocks
{
    public HashSet<Hash256> Invalid { get; } = [];

    public int Validations { get; private set; }

    public bool Refuse { get; set; }

    public static ProposedBlock Make(ConsensusHeight height, int round, Address proposer, DateTimeOffset time, string content = "")
        => new(new BlockHeader(8610, height.Height, height.ParentHash, time.ToUnixTimeMilliseconds(), proposer, round, 0,
            Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes("tx" + content)), Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes("state" + content)),
            0, Keccak256.Hash("history"u8), height.Validators.Hash), []);

    public ProposedBlock? Build(ProposalRequest request) => Refuse ? null : Make(request.Height, request.Round, request.Proposer, request.Now, "built");

    public BlockVerdict Validate(ProposedBlock block, DateTimeOffset now)
    {
        Validations++;
        return Invalid.Contains(block.Hash) ? BlockVerdict.Invalid("state root differs on re-execution") : BlockVerdict.Valid;
    }
}
