using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Blocks;

/// <summary>
/// A transaction that made it into the block, with its id (EIP-712 digest) and canonical bytes; <see cref="Decoded"/>
/// is the transaction when the block was built from decoded transactions, so later stages need not decode it again.
/// </summary>
public sealed record IncludedTransaction(Hash256 Hash, ReadOnlyMemory<byte> Bytes)
{
    public SignedTransaction? Decoded { get; init; }
}

/// <summary>A transaction left out because the rules rejected it; the hash is zero when it did not decode.</summary>
public sealed record SkippedTransaction(int Index, Hash256 Hash, RejectionCode Code, string Reason);

/// <summary>
/// The body of a block before its header: accepted transactions in order, the rejected ones with their reasons,
/// the transactions deferred because the block was full, and the net state writes sorted by key.
/// </summary>
public sealed record BlockBody(
    IReadOnlyList<IncludedTransaction> Included,
    IReadOnlyList<SkippedTransaction> Skipped,
    IReadOnlyList<ReadOnlyMemory<byte>> Deferred,
    IReadOnlyList<StateWrite> Writes,
    int Bytes);

/// <summary>
/// Applies candidate transactions in order on top of a state, each seeing the writes of those before it; skips
/// rejected ones with their reasons and stops at the genesis limits on transaction count and block bytes
/// (the rest is deferred, not rejected). Deterministic: same state, candidates and time give the same body.
/// </summary>
public sealed class BlockBuilder(CreditStateMachine machine)
{
    /// <summary>Builds from canonical bytes: each transaction is decoded and its signer recovered by the state machine.</summary>
    public BlockBody Build(IStateReader state, IEnumerable<ReadOnlyMemory<byte>> candidates, DateTimeOffset blockTime)
        => Build(state, candidates, static c => c, (overlay, c) => machine.Apply(overlay, c, blockTime), static _ => null);

    /// <summary>
    /// Builds from transactions decoded and signature-checked once on their way into the node: nothing is decoded or
    /// recovered again, and each included transaction carries its decoded form for the stages after the block.
    /// </summary>
    public BlockBody Build(IStateReader state, IEnumerable<VerifiedTransaction> candidates, DateTimeOffset blockTime)
        => Build(state, candidates, static c => c.Bytes, (overlay, c) => machine.Apply(overlay, c, blockTime), static c => c.Transaction);

    private BlockBody Build<T>(IStateReader state, IEnumerable<T> candidates, Func<T, ReadOnlyMemory<byte>> bytesOf, Func<StateOverlay, T, Transition> apply, Func<T, SignedTransaction?> decodedOf)
    {
        var parameters = machine.Parameters;
        // Sized for the block up front (a few keys a transaction), so the block's overlay does not rehash as it grows.
        var overlay = new StateOverlay(state, candidates.TryGetNonEnumeratedCount(out var count) ? Math.Min(count, parameters.MaxBlockTransactions) * 4 : 0);
        var included = new List<IncludedTransaction>();
        var skipped = new List<SkippedTransaction>();
        var deferred = new List<ReadOnlyMemory<byte>>();
        var bytes = 0;
        var index = 0;
        foreach (var item in candidates)
        {
            var candidate = bytesOf(item);
            var full = included.Count == parameters.MaxBlockTransactions || (bytes + candidate.Length > parameters.MaxBlockBytes && candidate.Length <= parameters.MaxTransactionBytes);
            if (full || deferred.Count > 0)
            {
                deferred.Add(candidate);
                index++;
                continue;
            }

            var transition = apply(overlay, item);
            if (transition.IsAccepted)
            {
                foreach (var write in transition.Writes)
                {
                    overlay.Set(write.Key, write.Value);
                }

                included.Add(new IncludedTransaction(transition.TransactionHash, candidate) { Decoded = decodedOf(item) });
                bytes += candidate.Length;
            }
            else
            {
                skipped.Add(new SkippedTransaction(index, transition.TransactionHash, transition.Code, transition.Reason));
            }

            index++;
        }

        return new BlockBody(included, skipped, deferred, overlay.SortedWrites(), bytes);
    }
}
