using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node;

/// <summary>
/// Building the next block while the current one is being made durable (the node's commit pipeline): the next block
/// is assembled on the candidate being appended — its state root (whose tree nodes are still pending), its writes
/// over the head's state, its history nodes — so the writer works while the store fsyncs. Nothing of the next block
/// is visible or written until it commits in its turn, after its parent.
/// </summary>
public sealed partial class LedgerChain
{
    // The root of the block built on the one being committed: its pending tree nodes survive that commit.
    private Hash256 _keepPendingRoot;

    /// <summary>
    /// Assembles a block on <paramref name="parent"/>, a checked candidate on the head whose commit is under way. The
    /// result commits with <see cref="CommitWhileAsync"/>
    /// once the parent is the head; if the parent never commits it is simply dropped.
    /// </summary>
    internal BlockCandidate AssembleOn(BlockCandidate parent, IEnumerable<VerifiedTransaction> transactions, DateTimeOffset blockTime)
    {
        ArgumentNullException.ThrowIfNull(parent);
        var header = parent.Header;
        if (header.PreviousHash != Head.Hash || header.Height != Head.Height + 1)
        {
            throw new InvalidOperationException($"block {header.Height} does not extend the head {Head.Height}");
        }

        var on = new ChainHead(header.ChainId, header.Height, header.Hash, header.StateRoot, header.HistorySize, parent.HistoryNodes)
        {
            State = new BlockWritesReader(parent.Body.Writes, _headState.ReaderAt(Head.StateRoot)),
        };
        var candidate = Assembler.Assemble(on, transactions, blockTime, 0);
        _keepPendingRoot = candidate.Header.StateRoot;
        return candidate;
    }

    /// <summary>The block built by <see cref="AssembleOn"/> will not be committed: its pending nodes may go.</summary>
    internal void DropAssembledOn() => _keepPendingRoot = default;

    /// <summary>The pending root to keep at the next commit, forgotten once used.</summary>
    private Hash256 TakeKeptPendingRoot()
    {
        var keep = _keepPendingRoot;
        _keepPendingRoot = default;
        return keep;
    }
}
