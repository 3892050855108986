using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>An <see cref="IStateNodeStore"/> in memory; keeps every version (nothing is pruned).</summary>
public sealed class InMemoryStateNodeStore : IStateNodeStore
{
    private readonly ConcurrentDictionary<Hash256, StateNode> _nodes = new();

    public int Count => _nodes.Count;

    public bool TryGet(in Hash256 hash, [NotNullWhen(true)] out StateNode? node) => _nodes.TryGetValue(hash, out node);

    public void PutBatch(in Hash256 root, ReadOnlySpan<NewStateNode> nodes, ReadOnlySpan<Hash256> replaced)
    {
        foreach (ref readonly var node in nodes)
        {
            _nodes[node.Hash] = node.ToNode();
        }
    }
}
