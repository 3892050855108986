using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Consensus;

/// <summary>
/// What the node does for the engine, synchronously and deterministically: build a fresh block when this validator
/// proposes, and re-execute a proposed block to check it. The engine stays pure; execution, the mempool and the stores
/// live behind this interface (docs/node.md describes the node's side).
/// </summary>
public interface IConsensusBlocks
{
    /// <summary>
    /// A fresh block for (height, round) on the parent the height names, with the header's proposer field
    /// = <see cref="ProposalRequest.Proposer"/> and round field = <see cref="ProposalRequest.Round"/>; null when the
    /// node cannot build one now (the round then times out as if the proposer were silent).
    /// </summary>
    ProposedBlock? Build(ProposalRequest request);

    /// <summary>
    /// Re-executes <paramref name="block"/> on the parent and checks every header field the engine does not (timestamp
    /// window, transaction count and root, state root, history size and root, each transaction's signature and rules):
    /// the header hash the node computes must be the block's. The engine has already checked height, parent hash,
    /// round, validator-set hash and proposer.
    /// </summary>
    BlockVerdict Validate(ProposedBlock block, DateTimeOffset now);
}

/// <summary>What the engine asks the node to build.</summary>
public readonly record struct ProposalRequest(ConsensusHeight Height, int Round, Address Proposer, DateTimeOffset Now);

/// <summary>The node's verdict on a proposed block: valid, or why not.</summary>
public readonly record struct BlockVerdict(bool IsValid, string Reason)
{
    public static BlockVerdict Valid { get; } = new(true, "valid");

    public static BlockVerdict Invalid(string reason) => new(false, reason);
}
