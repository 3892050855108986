using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Proofs;

namespace SmartCity.Benchmarks.Proofs;

/// <summary>The history tree at 1,000,000 transactions: appending a 2,000-transaction block, and its proofs.</summary>
[MemoryDiagnoser]
public class HistoryTreeBenchmarks
{
    private const long LogSize = 1_000_000;
    private const int BlockSize = 2_000;

    private readonly InMemoryHistoryNodeStore _store = new();
    private HistoryTree _tree = null!;
    private byte[][] _blockTransactions = [];
    private Hash256[] _blockLeafHashes = [];
    private InclusionProof _inclusion = null!;
    private Hash256 _inclusionLeaf;
    private ConsistencyProof _consistency = null!;
    private Hash256 _firstRoot;
    private Hash256 _secondRoot;

    [GlobalSetup]
    public void Setup()
    {
        _tree = new HistoryTree(_store);
        for (var i = 0; i < LogSize; i++)
        {
            _tree.Append(Transaction(i));
        }

        _blockTransactions = Enumerable.Range((int)LogSize, BlockSize).Select(Transaction).ToArray();
        _blockLeafHashes = _blockTransactions.Select(tx => Rfc6962.LeafHash(tx)).ToArray();
        _inclusionLeaf = Rfc6962.LeafHash(Transaction(654_321));
        _inclusion = _tree.ProveInclusion(654_321, LogSize);
        _consistency = _tree.ProveConsistency(777_777, LogSize);
        _firstRoot = _tree.RootAt(777_777);
        _secondRoot = _tree.RootAt(LogSize);
    }

    [Benchmark(Description = "append 2,000 transactions onto 1M (leaf hashing included)")]
    public Hash256 AppendBlock()
    {
        // Reopen at 1M each time: the block's nodes are rewritten in place, so every run does the same work.
        var tree = new HistoryTree(_store, LogSize);
        foreach (var transaction in _blockTransactions)
        {
            tree.Append(transaction);
        }

        return tree.Root;
    }

    [Benchmark(Description = "append 2,000 leaf hashes onto 1M")]
    public Hash256 AppendBlockLeafHashes()
    {
        var tree = new HistoryTree(_store, LogSize);
        tree.AppendLeafHashes(_blockLeafHashes);
        return tree.Root;
    }

    [Benchmark(Description = "inclusion proof: generate")]
    public InclusionProof ProveInclusion() => _tree.ProveInclusion(654_321, LogSize);

    [Benchmark(Description = "inclusion proof: verify")]
    public bool VerifyInclusion() => _inclusion.Verify(_inclusionLeaf, _secondRoot);

    [Benchmark(Description = "consistency proof: generate")]
    public ConsistencyProof ProveConsistency() => _tree.ProveConsistency(777_777, LogSize);

    [Benchmark(Description = "consistency proof: verify")]
    public bool VerifyConsistency() => _consistency.Verify(_firstRoot, _secondRoot);

    /// <summary>A stand-in for a transaction's canonical bytes: 250 bytes, distinct per index.</summary>
    private static byte[] Transaction(int i)
    {
        var transaction = new byte[250];
        BinaryPrimitives.WriteInt32BigEndian(transaction, i);
        transaction.AsSpan(4).Fill((byte)i);
        return transaction;
    }
}
