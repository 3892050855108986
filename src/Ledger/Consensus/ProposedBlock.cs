using System.Collections.Immutable;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Consensus;

/// <summary>
/// A block as consensus sees it: the version-1 header (whose hash is the block's id and whose round field is the
/// round of the proposal that carries it) and the transactions' canonical bytes. The engine never executes
/// transactions: the node does, through <see cref="IConsensusBlocks"/>.
/// </summary>
public sealed class ProposedBlock
{
    public ProposedBlock(BlockHeader header, ImmutableArray<ReadOnlyMemory<byte>> transactions)
    {
        ArgumentNullException.ThrowIfNull(header);
        Header = header;
        Transactions = transactions.IsDefault ? [] : transactions;
    }

    public BlockHeader Header { get; }

    public ImmutableArray<ReadOnlyMemory<byte>> Transactions { get; }

    /// <summary>The block's id: the header hash (docs/receipts.md), which covers the round field.</summary>
    public Hash256 Hash => Header.Hash;

    public long Height => Header.Height;

    public int Round => Header.Round;

    /// <summary>
    /// The same block re-proposed in <paramref name="round"/>: every header byte is kept except the round field, so the
    /// transactions, roots, timestamp and proposer stay those the validators prepared (docs/consensus.md, "header").
    /// </summary>
    public ProposedBlock WithRound(int round) => round == Header.Round ? this : new ProposedBlock(WithRound(Header, round), Transactions);

    /// <summary>A new header equal to <paramref name="header"/> but for its round (built afresh, so its hash is recomputed).</summary>
    public static BlockHeader WithRound(BlockHeader header, int round)
    {
        ArgumentNullException.ThrowIfNull(header);
        return new BlockHeader(header.ChainId, header.Height, header.PreviousHash, header.TimestampMs, header.Proposer, round,
            header.TransactionCount, header.TransactionRoot, header.StateRoot, header.HistorySize, header.HistoryRoot, header.ValidatorSetHash);
    }

    public override string ToString() => $"block {Height}/{Round} {Hash}";
}
