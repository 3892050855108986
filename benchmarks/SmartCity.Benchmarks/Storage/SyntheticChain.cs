using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;
using SmartCity.Testing.Storage;
using SmartCity.Testing.TestKit;

namespace SmartCity.Benchmarks.Storage;

/// <summary>
/// Builds a chain of real, certified blocks over <see cref="TestBlocks"/> contents, fast enough for a million
/// transactions: the state machine is skipped (TestBlocks' transactions are random bytes and their state writes are
/// given), but every header carries the true transaction root, history size and root and state root, every certificate
/// has three valid seals of the sample genesis validators, and every commit carries the state-tree nodes it created and
/// the nodes it made stale — so a chain opened from the store is exactly what a node would reopen.
/// </summary>
internal sealed class SyntheticChain
{
    private static readonly ISigner[] ValidatorKeys = [.. new[] { 101, 102, 103, 104 }.Select(seed => new TestKey(seed, "validator", "", "BJ").Signer)];
    private readonly LedgerChain _genesisChain = new(GenesisBuilder.Sample.Value, Secp256k1.Default);
    private readonly ChainStateNodes _nodes;
    private readonly StateTree _tree;
    private readonly InMemoryHistoryNodeStore _history = new();
    private readonly TestBlocks _contents;
    private long _historySize;

    public SyntheticChain(TestBlocks contents, IStateTreeStore? store, int cacheEntries)
    {
        _contents = contents;
        _nodes = store is null ? ChainStateNodes.InMemory(_genesisChain.Suite) : ChainStateNodes.OverStore(store, cacheEntries, _genesisChain.Suite);
        _tree = new StateTree(_nodes, _genesisChain.Suite);
        Root = _tree.Apply(StateTree.EmptyRoot, [.. _genesisChain.Machine.GenesisWrites()]);
        _nodes.Commit(_nodes.PendingBatch(Root));
        Head = _genesisChain.Head;
    }

    public BlockHeader Head { get; private set; }

    public Hash256 Root { get; private set; }

    public BlockCommit Genesis => _genesisChain.GenesisCommit();

    /// <summary>Adds <paramref name="count"/> keys to the in-memory state without writing blocks (a large state to build on).</summary>
    public void Preload(int count)
    {
        for (var first = 0; first < count; first += 100_000)
        {
            var writes = Enumerable.Range(first, Math.Min(100_000, count - first))
                .Select(i => new StateWrite(Keccak256.Hash(BitConverter.GetBytes((long)i + 1_000_000_000_000)), new byte[64])).ToArray();
            Root = _tree.Apply(Root, writes);
            _nodes.Commit(_nodes.PendingBatch(Root));
        }
    }

    /// <summary>The next block (height head + 1) as a store commit, certified.</summary>
    public BlockCommit Next()
    {
        var height = Head.Height + 1;
        var content = _contents.At(height - 1); // TestBlocks count from 0, with history indexes from 0: they line up
        var writes = content.StateWrites;
        var newRoot = _tree.Apply(Root, [.. writes]);
        var batch = _nodes.PendingBatch(newRoot);
        var stale = batch?.Replaced ?? [];
        _nodes.Commit(batch);

        var blockTree = new HistoryTree(new InMemoryHistoryNodeStore());
        var overlay = new HistoryNodeOverlay(_history);
        var history = new HistoryTree(overlay, _historySize);
        foreach (var tx in content.Transactions)
        {
            var leaf = Rfc6962.LeafHash(tx.Bytes.Span);
            blockTree.AppendLeafHash(leaf);
            history.AppendLeafHash(leaf);
        }

        overlay.FlushTo(_history);
        var validators = _genesisChain.Anchor.Validators;
        var header = new BlockHeader(Head.ChainId, height, Head.Hash, content.Timestamp, validators.ProposerFor(height, 0), 0, content.Transactions.Count,
            blockTree.Root, newRoot, history.Size, history.Root, validators.Hash);
        var certificate = CommitCertificate.FromSeals(Secp256k1.Default, _genesisChain.Anchor.DomainSeparator, header,
            ValidatorKeys.Take(3).Select(key => CommitSeal.Sign(key, _genesisChain.Anchor.DomainSeparator, header)));
        var commit = new BlockCommit(height, header.Hash, Head.Hash, content.Timestamp, header.Encode(), certificate.Encode(),
            content.Transactions, writes, [.. overlay.Written.Select(n => new HistoryNode(n.Level, n.Index, n.Hash))], content.Projections)
        {
            StateNodes = batch is null ? [] : [.. batch.Nodes.Select(n => new StoredStateNode(n.Hash, n.Encode()))],
            StaleStateNodes = stale,
        };
        Head = header;
        Root = newRoot;
        _historySize = history.Size;
        return commit;
    }
}
