using System.Collections.Immutable;

namespace SmartCity.Ledger.Consensus;

/// <summary>
/// A quorum of PREPAREs for (height, round, block): the block is "prepared" in that round. A validator keeps its
/// highest one across the rounds of a height and reports it in every ROUND-CHANGE, so a block that may have been
/// committed somewhere is re-proposed instead of replaced.
/// </summary>
public sealed record PreparedCertificate(int Round, ProposedBlock Block, ImmutableArray<PrepareMessage> Prepares);

/// <summary>
/// What a validator must not forget across a crash (CONSENSUS-NOTES §2, "amnesia"): the height and round it is in,
/// its highest prepared certificate, the proposal it accepted in that round and every message it signed in that round.
/// A node that forgot them could vote twice in one round or report a lower prepared round than it had, which is
/// Byzantine behaviour; more than f such nodes could fork the chain. Votes of earlier rounds need not be kept: a
/// validator never votes in a round below its current one.
/// </summary>
public sealed record ConsensusJournalState(
    long Height,
    int Round,
    PreparedCertificate? LastPrepared,
    ProposalMessage? AcceptedProposal,
    ImmutableArray<ConsensusMessage> Sent)
{
    public ImmutableArray<ConsensusMessage> Sent { get; } = Sent.IsDefault ? [] : Sent;
}

/// <summary>
/// Durable storage for <see cref="ConsensusJournalState"/>, implemented by the node. <see cref="SaveAsync"/> returns only
/// once the state would survive a power cut (write, fsync, atomic replace): the driver awaits it before sending the
/// messages of the same <see cref="ConsensusOutput"/>. <see cref="ConsensusCodec.EncodeJournal"/> gives the bytes.
/// </summary>
public interface IConsensusJournal
{
    ValueTask SaveAsync(ConsensusJournalState state, CancellationToken cancellationToken);

    /// <summary>The last saved state, or null when none was ever saved.</summary>
    ValueTask<ConsensusJournalState?> LoadAsync(CancellationToken cancellationToken);
}
