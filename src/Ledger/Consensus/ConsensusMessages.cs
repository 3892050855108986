using System.Collections.Immutable;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Consensus;

/// <summary>
/// A signed QBFT message as it travels between validators. <see cref="Sender"/> is the claimed signer: a message is
/// accepted only when its signature verifies for that address (through <see cref="IConsensusCrypto"/>) and the address
/// is in the validator set of the height. Messages are immutable; the wire form is <see cref="ConsensusCodec"/>.
/// </summary>
public abstract record ConsensusMessage
{
    public abstract ConsensusMessageKind Kind { get; }

    public abstract long Height { get; }

    public abstract int Round { get; }

    public abstract Address Sender { get; }

    public abstract Signature Signature { get; }

    /// <summary>The digest <see cref="Signature"/> signs.</summary>
    public abstract Hash256 Digest(IConsensusCrypto crypto);
}

/// <summary>PREPARE(h, r, id): the sender accepted the proposal of round r whose block hash is id.</summary>
public sealed record PrepareMessage(QbftPrepare Payload, Address Sender, Signature Signature) : ConsensusMessage
{
    public override ConsensusMessageKind Kind => ConsensusMessageKind.Prepare;

    public override long Height => Payload.Height;

    public override int Round => Payload.Round;

    public override Address Sender { get; } = Sender;

    public override Signature Signature { get; } = Signature;

    public Hash256 BlockHash => Payload.BlockHash;

    public override Hash256 Digest(IConsensusCrypto crypto)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        return crypto.MessageDigest(Payload);
    }
}

/// <summary>COMMIT(h, r, id, seal): the sender saw a quorum of PREPAREs for id in round r; the seal certifies the block.</summary>
public sealed record CommitMessage(QbftCommit Payload, Address Sender, Signature Signature) : ConsensusMessage
{
    public override ConsensusMessageKind Kind => ConsensusMessageKind.Commit;

    public override long Height => Payload.Height;

    public override int Round => Payload.Round;

    public override Address Sender { get; } = Sender;

    public override Signature Signature { get; } = Signature;

    public Hash256 BlockHash => Payload.BlockHash;

    public Signature Seal => Payload.CommitSeal;

    public override Hash256 Digest(IConsensusCrypto crypto)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        return crypto.MessageDigest(Payload);
    }
}

/// <summary>The signed part of a ROUND-CHANGE: what a proposal carries as justification (without block or PREPAREs).</summary>
public sealed record SignedRoundChange(QbftRoundChange Payload, Address Sender, Signature Signature)
{
    public long Height => Payload.Height;

    public int Round => Payload.Round;

    public Hash256 Digest(IConsensusCrypto crypto)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        return crypto.MessageDigest(Payload);
    }
}

/// <summary>
/// ROUND-CHANGE(h, r, pr?, pv?) with, when the sender has prepared, the prepared block (header round = pr, hash = pv)
/// and the quorum of PREPAREs for (h, pr, pv) that proves it.
/// </summary>
public sealed record RoundChangeMessage(SignedRoundChange Signed, ProposedBlock? PreparedBlock, ImmutableArray<PrepareMessage> PreparedCertificate) : ConsensusMessage
{
    public override ConsensusMessageKind Kind => ConsensusMessageKind.RoundChange;

    public override long Height => Signed.Height;

    public override int Round => Signed.Round;

    public override Address Sender => Signed.Sender;

    public override Signature Signature => Signed.Signature;

    public QbftRoundChange Payload => Signed.Payload;

    public ImmutableArray<PrepareMessage> PreparedCertificate { get; } = PreparedCertificate.IsDefault ? [] : PreparedCertificate;

    public override Hash256 Digest(IConsensusCrypto crypto) => Signed.Digest(crypto);
}

/// <summary>
/// PROPOSAL(h, r, id) with the block and, for r &gt; 0, its justification: a quorum of signed ROUND-CHANGEs for (h, r)
/// and, when one of them reports a prepared block, the quorum of PREPAREs for the highest prepared (round, block).
/// </summary>
public sealed record ProposalMessage(
    QbftProposal Payload,
    Address Sender,
    Signature Signature,
    ProposedBlock Block,
    ImmutableArray<SignedRoundChange> RoundChanges,
    ImmutableArray<PrepareMessage> Prepares) : ConsensusMessage
{
    public override ConsensusMessageKind Kind => ConsensusMessageKind.Proposal;

    public override long Height => Payload.Height;

    public override int Round => Payload.Round;

    public override Address Sender { get; } = Sender;

    public override Signature Signature { get; } = Signature;

    public Hash256 BlockHash => Payload.BlockHash;

    public ImmutableArray<SignedRoundChange> RoundChanges { get; } = RoundChanges.IsDefault ? [] : RoundChanges;

    public ImmutableArray<PrepareMessage> Prepares { get; } = Prepares.IsDefault ? [] : Prepares;

    public override Hash256 Digest(IConsensusCrypto crypto)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        return crypto.MessageDigest(Payload);
    }
}
