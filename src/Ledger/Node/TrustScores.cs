using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Score;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>
/// <c>Score(subject, height)</c> over what a node has: its chain (every state version, any height), its store (the
/// state at the store's head), or its store replayed from genesis to a past height. All run the same pure
/// <see cref="TrustScorer"/> over the certified state, so they give the same answer for the same block.
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

        if (height < chain.StateRetainedFrom)
        {
            return ScoreResult.Failed(ScoreFailure.HeightNotKept, $"the state of height {height} was pruned: this node keeps state versions from height {chain.StateRetainedFrom} on");
        }

        var header = height == chain.Head.Height ? chain.HeadBlock.Header : chain.Blocks[(int)height].Header;
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
                    : ScoreResult.Failed(ScoreFailure.HeightNotKept, $"the store keeps the state of its head ({head.Height}) only; height {asked} needs a replay from the genesis (ScoreByReplayAsync, the command line's --genesis)");
            }

            var stored = await store.GetHeaderAsync(head.Height, cancellationToken).ConfigureAwait(false)
                ?? throw new StoreCorruptedException($"the store's head {head.Height} has no header");
            if (!BlockHeader.TryDecode(stored.Header.Span, out var header, out var error) || header!.Hash != head.BlockHash)
            {
                throw new StoreCorruptedException($"the header of block {head.Height} in the store does not decode to its hash: {error}");
            }

            var score = await FetchedState.ComputeAsync(state => scorer.Score(state, header, subject), store.GetStateAsync, CryptoSuite.For(header.Crypto), cancellationToken).ConfigureAwait(false);
            if (await store.GetHeadAsync(cancellationToken).ConfigureAwait(false) == head)
            {
                return ScoreResult.Scored(score);
            }
        }

        return ScoreResult.Failed(ScoreFailure.StateKeptChanging, $"new blocks arrived during each of {MaxStoreAttempts} attempts to read the state");
    }

    /// <summary>
    /// The score of <paramref name="subject"/> at any <paramref name="height"/> of a store, for the past heights a
    /// store does not keep the state of: a chain is rebuilt in memory from <paramref name="genesis"/> (which must give
    /// the store's block 0) by re-executing every stored block up to <paramref name="height"/>; each block must
    /// reproduce its stored header hash and carry a valid certificate, so the state scored is the one the certified
    /// header's state root commits to. Linear in the history up to the height (every transaction's signature is
    /// checked again): a query for an audit or a dispute, not for the hot path.
    /// </summary>
    /// <exception cref="StoreCorruptedException">A stored block does not decode, re-execute to its header or prove its certificate.</exception>
    public static async Task<ScoreResult> ScoreByReplayAsync(ILedgerStore store, GenesisDocument genesis, ISignatureScheme curve, Subject subject, long height, TrustScorer? scorer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(genesis);
        ArgumentNullException.ThrowIfNull(curve);
        if (await store.GetHeadAsync(cancellationToken).ConfigureAwait(false) is not { } head)
        {
            return ScoreResult.Failed(ScoreFailure.EmptyStore, "the store holds no block");
        }

        if (height < 0 || height > head.Height)
        {
            return ScoreResult.Failed(ScoreFailure.UnknownHeight, $"height {height} is not in the store (head {head.Height})");
        }

        var chain = new LedgerChain(genesis, curve);
        var storedGenesis = await store.GetHeaderAsync(0, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreCorruptedException("the store has a head but no genesis block");
        if (storedGenesis.BlockHash != chain.Head.Hash)
        {
            return ScoreResult.Failed(ScoreFailure.GenesisMismatch, $"the store holds the chain of genesis block {storedGenesis.BlockHash}; the genesis given gives {chain.Head.Hash}");
        }

        for (var h = 1L; h <= height; h++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var block = await store.GetBlockAsync(h, cancellationToken).ConfigureAwait(false)
                ?? throw new StoreCorruptedException($"block {h} is missing below the head {head.Height}");
            Replay(chain, block);
        }

        return chain.Score(subject, height, scorer);
    }

    private static void Replay(LedgerChain chain, StoredBlock block)
    {
        var height = block.Header.Height;
        if (!BlockHeader.TryDecode(block.Header.Header.Span, out var header, out var error) || header is null)
        {
            throw new StoreCorruptedException($"block {height}: the header does not decode: {error}");
        }

        if (!CommitCertificate.TryDecode(block.Header.Certificate.Span, out var certificate, out error) || certificate is null)
        {
            throw new StoreCorruptedException($"block {height}: the certificate does not decode: {error}");
        }

        var candidate = chain.Propose([.. block.Transactions.Select(t => t.Bytes)], header.Timestamp, header.Round);
        if (candidate.Header.Hash != header.Hash || candidate.Body.Skipped.Count > 0)
        {
            throw new StoreCorruptedException($"block {height}: re-execution gives header {candidate.Header.Hash} ({candidate.Body.Skipped.Count} transactions rejected); the store holds {header.Hash}");
        }

        var verdict = chain.Commit(candidate, certificate);
        if (!verdict.IsValid)
        {
            throw new StoreCorruptedException($"block {height}: the certificate does not prove it: {verdict.Check}: {verdict.Reason}");
        }
    }
}
