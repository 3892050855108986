using System.Diagnostics.CodeAnalysis;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage;

/// <summary>The checks every store makes before it writes a block, so both stores refuse the same commits.</summary>
internal static class BlockCommitRules
{
    /// <summary>Throws unless <paramref name="block"/> is the next block after <paramref name="head"/>.</summary>
    public static void EnsureAppendable(BlockCommit block, StoreHead? head)
    {
        ArgumentNullException.ThrowIfNull(block);
        var expectedHeight = head is { } h ? h.Height + 1 : 0;
        if (block.Height != expectedHeight)
        {
            ThrowConflict(head is null
                ? $"the first block must have height 0, got {block.Height}"
                : $"block {block.Height} does not follow the head at height {head.Value.Height}");
        }

        var expectedParent = head?.BlockHash ?? Hash256.Zero;
        if (block.ParentHash != expectedParent)
        {
            ThrowConflict($"block {block.Height} names parent {block.ParentHash}, but the head is {expectedParent}");
        }

        var historySize = head?.HistorySize ?? 0;
        for (var i = 0; i < block.Transactions.Count; i++)
        {
            if (block.Transactions[i].HistoryIndex != historySize + i)
            {
                throw new ArgumentException(
                    $"transaction {i} of block {block.Height} has history index {block.Transactions[i].HistoryIndex}, expected {historySize + i}",
                    nameof(block));
            }
        }
    }

    /// <summary>The head after <paramref name="block"/> is committed.</summary>
    public static StoreHead HeadAfter(BlockCommit block, StoreHead? head) =>
        new(block.Height, block.BlockHash, (head?.HistorySize ?? 0) + block.Transactions.Count);

    [DoesNotReturn]
    public static void ThrowConflict(string message) => throw new StoreConflictException(message);
}
