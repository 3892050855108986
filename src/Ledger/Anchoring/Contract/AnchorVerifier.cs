using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Anchoring.Contract;

/// <summary>The verdict of <see cref="AnchorVerifier"/>: the ledger agrees with every anchor, or the first height that does not.</summary>
/// <param name="Checkpoints">Anchors read from the contract.</param>
/// <param name="Head">The ledger's head height.</param>
/// <param name="FirstDisagreement">The lowest anchored height the ledger disagrees with, or null.</param>
/// <param name="Reason">What disagrees there.</param>
public sealed record AnchorVerification(int Checkpoints, long Head, long? FirstDisagreement, string? Reason)
{
    public bool Agrees => FirstDisagreement is null;
}

/// <summary>
/// <c>smartcity anchor verify</c>: checks a ledger store against every checkpoint a CheckpointAnchor holds. For each
/// anchored height: the store's header there has the anchored header hash (so the anchored history size, history root
/// and state root too, which the contract decoded from that header), and an RFC 9162 consistency proof, built from the
/// store's history-tree nodes, proves the anchored history a prefix of the history at the store's head. A ledger whose
/// history was rewritten after an anchor is reported with the first anchored height that disagrees.
/// </summary>
public static class AnchorVerifier
{
    public static async Task<AnchorVerification> VerifyAsync(IReadOnlyList<AnchoredCheckpoint> checkpoints, ILedgerStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoints);
        ArgumentNullException.ThrowIfNull(store);
        var headHeight = (await store.GetHeadAsync(cancellationToken).ConfigureAwait(false))?.Height ?? -1;
        var head = headHeight < 0 ? null : await store.GetHeaderAsync(headHeight, cancellationToken).ConfigureAwait(false);
        BlockHeader? headHeader = null;
        if (head is not null && !BlockHeader.TryDecode(head.Header.Span, out headHeader, out var headError))
        {
            return new AnchorVerification(checkpoints.Count, headHeight, checkpoints.Count > 0 ? checkpoints.Min(c => c.Height) : headHeight, $"the head's header does not decode: {headError}");
        }

        HistoryTree? history = null;
        if (headHeader is not null)
        {
            history = new HistoryTree(new StoreHistoryNodes(store), headHeader.HistorySize);
            if (history.Root != headHeader.HistoryRoot)
            {
                return new AnchorVerification(checkpoints.Count, headHeight, checkpoints.Count > 0 ? checkpoints.Min(c => c.Height) : headHeight,
                    $"the store's history tree has root {history.Root}, but its head header says {headHeader.HistoryRoot}");
            }
        }

        foreach (var anchor in checkpoints.OrderBy(c => c.Height))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (anchor.Height > headHeight || headHeader is null || history is null)
            {
                return new AnchorVerification(checkpoints.Count, headHeight, anchor.Height, $"height {anchor.Height} was anchored, but the ledger ends at height {headHeight}");
            }

            var stored = await store.GetHeaderAsync(anchor.Height, cancellationToken).ConfigureAwait(false);
            if (stored is null || !BlockHeader.TryDecode(stored.Header.Span, out var header, out _))
            {
                return new AnchorVerification(checkpoints.Count, headHeight, anchor.Height, $"the ledger has no readable header at anchored height {anchor.Height}");
            }

            if (header!.Hash != anchor.HeaderHash)
            {
                var fields = new List<string>();
                if (header.HistoryRoot != anchor.HistoryRoot || header.HistorySize != anchor.HistorySize)
                {
                    fields.Add($"history {header.HistorySize} root {header.HistoryRoot} (anchored {anchor.HistorySize} root {anchor.HistoryRoot})");
                }

                if (header.StateRoot != anchor.StateRoot)
                {
                    fields.Add($"state root {header.StateRoot} (anchored {anchor.StateRoot})");
                }

                return new AnchorVerification(checkpoints.Count, headHeight, anchor.Height,
                    $"the ledger's header at {anchor.Height} is {header.Hash}, the anchored one {anchor.HeaderHash}{(fields.Count > 0 ? "; " + string.Join("; ", fields) : string.Empty)}");
            }

            var proof = history.ProveConsistency(anchor.HistorySize, headHeader.HistorySize);
            if (!ConsistencyProof.Verify(anchor.HistorySize, headHeader.HistorySize, anchor.HistoryRoot, headHeader.HistoryRoot, proof.Path.AsSpan()))
            {
                return new AnchorVerification(checkpoints.Count, headHeight, anchor.Height,
                    $"the anchored history (size {anchor.HistorySize}, root {anchor.HistoryRoot}) is not a prefix of the history at the head (size {headHeader.HistorySize})");
            }
        }

        return new AnchorVerification(checkpoints.Count, headHeight, null, null);
    }

    /// <summary>The store's history-tree nodes, read only.</summary>
    private sealed class StoreHistoryNodes(IStateTreeStore store) : IHistoryNodeStore
    {
        public Hash256 Get(int level, long index)
            => store.GetHistoryNode(level, index) ?? throw new StoreCorruptedException($"history node ({level}, {index}) is missing from the store");

        public void Put(int level, long index, in Hash256 hash) => throw new InvalidOperationException("anchor verify never writes the history tree");
    }
}
