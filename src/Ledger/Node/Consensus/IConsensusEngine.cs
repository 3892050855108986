using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Node.Consensus;

/// <summary>
/// How a node's blocks get their certificates: the seam between the node runtime (which owns the chain, the mempool
/// and the store) and whatever decides blocks. The node starts <see cref="RunAsync"/> once, after it has opened its
/// chain, and stops it by cancelling the token. The engine talks to the node only through
/// <see cref="IConsensusHost"/>; it never touches the chain or the store. See docs/node.md.
/// Implementations: <see cref="SoloSealingEngine"/> (one validator seals its own blocks, the development mode),
/// <see cref="InProcessQuorum"/> (validators in one process agree by re-execution), QBFT (the consensus issue).
/// </summary>
public interface IConsensusEngine
{
    /// <summary>
    /// Runs until <paramref name="cancellationToken"/> fires. An exception other than the cancellation stops the node's
    /// commits (the node reports itself faulted with the exception's message).
    /// </summary>
    Task RunAsync(IConsensusHost host, CancellationToken cancellationToken);
}

/// <summary>
/// What a node offers its consensus engine. Every call is served by the node's single writer, in order with
/// admissions and commits, so the head cannot move under a call; calls are safe from any thread.
/// </summary>
public interface IConsensusHost
{
    /// <summary>The current head (immutable); <see cref="NodeSnapshot.NextAsync"/> waits for the next commit.</summary>
    NodeSnapshot Head { get; }

    /// <summary>The EIP-712 domain separator commit seals are signed under.</summary>
    Hash256 DomainSeparator { get; }

    /// <summary>Verifies seals and certificates with the node's signature cache.</summary>
    ISignatureScheme Curve { get; }

    /// <summary>Completes once the mempool holds at least one transaction ready to go into a block (at once if it does now).</summary>
    Task WaitForWorkAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Builds a block on the head from the mempool for (<paramref name="height"/>, <paramref name="round"/>): the header
    /// names the proposer of that height and round, the block time is this node's clock (strictly after the parent's).
    /// Null when <paramref name="height"/> is not head + 1 or nothing in the mempool is accepted by the rules (no
    /// empty blocks). The node keeps the executed block, so committing it later does not execute it again.
    /// </summary>
    Task<BlockProposal?> BuildProposalAsync(long height, int round, CancellationToken cancellationToken);

    /// <summary>
    /// Re-executes a proposal on the head: checks height, parent, proposer of the round, timestamp (after the parent,
    /// at most the allowed drift ahead of this node's clock), decodes and verifies each transaction once (through the
    /// signature cache, so a transaction already admitted here is not verified again) and applies them. The result
    /// carries the header hash this node computes; a validator seals a proposal only when it equals the proposal's.
    /// </summary>
    Task<ProposalValidation> ValidateProposalAsync(BlockProposal proposal, CancellationToken cancellationToken);

    /// <summary>
    /// Commits a decided block with its certificate: checks the certificate against the validator set, writes the
    /// block to the store (durably) and only then moves the head, drops the block's transactions from the mempool and
    /// publishes the block to subscribers. A block this node built or validated is not executed again.
    /// </summary>
    Task<CommitResult> CommitAsync(BlockProposal block, CommitCertificate certificate, CancellationToken cancellationToken);
}

/// <summary>A block as validators exchange it: the header and the canonical bytes of its transactions, in order.</summary>
public sealed record BlockProposal(BlockHeader Header, IReadOnlyList<ReadOnlyMemory<byte>> Transactions);

/// <summary>
/// The verdict of re-executing a proposal: valid only when this node computed the same header;
/// <see cref="ComputedHash"/> is the hash it computed (zero when it could not execute the proposal at all).
/// </summary>
public sealed record ProposalValidation(bool IsValid, Hash256 ComputedHash, string Reason)
{
    public static ProposalValidation Invalid(string reason, Hash256 computed = default) => new(false, computed, reason);
}

/// <summary>The result of <see cref="IConsensusHost.CommitAsync"/>: committed (or already committed), or why not.</summary>
public sealed record CommitResult(bool IsCommitted, CertificateCheck Check, string Reason, NodeSnapshot Head)
{
    public override string ToString() => IsCommitted ? $"committed at {Head.Height}" : $"not committed: {Check}: {Reason}";
}
