using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Blocks;

/// <summary>
/// Turns transactions into a block candidate on top of a parent: the <see cref="BlockBuilder"/> applies them (skipping
/// rejected ones with their reasons, deferring what does not fit), then every root of the header is computed.
/// Assembling changes nothing: the state tree is content-addressed, and the candidate's history nodes stay in its own
/// overlay until the node commits it. Deterministic, so a validator checks a proposal by assembling it
/// again and comparing header hashes. The header names the validator set in force at its height — the parent state's
/// <c>validator-set</c> (<see cref="ValidatorSetInState"/>) — and that set's proposer of (height, round).
/// </summary>
public sealed class BlockAssembler(CreditStateMachine machine, StateTree stateTree)
{
    private readonly BlockBuilder _builder = new(machine);
    private readonly ValidatorSetInState _validators = new();

    /// <summary>The set that seals the block built on <paramref name="parent"/>: the parent state's <c>validator-set</c>.</summary>
    public ValidatorSet ValidatorsOn(ChainHead parent)
    {
        ArgumentNullException.ThrowIfNull(parent);
        return _validators.After(parent.State ?? new StateTreeReader(stateTree, parent.StateRoot));
    }

    public BlockCandidate Assemble(ChainHead parent, IEnumerable<ReadOnlyMemory<byte>> transactions, DateTimeOffset blockTime, int round)
    {
        ArgumentNullException.ThrowIfNull(parent);
        return Finish(parent, _builder.Build(parent.State ?? new StateTreeReader(stateTree, parent.StateRoot), transactions, blockTime), blockTime, round);
    }

    /// <summary>As above, from transactions decoded and signature-checked once (see <see cref="TransactionIntake"/>).</summary>
    public BlockCandidate Assemble(ChainHead parent, IEnumerable<VerifiedTransaction> transactions, DateTimeOffset blockTime, int round)
    {
        ArgumentNullException.ThrowIfNull(parent);
        return Finish(parent, _builder.Build(parent.State ?? new StateTreeReader(stateTree, parent.StateRoot), transactions, blockTime), blockTime, round);
    }

    private BlockCandidate Finish(ChainHead parent, BlockBody body, DateTimeOffset blockTime, int round)
    {
        var stateRoot = stateTree.Apply(parent.StateRoot, body.Writes is StateWrite[] writes ? writes : [.. body.Writes]);

        var suite = machine.Suite;
        var leafHashes = new Hash256[body.Included.Count];
        for (var i = 0; i < leafHashes.Length; i++)
        {
            leafHashes[i] = suite.HistoryLeafHash(body.Included[i].Bytes.Span);
        }

        var history = new HistoryNodeOverlay(parent.HistoryNodes);
        var historyTree = new HistoryTree(history, parent.HistorySize, suite);
        historyTree.AppendLeafHashes(leafHashes);

        var height = parent.Height + 1;
        var validators = ValidatorsOn(parent);
        var header = new BlockHeader(
            parent.ChainId,
            height,
            parent.HeaderHash,
            blockTime.ToUnixTimeMilliseconds(),
            validators.ProposerFor(height, round),
            round,
            body.Included.Count,
            HistoryTree.RootOf(leafHashes, suite),
            stateRoot,
            historyTree.Size,
            historyTree.Root,
            validators.Hash)
        {
            Crypto = suite.Id,
        };
        return new BlockCandidate(header, body, history);
    }
}

/// <summary>
/// What a block builds on: the parent header's hash and roots, and where the history nodes live. <see cref="State"/>
/// optionally reads the parent's state faster than a walk of the tree (it must answer exactly what the tree at
/// <see cref="StateRoot"/> answers); null reads the tree.
/// </summary>
public sealed record ChainHead(ulong ChainId, long Height, Hash256 HeaderHash, Hash256 StateRoot, long HistorySize, IHistoryNodeStore HistoryNodes)
{
    public IStateReader? State { get; init; }
}

/// <summary>A block ready to be sealed: its header, its body (see <see cref="BlockBody"/>) and its new history nodes.</summary>
public sealed record BlockCandidate(BlockHeader Header, BlockBody Body, HistoryNodeOverlay HistoryNodes);

/// <summary>History nodes written on top of a base store, kept apart until <see cref="FlushTo"/>.</summary>
public sealed class HistoryNodeOverlay(IHistoryNodeStore baseStore) : IHistoryNodeStore
{
    private readonly Dictionary<(int Level, long Index), Hash256> _written = [];

    /// <summary>The nodes this candidate completed, level by level in index order.</summary>
    public IEnumerable<(int Level, long Index, Hash256 Hash)> Written
        => _written.OrderBy(n => n.Key.Level).ThenBy(n => n.Key.Index).Select(n => (n.Key.Level, n.Key.Index, n.Value));

    public Hash256 Get(int level, long index) => _written.TryGetValue((level, index), out var hash) ? hash : baseStore.Get(level, index);

    public void Put(int level, long index, in Hash256 hash) => _written[(level, index)] = hash;

    /// <summary>Writes the new nodes to <paramref name="target"/> level by level in index order, as the store contract asks.</summary>
    public void FlushTo(IHistoryNodeStore target)
    {
        foreach (var (level, index, hash) in Written)
        {
            target.Put(level, index, hash);
        }
    }
}
