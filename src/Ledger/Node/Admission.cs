using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node;

/// <summary>
/// Why a node refused a submitted transaction before it reached the mempool. A refusal changes nothing. The host maps
/// each code to one gRPC status (in one place); the codes up to <see cref="NotAMember"/> mirror the envelope rules of
/// <see cref="RejectionCode"/>.
/// </summary>
public enum AdmissionCode
{
    Accepted = 0,

    /// <summary>Not the canonical encoding of a transaction.</summary>
    Malformed,

    /// <summary>Longer than the genesis limit on transaction bytes.</summary>
    TransactionTooLarge,

    /// <summary>Signed for another chain.</summary>
    WrongChainId,

    /// <summary>Malformed, high-s (EIP-2) or unrecoverable signature.</summary>
    BadSignature,

    /// <summary>A valid signature, but not by the signer the transaction names.</summary>
    SignerMismatch,

    /// <summary>The signer is not a member of the consortium at the head.</summary>
    NotAMember,

    /// <summary>The nonce is below the signer's next nonce: a replay of a committed transaction or a stale one.</summary>
    NonceReused,

    /// <summary>This very transaction is already waiting in the mempool.</summary>
    AlreadyPending,

    /// <summary>Another transaction of the signer already holds this nonce in the mempool.</summary>
    NonceTaken,

    /// <summary>The nonce is further ahead of the signer's next nonce than the node holds transactions for.</summary>
    NonceTooFarAhead,

    /// <summary>The mempool is at capacity; retry later.</summary>
    MempoolFull,

    /// <summary>The signer has as many transactions waiting as one signer may; retry after some commit.</summary>
    SignerQueueFull,

    /// <summary>This node cannot commit blocks: its genesis has several validators and no consensus engine runs.</summary>
    NotCommitting,

    /// <summary>The node is stopping or has stopped after a fault.</summary>
    Unavailable,
}

/// <summary>What became of a transaction after it was admitted.</summary>
public enum TransactionState
{
    /// <summary>This node knows nothing of the id (never seen, or forgotten and not in the chain).</summary>
    Unknown = 0,

    /// <summary>Waiting in the mempool (ready, or held until the nonces before it arrive).</summary>
    Pending,

    /// <summary>In a certified block written to the store.</summary>
    Committed,

    /// <summary>Dropped after admission: a rule refused it in a block, or it expired or was replaced; see the reason.</summary>
    Rejected,
}

/// <summary>
/// Where a transaction ended up. <see cref="Height"/> and <see cref="IndexInBlock"/> are set when it is committed;
/// <see cref="Rule"/> and <see cref="Reason"/> when it was rejected after admission.
/// </summary>
public sealed record TransactionOutcome(Hash256 Id, TransactionState State, long Height, int IndexInBlock, RejectionCode Rule, string Reason)
{
    public static TransactionOutcome Pending(Hash256 id) => new(id, TransactionState.Pending, -1, -1, RejectionCode.None, string.Empty);

    public static TransactionOutcome Unknown(Hash256 id) => new(id, TransactionState.Unknown, -1, -1, RejectionCode.None, string.Empty);

    public static TransactionOutcome Committed(Hash256 id, long height, int index) => new(id, TransactionState.Committed, height, index, RejectionCode.None, string.Empty);

    public static TransactionOutcome Rejected(Hash256 id, RejectionCode rule, string reason, long height = -1) => new(id, TransactionState.Rejected, height, -1, rule, reason);

    public override string ToString() => State switch
    {
        TransactionState.Committed => $"{Id} committed at height {Height}, index {IndexInBlock}",
        TransactionState.Rejected => $"{Id} rejected: {Rule}: {Reason}",
        _ => $"{Id} {State}",
    };
}

/// <summary>
/// The node's answer to a submission: admitted with the transaction id, or refused with a code and a precise reason.
/// When the caller asked to wait, <see cref="Outcome"/> says whether the admitted transaction was committed (and
/// where) or rejected by a rule in the block.
/// </summary>
public sealed record SubmitResult(Hash256 Id, AdmissionCode Code, string Reason, TransactionOutcome? Outcome = null)
{
    public bool IsAccepted => Code == AdmissionCode.Accepted;

    public static SubmitResult Accepted(Hash256 id) => new(id, AdmissionCode.Accepted, string.Empty);

    public static SubmitResult Rejected(Hash256 id, AdmissionCode code, string reason) => new(id, code, reason);

    /// <summary>The admission code for an envelope rejection of the engine's intake.</summary>
    public static AdmissionCode FromIntake(RejectionCode code) => code switch
    {
        RejectionCode.Malformed => AdmissionCode.Malformed,
        RejectionCode.TransactionTooLarge => AdmissionCode.TransactionTooLarge,
        RejectionCode.WrongChainId => AdmissionCode.WrongChainId,
        RejectionCode.BadSignature => AdmissionCode.BadSignature,
        RejectionCode.SignerMismatch => AdmissionCode.SignerMismatch,
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, "not an envelope rejection"),
    };

    public override string ToString() => IsAccepted ? $"accepted {Id}{(Outcome is null ? "" : "; " + Outcome)}" : $"rejected {Id}: {Code}: {Reason}";
}
