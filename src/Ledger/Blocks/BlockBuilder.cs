using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Blocks;

/// <summary>
/// Turns an ordered list of transactions into a block candidate on top of a parent: applies each through the state
/// machine (over the parent's state plus the writes of the transactions before it), keeps the accepted ones, skips
/// rejected ones with their reasons, and computes every root of the header. Building changes nothing: the state
/// tree is content-addressed, and the history nodes of the candidate stay in its own overlay until
/// <see cref="LedgerChain.Commit"/>. Deterministic, so a validator checks a proposal by building it again.
/// </summary>
public sealed class BlockBuilder(CreditStateMachine machine, StateTree stateTree, ValidatorSet validators)
{
    public ValidatorSet Validators => validators;

    public BlockCandidate Build(ChainHead parent, IReadOnlyList<ReadOnlyMemory<byte>> transactions, DateTimeOffset blockTime, int round)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(transactions);
        var limits = machine.Parameters;
        var state = new StateOverlay(new StateTreeReader(stateTree, parent.StateRoot));
        var accepted = new List<byte[]>();
        var hashes = new List<Hash256>();
        var rejected = new List<RejectedTransaction>();
        var bytes = 0;
        var taken = 0;
        for (; taken < transactions.Count; taken++)
        {
            var tx = transactions[taken];
            if (accepted.Count == limits.MaxBlockTransactions || bytes + tx.Length > limits.MaxBlockBytes)
            {
                break; // the rest waits for the next block
            }

            var transition = machine.Apply(state, tx, blockTime);
            if (!transition.IsAccepted)
            {
                rejected.Add(new RejectedTransaction(taken, transition.TransactionHash, transition.Code, transition.Reason));
                continue;
            }

            foreach (var write in transition.Writes)
            {
                state.Set(write.Key, write.Value);
            }

            accepted.Add(tx.ToArray());
            hashes.Add(transition.TransactionHash);
            bytes += tx.Length;
        }

        var writes = state.Writes;
        var stateRoot = stateTree.Apply(parent.StateRoot, [.. writes]);

        var leafHashes = accepted.Select(tx => Rfc6962.LeafHash(tx)).ToArray();
        var blockTree = new HistoryTree(new InMemoryHistoryNodeStore());
        blockTree.AppendLeafHashes(leafHashes);
        var history = new HistoryNodeOverlay(parent.HistoryNodes);
        var historyTree = new HistoryTree(history, parent.HistorySize);
        historyTree.AppendLeafHashes(leafHashes);

        var height = parent.Height + 1;
        var header = new BlockHeader(
            parent.ChainId,
            height,
            parent.HeaderHash,
            blockTime.ToUnixTimeMilliseconds(),
            validators.ProposerFor(height, round),
            round,
            accepted.Count,
            blockTree.Root,
            stateRoot,
            historyTree.Size,
            historyTree.Root,
            validators.Hash);
        return new BlockCandidate(header, accepted, hashes, rejected, writes, history, taken);
    }
}

/// <summary>What a block builds on: the parent header's hash and roots, and where the history nodes live.</summary>
public sealed record ChainHead(ulong ChainId, long Height, Hash256 HeaderHash, Hash256 StateRoot, long HistorySize, IHistoryNodeStore HistoryNodes);

/// <summary>A transaction left out of a block, with the state machine's reason.</summary>
public sealed record RejectedTransaction(int Index, Hash256 TransactionHash, RejectionCode Code, string Reason);

/// <summary>
/// A block ready to be sealed: its header, the accepted transactions (canonical bytes) with their ids, the skipped
/// ones, the net state writes, the new history nodes, and how many of the offered transactions it consumed.
/// </summary>
public sealed record BlockCandidate(
    BlockHeader Header,
    IReadOnlyList<byte[]> Transactions,
    IReadOnlyList<Hash256> TransactionHashes,
    IReadOnlyList<RejectedTransaction> Rejected,
    IReadOnlyList<StateWrite> StateWrites,
    HistoryNodeOverlay HistoryNodes,
    int Consumed);

/// <summary>Reads the state tree at one root through the state machine's <see cref="IStateReader"/>.</summary>
public sealed class StateTreeReader(StateTree tree, Hash256 root) : IStateReader
{
    public byte[]? Get(Hash256 key) => tree.Get(root, key);
}

/// <summary>History nodes written on top of a base store, kept apart until <see cref="FlushTo"/>.</summary>
public sealed class HistoryNodeOverlay(IHistoryNodeStore baseStore) : IHistoryNodeStore
{
    private readonly Dictionary<(int Level, long Index), Hash256> _written = [];

    public IEnumerable<KeyValuePair<(int Level, long Index), Hash256>> Written => _written;

    public Hash256 Get(int level, long index) => _written.TryGetValue((level, index), out var hash) ? hash : baseStore.Get(level, index);

    public void Put(int level, long index, in Hash256 hash) => _written[(level, index)] = hash;

    /// <summary>Writes the new nodes to <paramref name="target"/> level by level in index order, as the store contract asks.</summary>
    public void FlushTo(IHistoryNodeStore target)
    {
        foreach (var ((level, index), hash) in _written.OrderBy(n => n.Key.Level).ThenBy(n => n.Key.Index))
        {
            target.Put(level, index, hash);
        }
    }
}
