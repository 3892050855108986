using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>How the set in force at a height was found (<see cref="ValidatorSetWalk"/>).</summary>
public enum SetInForceCheck
{
    /// <summary>The set is known: the one in force before, or the one the state after the previous block installs.</summary>
    InForce,

    /// <summary>The header names another set, and the state after the previous block that would prove it is pruned (state retention).</summary>
    HandOverStatePruned,

    /// <summary>The header names a set that the state after the previous block does not hold: a forged or stale set.</summary>
    NotTheStatesSet,
}

/// <summary>The set in force at a height, or why it cannot be known.</summary>
public sealed record SetInForce(SetInForceCheck Check, ValidatorSet? Set, string? Reason)
{
    public bool IsKnown => Check == SetInForceCheck.InForce;
}

/// <summary>
/// The validator set in force at each height of a stored chain, followed the way a light client follows it and without
/// trusting the block being checked (docs/consensus.md, "Validator-set changes"): start from the genesis set (or a set
/// verified before); while a header names the current set's hash the set stays; when it names another, the set in force
/// is the <c>validator-set</c> value of the state after the previous, already verified block, read from the store's
/// state-tree nodes with its state proof under that block's state root and checked with the receipts' own hand-over
/// check (<see cref="ValidatorSetHandOver.ProvesIncoming"/>). Used by <c>store verify</c>, the chain audit, the API's
/// VerifyChain and reconciliation.
/// </summary>
public sealed class ValidatorSetWalk
{
    private readonly IStateTreeStore _store;
    private readonly CryptoSuite _suite;
    private readonly Dictionary<Hash256, ValidatorSet> _proven = [];

    /// <summary>Starts at <paramref name="start"/> (the genesis set, or one a previous walk proved), reading state-tree nodes from <paramref name="store"/>, hashing in <paramref name="suite"/>.</summary>
    public ValidatorSetWalk(ValidatorSet start, IStateTreeStore store, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(suite);
        Current = start;
        _store = store;
        _suite = suite;
        _proven[start.Hash] = start;
    }

    /// <summary>The set in force at the last height asked for (the start set before any).</summary>
    public ValidatorSet Current { get; private set; }

    /// <summary>
    /// The set that must certify <paramref name="header"/>, whose parent <paramref name="previous"/> the caller has
    /// verified (linked and certified) already. Heights are asked for in ascending order.
    /// </summary>
    public async ValueTask<SetInForce> SetForAsync(BlockHeader previous, BlockHeader header, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(header);
        if (header.ValidatorSetHash == Current.Hash)
        {
            return new SetInForce(SetInForceCheck.InForce, Current, null);
        }

        var found = await InStateAfterAsync(previous, cancellationToken).ConfigureAwait(false);
        if (!found.IsKnown)
        {
            return found with
            {
                Reason = $"block {header.Height} names validator set {header.ValidatorSetHash}, not the {Current.Hash} in force before it, and {found.Reason}",
            };
        }

        if (found.Set!.Hash != header.ValidatorSetHash)
        {
            return new SetInForce(SetInForceCheck.NotTheStatesSet, null,
                $"block {header.Height} names validator set {header.ValidatorSetHash}, but the state after block {previous.Height} (state root {previous.StateRoot}) installs {found.Set.Hash}");
        }

        Current = found.Set;
        return found;
    }

    /// <summary>A set this walk has proven (or started from) with hash <paramref name="hash"/>, or null.</summary>
    public ValidatorSet? Proven(Hash256 hash) => _proven.GetValueOrDefault(hash);

    /// <summary>
    /// The set named by <paramref name="header"/>, known without walking every height before it (reconciliation, which
    /// resumes at any height): the sets proven so far, then the state after <paramref name="previous"/>.
    /// </summary>
    public async ValueTask<SetInForce> SetNamedByAsync(BlockHeader previous, BlockHeader header, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (_proven.TryGetValue(header.ValidatorSetHash, out var known))
        {
            Current = known;
            return new SetInForce(SetInForceCheck.InForce, known, null);
        }

        return await SetForAsync(previous, header, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The <c>validator-set</c> of the state after <paramref name="block"/>, proved under its state root from the store's nodes.</summary>
    private async ValueTask<SetInForce> InStateAfterAsync(BlockHeader block, CancellationToken cancellationToken)
    {
        var key = StateKeys.ValidatorSet.HashIn(_suite);
        var nodes = ChainStateNodes.OverStore(_store, StateProof.MaxDepth + 1, _suite);
        var tree = new StateTree(nodes, _suite);
        byte[]? value;
        StateProof proof;
        try
        {
            await nodes.PrefetchPathAsync(block.StateRoot, key, cancellationToken).ConfigureAwait(false);
            value = tree.Get(block.StateRoot, key);
            proof = tree.Prove(block.StateRoot, key);
        }
        catch (KeyNotFoundException)
        {
            var retention = await _store.GetStateRetentionAsync(cancellationToken).ConfigureAwait(false);
            return new SetInForce(SetInForceCheck.HandOverStatePruned, null,
                $"the state after block {block.Height} that would prove it is no longer stored (state retained from height {retention.RetainedFrom}): the hand-over cannot be checked");
        }

        var incoming = value is null ? null : ValidatorSetInState.Decode(value, _suite);
        if (incoming is null || !ValidatorSetHandOver.ProvesIncoming(block, incoming, proof, _suite))
        {
            return new SetInForce(SetInForceCheck.NotTheStatesSet, null,
                $"the state after block {block.Height} holds no provable validator-set under its state root {block.StateRoot}");
        }

        _proven[incoming.Hash] = incoming;
        return new SetInForce(SetInForceCheck.InForce, incoming, null);
    }
}
