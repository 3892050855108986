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

    public void PutBatch(in Hash256 root, IReadOnlyList<KeyValuePair<Hash256, StateNode>> nodes, IReadOnlyList<Hash256> replaced)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        for (var i = 0; i < nodes.Count; i++)
        {
            _nodes[nodes[i].Key] = nodes[i].Value;
        }
    }
}
