using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>One validator of an in-process consortium: a name for output, its store and its validator key.</summary>
public sealed record ConsortiumMember(string Name, ILedgerStore Store, IBlockSealer Sealer);

/// <summary>
/// Several validator nodes in one process, each a full <see cref="LedgerNode"/> on its own store, agreeing through
/// <see cref="InProcessQuorum"/>: what the demo, the tests and the benchmarks run until the nodes talk QBFT over the
/// network. A submission goes to every node, as gossip would deliver it, so each node verifies it once itself.
/// </summary>
public sealed class InProcessConsortium : IAsyncDisposable
{
    private readonly List<(string Name, LedgerNode Node)> _nodes;

    private InProcessConsortium(List<(string Name, LedgerNode Node)> nodes) => _nodes = nodes;

    public IReadOnlyList<(string Name, LedgerNode Node)> Nodes => _nodes;

    /// <summary>Opens a node per member (each from its own store) and starts their agreement.</summary>
    public static async Task<InProcessConsortium> StartAsync(GenesisDocument genesis, IReadOnlyList<ConsortiumMember> members, LedgerNodeSetup template, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(template);
        var quorum = new InProcessQuorum(members.Count);
        var nodes = new List<(string, LedgerNode)>();
        try
        {
            foreach (var member in members)
            {
                var setup = template with { Genesis = genesis, Store = member.Store, Consensus = quorum.Member(member.Sealer) };
                nodes.Add((member.Name, await LedgerNode.OpenAsync(setup, cancellationToken).ConfigureAwait(false)));
            }
        }
        catch
        {
            foreach (var (_, node) in nodes)
            {
                await node.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        return new InProcessConsortium(nodes);
    }

    /// <summary>Submits to every node; the answer is the first node's (with the outcome when asked to wait).</summary>
    public async Task<SubmitResult> SubmitAsync(ReadOnlyMemory<byte> transaction, bool waitForCommit, CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(_nodes.Select((n, i) => n.Node.SubmitAsync(transaction, waitForCommit && i == 0, cancellationToken).AsTask())).ConfigureAwait(false);
        return results[0];
    }

    /// <summary>Submits a batch to every node (each verifies it as one batch); the answers are the first node's.</summary>
    public async Task<IReadOnlyList<SubmitResult>> SubmitManyAsync(IReadOnlyList<ReadOnlyMemory<byte>> transactions, bool waitForCommit, CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(_nodes.Select((n, i) => n.Node.SubmitManyAsync(transactions, waitForCommit && i == 0, cancellationToken))).ConfigureAwait(false);
        return results[0];
    }

    /// <summary>Waits until every node's head is at least <paramref name="height"/>.</summary>
    public async Task WaitForHeightAsync(long height, CancellationToken cancellationToken)
    {
        foreach (var (_, node) in _nodes)
        {
            var head = node.Head;
            while (head.Height < height && head.Health == NodeHealth.Running)
            {
                head = await head.NextAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits (briefly polling) until no node has a transaction waiting: every block agreed, every rejected one dropped.</summary>
    public async Task WaitUntilIdleAsync(CancellationToken cancellationToken)
    {
        while (_nodes.Any(n => n.Node.MempoolSize > 0))
        {
            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, node) in _nodes)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }
    }
}
