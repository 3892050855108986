using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node;

/// <summary>
/// Validator-set hand-overs: block h is a hand-over when the set that seals h+1 (the state after h) differs from the
/// set that sealed h, which shows in the headers as header(h+1).validatorSetHash ≠ header(h).validatorSetHash. Offline
/// receipts of a later block carry the evidence of each one (<see cref="ValidatorSetHandOver"/>) so a verifier holding
/// only the genesis walks from the genesis set to the set that certified the receipt.
/// </summary>
public sealed partial class LedgerChain
{
    private readonly Lock _handOverGate = new();
    private readonly List<long> _recentHandOvers = [];
    private readonly Dictionary<long, ValidatorSetHandOver> _handOverEvidence = [];
    private long[]? _olderHandOvers;
    private long _openedAt;

    /// <summary>
    /// Called when the head block changed the set (the set of its post-state is not the one that sealed it): records it
    /// and takes its evidence at once, while its state version is surely retained (pruning may drop it later).
    /// </summary>
    private void RecordHandOver()
    {
        var head = _head;
        var state = ProveState(StateKeys.ValidatorSet);
        var evidence = new ValidatorSetHandOver(head.Header, head.Certificate, NextValidators, state.Proof);
        lock (_handOverGate)
        {
            _recentHandOvers.Add(head.Header.Height);
            _handOverEvidence[head.Header.Height] = evidence;
        }
    }

    /// <summary>
    /// The heights of every hand-over block below <paramref name="height"/> (each changed the set of the block after it),
    /// ascending. Blocks committed since this chain was opened are known; older ones are found once, by reading the
    /// stored headers (no execution), the first time a receipt needs them.
    /// </summary>
    public async ValueTask<IReadOnlyList<long>> HandOversBelowAsync(long height, CancellationToken cancellationToken)
    {
        var older = _olderHandOvers ??= await ScanHandOversAsync(_openedAt, cancellationToken).ConfigureAwait(false);
        lock (_handOverGate)
        {
            return [.. older.Concat(_recentHandOvers).Where(h => h < height).Order()];
        }
    }

    /// <summary>
    /// The evidence of every hand-over below <paramref name="height"/>: what a receipt of a block at that height carries
    /// (docs/receipts.md, "Validator-set hand-overs"). Fails with <see cref="ChainQueryError.StatePruned"/> when the
    /// state of a hand-over block was pruned before its evidence was taken.
    /// </summary>
    public async ValueTask<ChainQuery<IReadOnlyList<ValidatorSetHandOver>>> HandOverEvidenceBelowAsync(long height, CancellationToken cancellationToken)
    {
        var evidence = new List<ValidatorSetHandOver>();
        foreach (var at in await HandOversBelowAsync(height, cancellationToken).ConfigureAwait(false))
        {
            ValidatorSetHandOver? known;
            lock (_handOverGate)
            {
                _handOverEvidence.TryGetValue(at, out known);
            }

            if (known is null)
            {
                var proved = await ProveStateOnlyAsync(StateKeys.ValidatorSet, at, cancellationToken).ConfigureAwait(false);
                if (!proved.IsFound)
                {
                    return ChainQuery<IReadOnlyList<ValidatorSetHandOver>>.Fail(proved.Error,
                        $"the receipt needs the validator-set hand-over at height {at}, whose state cannot be proved any more: {proved.Message}");
                }

                var state = proved.Value!;
                var incoming = ValidatorSetInState.Decode(state.Value, Suite)
                    ?? throw new InvalidOperationException($"the validator-set value at height {at} does not decode");
                known = new ValidatorSetHandOver(state.Header, state.Certificate, incoming, state.Proof);
                lock (_handOverGate)
                {
                    _handOverEvidence[at] = known;
                }
            }

            evidence.Add(known);
        }

        return ChainQuery<IReadOnlyList<ValidatorSetHandOver>>.Found(evidence);
    }

    /// <summary>Hand-overs among blocks 0 .. <paramref name="openedAt"/> − 1, from the stored headers 0 .. openedAt (the head at opening is checked against its state when it opens).</summary>
    private async ValueTask<long[]> ScanHandOversAsync(long openedAt, CancellationToken cancellationToken)
    {
        var found = new List<long>();
        if (openedAt == 0)
        {
            return [];
        }

        var previous = _genesis.Header.ValidatorSetHash;
        for (var h = 1L; h <= openedAt; h++)
        {
            var (header, _) = (await GetCertifiedHeaderAsync(h, cancellationToken).ConfigureAwait(false))!.Value;
            if (header.ValidatorSetHash != previous)
            {
                found.Add(h - 1);
                previous = header.ValidatorSetHash;
            }
        }

        return [.. found];
    }
}
