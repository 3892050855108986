using System.Collections.Immutable;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Consensus;

/// <summary>Builds signed consensus messages: the engine's own, and any a test needs to forge or replay.</summary>
public static class ConsensusSigning
{
    public static PrepareMessage Prepare(IConsensusCrypto crypto, ISigner signer, long height, int round, in Hash256 blockHash)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        ArgumentNullException.ThrowIfNull(signer);
        var payload = new QbftPrepare(height, round, blockHash);
        return new PrepareMessage(payload, signer.Address, signer.Sign(crypto.MessageDigest(payload)));
    }

    /// <summary>A COMMIT with the signer's seal over (block, height, round).</summary>
    public static CommitMessage Commit(IConsensusCrypto crypto, ISigner signer, long height, int round, in Hash256 blockHash)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        ArgumentNullException.ThrowIfNull(signer);
        var seal = signer.Sign(crypto.SealDigest(blockHash, height, round));
        return Commit(crypto, signer, height, round, blockHash, seal);
    }

    /// <summary>A COMMIT carrying a given seal (tests use it to attach a wrong one).</summary>
    public static CommitMessage Commit(IConsensusCrypto crypto, ISigner signer, long height, int round, in Hash256 blockHash, in Signature seal)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        ArgumentNullException.ThrowIfNull(signer);
        var payload = new QbftCommit(height, round, blockHash, seal);
        return new CommitMessage(payload, signer.Address, signer.Sign(crypto.MessageDigest(payload)));
    }

    /// <summary>A ROUND-CHANGE to <paramref name="round"/> reporting <paramref name="prepared"/> (block and PREPAREs included).</summary>
    public static RoundChangeMessage RoundChange(IConsensusCrypto crypto, ISigner signer, long height, int round, PreparedCertificate? prepared)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        ArgumentNullException.ThrowIfNull(signer);
        var payload = prepared is null
            ? QbftRoundChange.NotPrepared(height, round)
            : new QbftRoundChange(height, round, true, prepared.Round, prepared.Block.Hash);
        var signed = new SignedRoundChange(payload, signer.Address, signer.Sign(crypto.MessageDigest(payload)));
        return new RoundChangeMessage(signed, prepared?.Block, prepared?.Prepares ?? []);
    }

    /// <summary>
    /// A PROPOSAL of <paramref name="block"/> in <paramref name="round"/>: a fresh block carries that round in its header,
    /// a re-proposed one keeps the round it was first proposed in.
    /// </summary>
    public static ProposalMessage Proposal(
        IConsensusCrypto crypto,
        ISigner signer,
        int round,
        ProposedBlock block,
        ImmutableArray<SignedRoundChange> roundChanges,
        ImmutableArray<PrepareMessage> prepares)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(block);
        var payload = new QbftProposal(block.Height, round, block.Hash);
        return new ProposalMessage(payload, signer.Address, signer.Sign(crypto.MessageDigest(payload)), block, roundChanges, prepares);
    }
}
