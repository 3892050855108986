using System.Diagnostics.CodeAnalysis;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>
/// Where the state tree keeps its nodes, content-addressed: a node is stored under its hash, so every version's
/// nodes live side by side and a root hash is all a reader needs to read its version. Writing a node that is already
/// there is harmless (same hash, same content).
/// </summary>
/// <remarks>
/// <see cref="TryGet"/> may be called from many threads at once, also while a batch is being written; the tree calls
/// <see cref="PutBatch"/> from one thread, once per applied batch, after it has finished hashing.
/// </remarks>
public interface IStateNodeStore
{
    bool TryGet(in Hash256 hash, [NotNullWhen(true)] out StateNode? node);

    /// <summary>
    /// Stores the nodes a batch created (children before parents; the last one is the new root). The list is reused
    /// by the tree after the call returns: copy what must outlive it.
    /// </summary>
    void PutBatch(IReadOnlyList<KeyValuePair<Hash256, StateNode>> nodes);
}
