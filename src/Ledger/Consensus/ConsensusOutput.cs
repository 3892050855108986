using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Consensus;

/// <summary>
/// Everything one input to the engine produced. The driver acts on it in this order:
/// <list type="number">
/// <item>if <see cref="Journal"/> is set, save it durably (fsync) through <see cref="IConsensusJournal"/> — before
/// anything else leaves the node, because the messages may be votes it must never contradict after a restart;</item>
/// <item>send every message of <see cref="Messages"/> to every other validator;</item>
/// <item>if <see cref="Decision"/> is set, commit the block with its certificate, then start the next height;</item>
/// <item>if <see cref="SyncTarget"/> is set, fetch certified blocks up to that height from peers (catch-up);</item>
/// <item>for <see cref="BuildRequest"/>, build a block and hand it to <see cref="QbftEngine.OnBlockBuilt"/>; for each of
/// <see cref="ValidationRequests"/>, re-execute its block and hand the verdict to <see cref="QbftEngine.OnBlockValidated"/>
/// (both may take time: the engine goes on meanwhile);</item>
/// <item>call <see cref="QbftEngine.Tick"/> at <see cref="WakeAt"/>.</item>
/// </list>
/// </summary>
public sealed class ConsensusOutput
{
    private List<ConsensusMessage>? _messages;
    private List<ConsensusRejection>? _rejections;
    private List<ProposalMessage>? _validations;

    /// <summary>The state to persist before sending <see cref="Messages"/>; null when nothing that must survive a crash changed.</summary>
    public ConsensusJournalState? Journal { get; internal set; }

    /// <summary>Messages to broadcast to the other validators (the engine has already processed them itself).</summary>
    public IReadOnlyList<ConsensusMessage> Messages => _messages ?? (IReadOnlyList<ConsensusMessage>)[];

    /// <summary>The height is decided: this block with a certificate of a quorum of commit seals.</summary>
    public ConsensusDecision? Decision { get; internal set; }

    /// <summary>
    /// Validators have decided heights up to this one (they send messages for the next), or a commit quorum named a
    /// block this node does not have: fetch certified blocks up to it. Reported once per new target.
    /// </summary>
    public long? SyncTarget { get; internal set; }

    /// <summary>This validator proposes: build a fresh block and pass it to <see cref="QbftEngine.OnBlockBuilt"/>.</summary>
    public ProposalRequest? BuildRequest { get; internal set; }

    /// <summary>
    /// Proposals that passed every check but re-execution: validate each block and pass the verdict to
    /// <see cref="QbftEngine.OnBlockValidated"/>. Only proposals whose signatures and justification hold get here.
    /// </summary>
    public IReadOnlyList<ProposalMessage> ValidationRequests => _validations ?? (IReadOnlyList<ProposalMessage>)[];

    /// <summary>When to call <see cref="QbftEngine.Tick"/> next; null once the height is decided (or while it waits for work).</summary>
    public DateTimeOffset? WakeAt { get; internal set; }

    /// <summary>Inputs dropped, each with a typed reason (for logs, metrics and evidence of misbehaviour).</summary>
    public IReadOnlyList<ConsensusRejection> Rejections => _rejections ?? (IReadOnlyList<ConsensusRejection>)[];

    internal void Send(ConsensusMessage message) => (_messages ??= []).Add(message);

    internal void Reject(ConsensusRejection rejection) => (_rejections ??= []).Add(rejection);

    internal void RequestValidation(ProposalMessage proposal) => (_validations ??= []).Add(proposal);
}

/// <summary>A decided height: the block and the certificate that proves it final (checked with <see cref="CommitCertificate.Verify"/>).</summary>
public sealed record ConsensusDecision(ProposedBlock Block, CommitCertificate Certificate);

/// <summary>Why the engine dropped a message.</summary>
public enum ConsensusRejectionCode
{
    /// <summary>For a height below the current one (already decided here).</summary>
    OldHeight = 1,

    /// <summary>For the current height, which this node has already decided.</summary>
    HeightDecided,

    /// <summary>For a height too far ahead to buffer, or the sender's share of the future buffer is full.</summary>
    FutureBufferFull,

    /// <summary>The round is above <see cref="QbftParameters.MaxRound"/>.</summary>
    RoundTooHigh,

    /// <summary>A PREPARE or COMMIT for a round beyond the future-round window.</summary>
    RoundTooFarAhead,

    /// <summary>For a round this node has left (or, for COMMITs, no longer keeps).</summary>
    StaleRound,

    /// <summary>The sender is not in the validator set of the height.</summary>
    NotAValidator,

    /// <summary>A signature does not verify for its claimed signer (malformed, high-s, wrong signer).</summary>
    BadSignature,

    /// <summary>A COMMIT whose seal is not the sender's seal over (block, height, round).</summary>
    BadSeal,

    /// <summary>A PROPOSAL from someone other than the proposer of its round.</summary>
    NotTheProposer,

    /// <summary>The same message again.</summary>
    Duplicate,

    /// <summary>A second, different message of one kind from one sender in one round (kept: the first).</summary>
    Equivocation,

    /// <summary>The block does not fit the message: hash, height, round field, parent, validator set or proposer field.</summary>
    BlockMismatch,

    /// <summary>The node's re-execution rejected the block.</summary>
    InvalidBlock,

    /// <summary>A PROPOSAL's round-change or prepare justification does not hold.</summary>
    BadJustification,

    /// <summary>A ROUND-CHANGE that is inconsistent (round 0, prepared round not below its round, block or PREPAREs not matching).</summary>
    BadRoundChange,
}

/// <summary>One dropped message and why.</summary>
public readonly record struct ConsensusRejection(ConsensusRejectionCode Code, ConsensusMessageKind Kind, Address Sender, long Height, int Round, string Reason)
{
    public override string ToString() => $"{Kind} from {Sender} for {Height}/{Round}: {Code}: {Reason}";
}
