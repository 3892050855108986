using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Blocks;

/// <summary>A transaction that made it into the block, with its id (EIP-712 digest) and canonical bytes.</summary>
public sealed record IncludedTransaction(Hash256 Hash, ReadOnlyMemory<byte> Bytes);

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
    public BlockBody Build(IStateReader state, IEnumerable<ReadOnlyMemory<byte>> candidates, DateTimeOffset blockTime)
    {
        var parameters = machine.Parameters;
        var overlay = new StateOverlay(state);
        var included = new List<IncludedTransaction>();
        var skipped = new List<SkippedTransaction>();
        var deferred = new List<ReadOnlyMemory<byte>>();
        var bytes = 0;
        var index = 0;
        foreach (var candidate in candidates)
        {
            var full = included.Count == parameters.MaxBlockTransactions || (bytes + candidate.Length > parameters.MaxBlockBytes && candidate.Length <= parameters.MaxTransactionBytes);
            if (full || deferred.Count > 0)
            {
                deferred.Add(candidate);
                index++;
                continue;
            }

            var transition = machine.Apply(overlay, candidate, blockTime);
            if (transition.IsAccepted)
            {
                foreach (var write in transition.Writes)
                {
                    overlay.Set(write.Key, write.Value);
                }

                included.Add(new IncludedTransaction(transition.TransactionHash, candidate));
                bytes += candidate.Length;
            }
            else
            {
                skipped.Add(new SkippedTransaction(index, transition.TransactionHash, transition.Code, transition.Reason));
            }

            index++;
        }

        return new BlockBody(included, skipped, deferred, [.. overlay.Writes.OrderBy(w => w.Key)], bytes);
    }
}
