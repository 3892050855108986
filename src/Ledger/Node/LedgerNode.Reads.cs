using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>Reads for the credit API: a consistent view of the chain between two blocks, and the node's store.</summary>
public sealed partial class LedgerNode
{
    /// <summary>
    /// Runs <paramref name="read"/> over the chain on the writer, between two blocks, so everything it reads (state at
    /// any height, proofs, the history) belongs to one head. Keep it short: blocks wait meanwhile.
    /// </summary>
    public Task<T> ReadChainAsync<T>(Func<LedgerChain, T> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        return OnWriterAsync(() => ValueTask.FromResult(read(_chain)), cancellationToken);
    }

    /// <summary>The store's committed blocks (headers, certificates, transactions) for audit reads.</summary>
    public IBlockStore Blocks => _store;

    /// <summary>The store's state-tree nodes (every retained state version), for proofs against stored headers.</summary>
    public IStateTreeStore StateNodes => _store;

    /// <summary>The store's hash-chained access log.</summary>
    public IAccessLogStore AccessLog => _store;
}
