using System.Diagnostics.CodeAnalysis;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Jobs.State;

/// <summary>
/// The certified state tree of a stored header, read through the store's state-tree nodes, each re-hashed against the
/// hash it was asked for (a node edited in the store reads as missing, never as a wrong value). Read only.
/// </summary>
internal static class StoreStateTree
{
    /// <summary>The state at <paramref name="header"/>'s state root.</summary>
    public static StateTreeReader At(IStateTreeStore store, BlockHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var suite = CryptoSuite.For(header.Crypto);
        return new StateTreeReader(new StateTree(new StoreStateNodes(store, suite), suite), header.StateRoot);
    }

    /// <summary>The head's header, decoded, or null for an empty store or an undecodable head.</summary>
    public static async Task<BlockHeader?> HeadAsync(ILedgerStore store, CancellationToken cancellationToken)
    {
        var headHeight = (await store.GetHeadAsync(cancellationToken).ConfigureAwait(false))?.Height ?? -1;
        var head = headHeight < 0 ? null : await store.GetHeaderAsync(headHeight, cancellationToken).ConfigureAwait(false);
        return head is not null && BlockHeader.TryDecode(head.Header.Span, out var header, out _) ? header : null;
    }

    private sealed class StoreStateNodes(IStateTreeStore store, CryptoSuite suite) : IStateNodeStore
    {
        public bool TryGet(in Hash256 hash, [NotNullWhen(true)] out StateNode? node)
        {
            node = null;
            if (store.GetStateNode(hash) is not { } bytes)
            {
                return false;
            }

            try
            {
                node = StateNode.Decode(bytes);
            }
            catch (FormatException)
            {
                return false;
            }

            if (node.ComputeHash(suite) != hash)
            {
                node = null;
                return false;
            }

            return true;
        }

        public void PutBatch(in Hash256 root, ReadOnlySpan<NewStateNode> nodes, ReadOnlySpan<Hash256> replaced) => throw new InvalidOperationException("the jobs read the state tree and never write it");
    }
}
