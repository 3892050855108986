using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Consensus;

/// <summary>
/// The engine asks the node to build a fresh block for (height, round) on the parent the height names, with the
/// header's proposer field = <see cref="Proposer"/> and round field = <see cref="Round"/>. The node answers with
/// <see cref="QbftEngine.OnBlockBuilt"/> — at once or later, with a block or with null when it has none (the round then
/// times out as if the proposer were silent). Building and executing are the node's; the engine stays pure.
/// </summary>
public readonly record struct ProposalRequest(ConsensusHeight Height, int Round, Address Proposer, DateTimeOffset Now);

/// <summary>
/// The node's verdict on a proposed block after re-executing it on the parent (<see cref="QbftEngine.OnBlockValidated"/>):
/// valid, or why not. The node checks what the engine does not: timestamp window, transaction count and root, state
/// root, history size and root, each transaction's signature and rules — the header hash it computes must be the
/// block's. The engine has already checked height, parent hash, validator-set hash, round field, proposer and every
/// signature and justification of the proposal.
/// </summary>
public readonly record struct BlockVerdict(bool IsValid, string Reason)
{
    public static BlockVerdict Valid { get; } = new(true, "valid");

    public static BlockVerdict Invalid(string reason) => new(false, reason);
}
