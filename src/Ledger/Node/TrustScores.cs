using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Score;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>
/// <c>Score(subject, height)</c> over what a node has: its chain (every state version, any height) or its store (the
/// state at the store's head). Both run the same pure <see cref="TrustScorer"/> over the certified state, so they
/// give the same answer for the same block.
/// </summary>
public static class TrustScores
{
    /// <summary>Rounds of reading a store whose head moved meanwhile, before giving up with <see cref="ScoreFailure.StateKeptChanging"/>.</summary>
    public const int MaxStoreAttempts = 5;

    /// <summary>The score of <paramref name="subject"/> in the state committed by block <paramref name="height"/> of the chain.</summary>
    public static ScoreResult Score(this LedgerChain chain, Subject subject, long height, TrustScorer? scorer = null)
    {
        ArgumentNullException.ThrowIfNull(chain);
        if (height < 0 || height > chain.Head.Height)
        {
            return ScoreResult.Failed(ScoreFailure.UnknownHeight, $"height {height} is not in the chain (head {chain.Head.Height})");
        }

        var header = chain.Blocks[(int)height].Header;
        return ScoreResult.Scored((scorer ?? TrustScorer.V1).Score(chain.StateAt(height), header, subject));
    }

    /// <summary>
    /// The score of <paramref name="subject"/> from a store: at its head (<paramref name="height"/> null or the head's
    /// height). A store keeps the state of its head only; another height is <see cref="ScoreFailure.HeightNotKept"/>
    /// until state versions are persisted. The head is read before and after the state: if a block was appended in
    /// between, the reads are repeated, so the answer is always the state of one block.
    /// </summary>
    public static async Task<ScoreResult> ScoreAsync(ILedgerStore store, Subject subject, long? height, TrustScorer? scorer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        scorer ??= TrustScorer.V1;
        for (var attempt = 0; attempt < MaxStoreAttempts; attempt++)
        {
            if (await store.GetHeadAsync(cancellationToken).ConfigureAwait(false) is not { } head)
            {
                return ScoreResult.Failed(ScoreFailure.EmptyStore, "the store holds no block");
            }

            if (height is { } asked && asked != head.Height)
            {
                return asked < 0 || asked > head.Height
                    ? ScoreResult.Failed(ScoreFailure.UnknownHeight, $"height {asked} is not in the store (head {head.Height})")
                    : ScoreResult.Failed(ScoreFailure.HeightNotKept, $"the store keeps the state of its head ({head.Height}) only; height {asked} needs the persistent state tree");
            }

            var stored = await store.GetHeaderAsync(head.Height, cancellationToken).ConfigureAwait(false)
                ?? throw new StoreCorruptedException($"the store's head {head.Height} has no header");
            if (!BlockHeader.TryDecode(stored.Header.Span, out var header, out var error) || header!.Hash != head.BlockHash)
            {
                throw new StoreCorruptedException($"the header of block {head.Height} in the store does not decode to its hash: {error}");
            }

            var score = await FetchedState.ComputeAsync(state => scorer.Score(state, header, subject), store.GetStateAsync, cancellationToken).ConfigureAwait(false);
            if (await store.GetHeadAsync(cancellationToken).ConfigureAwait(false) == head)
            {
                return ScoreResult.Scored(score);
            }
        }

        return ScoreResult.Failed(ScoreFailure.StateKeptChanging, $"new blocks arrived during each of {MaxStoreAttempts} attempts to read the state");
    }
}
