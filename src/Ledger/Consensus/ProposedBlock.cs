using System.Collections.Immutable;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Consensus;

/// <summary>
/// A block as consensus sees it: the version-1 header (whose hash is the block's id; its round field is the round in
/// which the block was first proposed, kept when it is re-proposed) and the transactions' canonical bytes. The engine never executes
/// transactions: the node does, when the engine asks (<see cref="ConsensusOutput.BuildRequest"/>,
/// <see cref="ConsensusOutput.ValidationRequests"/>).
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

    public override string ToString() => $"block {Height}/{Round} {Hash}";
}
