using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node.Tests;

public sealed class ChainHistoryNodesTests
{
    private static readonly CryptoSuite Suite = CryptoSuite.For(CryptoSuiteId.Eth);

    [Fact]
    public void Blocks_build_on_the_newest_node_of_each_level_and_proofs_read_the_older_nodes_from_the_store_once()
    {
        var store = new CountingHistoryStore();
        var nodes = new ChainHistoryNodes(store, store, capacity: 1024);
        var reference = new HistoryTree(new InMemoryHistoryNodeStore(), 0, Suite);

        // 1,000 leaves in blocks of 37, committed as the chain does: the block's new nodes go to the store, then to the
        // chain's nodes level by level (HistoryNodeOverlay.FlushTo).
        var size = 0L;
        for (var block = 0; size < 1_000; block++)
        {
            var overlay = new HistoryNodeOverlay(nodes);
            var tree = new HistoryTree(overlay, size, Suite);
            for (var i = 0; i < 37 && size < 1_000; i++, size++)
            {
                var leaf = BitConverter.GetBytes(size);
                tree.Append(leaf);
                reference.Append(leaf);
            }

            Assert.Equal(reference.Root, tree.Root);
            overlay.FlushTo(store.Nodes);
            overlay.FlushTo(nodes);
        }

        Assert.Equal(0, store.Reads); // every build found the frontier among the newest nodes

        var proof = new HistoryTree(nodes, size, Suite).ProveInclusion(5, size);
        Assert.Equal(reference.ProveInclusion(5, size).Path.ToArray(), proof.Path.ToArray());
        var reads = store.Reads;
        Assert.True(reads > 0, "a proof of an old leaf needs nodes that are not on the frontier");

        new HistoryTree(nodes, size, Suite).ProveInclusion(5, size);
        Assert.Equal(reads, store.Reads); // read once, then cached
    }

    [Fact]
    public void A_node_older_than_the_newest_of_its_level_is_not_kept_by_a_put()
    {
        var store = new CountingHistoryStore();
        var nodes = new ChainHistoryNodes(store, store, capacity: 1024);
        var older = Keccak256.Hash("older"u8);
        var newer = Keccak256.Hash("newer"u8);
        store.Nodes.Put(0, 3, older);

        nodes.Put(0, 4, newer);
        nodes.Put(0, 3, older); // out of order: the store has it, the newest stays

        Assert.Equal(newer, nodes.Get(0, 4));
        Assert.Equal(0, store.Reads);
        Assert.Equal(older, nodes.Get(0, 3));
        Assert.Equal(1, store.Reads);
    }

    /// <summary>A store's history nodes, counting the synchronous reads the chain makes; nothing else is asked of it here.</summary>
    private sealed class CountingHistoryStore : IStateTreeStore, IBlockStore
    {
        private int _reads;

        public InMemoryHistoryNodeStore Nodes { get; } = new();

        public int Reads => Volatile.Read(ref _reads);

        public Hash256? GetHistoryNode(int level, long index)
        {
            Interlocked.Increment(ref _reads);
            return Nodes.Get(level, index);
        }

        public ValueTask<Hash256?> GetHistoryNodeAsync(int level, long index, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetHistoryNode(level, index));

        public ValueTask<byte[]?> GetStateNodeAsync(Hash256 hash, CancellationToken cancellationToken) => throw Unused();

        public byte[]? GetStateNode(Hash256 hash) => throw Unused();

        public ValueTask<StateRetention> GetStateRetentionAsync(CancellationToken cancellationToken) => throw Unused();

        public ValueTask<StoreHead?> GetHeadAsync(CancellationToken cancellationToken) => throw Unused();

        public ValueTask AppendAsync(BlockCommit block, CancellationToken cancellationToken) => throw Unused();

        public ValueTask<StoredBlockHeader?> GetHeaderAsync(long height, CancellationToken cancellationToken) => throw Unused();

        public ValueTask<StoredBlockHeader?> GetHeaderByHashAsync(Hash256 blockHash, CancellationToken cancellationToken) => throw Unused();

        public ValueTask<StoredBlock?> GetBlockAsync(long height, CancellationToken cancellationToken) => throw Unused();

        public ValueTask<StoredBlock?> GetBlockByHashAsync(Hash256 blockHash, CancellationToken cancellationToken) => throw Unused();

        public ValueTask<TransactionLocation?> GetTransactionAsync(Hash256 txHash, CancellationToken cancellationToken) => throw Unused();

        private static NotSupportedException Unused() => new("not part of this test");
    }
}
