using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>One validator of an in-process consortium: a name for output, its store and its validator key.</summary>
public sealed record ConsortiumMember(string Name, ILedgerStore Store, IBlockSealer Sealer);

/// <summary>
/// One validator of an in-process QBFT consortium: a name for output, its validator key, how to open its store (again,
/// after a stop) and its consensus journal (a file survives a stop; null keeps it in memory for the process).
/// </summary>
public sealed record QbftConsortiumMember(string Name, ISigner Signer, Func<CancellationToken, ValueTask<ILedgerStore>> OpenStore, string? JournalPath);

/// <summary>
/// Several validator nodes in one process, each a full <see cref="LedgerNode"/> on its own store. They agree either
/// through <see cref="InProcessQuorum"/> (<see cref="StartAsync"/>: re-execution and a quorum of seals, no voting) or
/// by QBFT (<see cref="StartQbftAsync"/>: each node runs its own <see cref="QbftConsensusEngine"/> over an
/// <see cref="InProcessConsensusNetwork"/> and catches up from the other nodes' stores) — then a validator can be
/// stopped, as a crash would, and started again from its store and journal (<see cref="StopAsync"/>,
/// <see cref="RestartAsync"/>). A submission goes to every running node, as gossip would deliver it, so each node
/// verifies it once itself.
/// </summary>
public sealed class InProcessConsortium : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly string[] _names;
    private readonly LedgerNode?[] _nodes;
    private readonly QbftSetup? _qbft;

    private InProcessConsortium(string[] names, LedgerNode?[] nodes, QbftSetup? qbft)
    {
        _names = names;
        _nodes = nodes;
        _qbft = qbft;
    }

    /// <summary>The running nodes, in member order.</summary>
    public IReadOnlyList<(string Name, LedgerNode Node)> Nodes
    {
        get
        {
            lock (_gate)
            {
                return [.. _names.Zip(_nodes).Where(p => p.Second is not null).Select(p => (p.First, p.Second!))];
            }
        }
    }

    /// <summary>Whether the validators run QBFT (else they agree through <see cref="InProcessQuorum"/>).</summary>
    public bool RunsQbft => _qbft is not null;

    /// <summary>Opens a node per member (each from its own store) and starts their agreement through <see cref="InProcessQuorum"/>.</summary>
    public static async Task<InProcessConsortium> StartAsync(GenesisDocument genesis, IReadOnlyList<ConsortiumMember> members, LedgerNodeSetup template, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(template);
        var quorum = new InProcessQuorum(members.Count);
        var nodes = new LedgerNode?[members.Count];
        try
        {
            for (var i = 0; i < members.Count; i++)
            {
                var setup = template with { Genesis = genesis, Store = members[i].Store, Consensus = quorum.Member(members[i].Sealer) };
                nodes[i] = await LedgerNode.OpenAsync(setup, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await DisposeAllAsync(nodes).ConfigureAwait(false);
            throw;
        }

        return new InProcessConsortium([.. members.Select(m => m.Name)], nodes, null);
    }

    /// <summary>
    /// Opens a node per member, each with its own QBFT engine on one <see cref="InProcessConsensusNetwork"/>: the
    /// validators vote (PROPOSAL, PREPARE, COMMIT, ROUND-CHANGE), a block is final with a quorum of commit seals, and a
    /// node that falls behind fetches certified blocks from the others' stores (checked and re-executed).
    /// </summary>
    public static async Task<InProcessConsortium> StartQbftAsync(GenesisDocument genesis, IReadOnlyList<QbftConsortiumMember> members, LedgerNodeSetup template, QbftParameters parameters, TimeProvider consensusTime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(template);
        var network = new InProcessConsensusNetwork();
        var qbft = new QbftSetup(genesis, [.. members], template, parameters, consensusTime, network, [.. members.Select(m => network.Join(m.Signer.Address))], [.. members.Select(_ => (IConsensusJournal?)null)], new ILedgerStore?[members.Count]);
        var consortium = new InProcessConsortium([.. members.Select(m => m.Name)], new LedgerNode?[members.Count], qbft);
        try
        {
            for (var i = 0; i < members.Count; i++)
            {
                await consortium.OpenQbftAsync(i, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await consortium.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return consortium;
    }

    /// <summary>Stops validator <paramref name="name"/> (its node closes; its links go silent), as a crash of its process would.</summary>
    public async Task StopAsync(string name)
    {
        var qbft = _qbft ?? throw new InvalidOperationException("only a QBFT consortium can lose a validator and go on");
        var index = IndexOf(name);
        LedgerNode node;
        lock (_gate)
        {
            node = _nodes[index] ?? throw new InvalidOperationException($"{name} is not running");
            _nodes[index] = null;
            qbft.Stores[index] = null;
        }

        qbft.Network.CutOff(qbft.Members[index].Signer.Address);
        await node.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Starts validator <paramref name="name"/> again from its store and journal; it catches up and votes again.</summary>
    public async Task<LedgerNode> RestartAsync(string name, CancellationToken cancellationToken)
    {
        var qbft = _qbft ?? throw new InvalidOperationException("only a QBFT consortium restarts validators");
        var index = IndexOf(name);
        lock (_gate)
        {
            if (_nodes[index] is not null)
            {
                throw new InvalidOperationException($"{name} is running");
            }
        }

        qbft.Network.Reconnect(qbft.Members[index].Signer.Address);
        return await OpenQbftAsync(index, cancellationToken).ConfigureAwait(false);
    }

    private async Task<LedgerNode> OpenQbftAsync(int index, CancellationToken cancellationToken)
    {
        var qbft = _qbft!;
        var member = qbft.Members[index];
        var journal = member.JournalPath is { } path ? new FileConsensusJournal(path) : qbft.Journals[index] ??= new InMemoryConsensusJournal();
        var engine = new QbftConsensusEngine(member.Signer, qbft.Transports[index], journal, qbft.Parameters, qbft.Time, logger: qbft.Template.LoggerFactory?.CreateLogger<QbftConsensusEngine>(), blocks: new RunningPeersBlockSource(this, index));
        var store = await member.OpenStore(cancellationToken).ConfigureAwait(false);
        LedgerNode node;
        try
        {
            node = await LedgerNode.OpenAsync(qbft.Template with { Genesis = qbft.Genesis, Store = store, Consensus = engine }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        lock (_gate)
        {
            _nodes[index] = node;
            qbft.Stores[index] = store;
        }

        return node;
    }

    private int IndexOf(string name)
    {
        var index = Array.IndexOf(_names, name);
        return index >= 0 ? index : throw new ArgumentException($"no validator named {name}", nameof(name));
    }

    /// <summary>Submits to every running node; the answer is the first one's (with the outcome when asked to wait).</summary>
    public async Task<SubmitResult> SubmitAsync(ReadOnlyMemory<byte> transaction, bool waitForCommit, CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(Nodes.Select((n, i) => n.Node.SubmitAsync(transaction, waitForCommit && i == 0, cancellationToken).AsTask())).ConfigureAwait(false);
        return results[0];
    }

    /// <summary>Submits a batch to every running node (each verifies it as one batch); the answers are the first one's.</summary>
    public async Task<IReadOnlyList<SubmitResult>> SubmitManyAsync(IReadOnlyList<ReadOnlyMemory<byte>> transactions, bool waitForCommit, CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(Nodes.Select((n, i) => n.Node.SubmitManyAsync(transactions, waitForCommit && i == 0, cancellationToken))).ConfigureAwait(false);
        return results[0];
    }

    /// <summary>Waits until every running node's head is at least <paramref name="height"/>.</summary>
    public async Task WaitForHeightAsync(long height, CancellationToken cancellationToken)
    {
        foreach (var (_, node) in Nodes)
        {
            var head = node.Head;
            while (head.Height < height && head.Health is NodeHealth.Running or NodeHealth.StoreUnavailable)
            {
                head = await head.NextAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits (briefly polling) until no running node has a transaction waiting: every block agreed, every rejected one dropped.</summary>
    public async Task WaitUntilIdleAsync(CancellationToken cancellationToken)
    {
        while (Nodes.Any(n => n.Node.MempoolSize > 0))
        {
            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        LedgerNode?[] nodes;
        lock (_gate)
        {
            nodes = [.. _nodes];
            Array.Clear(_nodes);
        }

        await DisposeAllAsync(nodes).ConfigureAwait(false);
    }

    private static async Task DisposeAllAsync(LedgerNode?[] nodes)
    {
        foreach (var node in nodes)
        {
            if (node is not null)
            {
                await node.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private sealed record QbftSetup(GenesisDocument Genesis, QbftConsortiumMember[] Members, LedgerNodeSetup Template, QbftParameters Parameters, TimeProvider Time, InProcessConsensusNetwork Network, IConsensusTransport[] Transports, IConsensusJournal?[] Journals, ILedgerStore?[] Stores);

    /// <summary>
    /// Catch-up from the stores of the other nodes running now (a stopped node's store is closed; a restarted one's is
    /// new). Nothing read is trusted: the node checks each certificate and re-executes each block. Peers' head: the
    /// highest running peer's.
    /// </summary>
    private sealed class RunningPeersBlockSource(InProcessConsortium consortium, int self) : ICertifiedBlockSource
    {
        private List<(LedgerNode Node, ILedgerStore Store)> Peers()
        {
            lock (consortium._gate)
            {
                var stores = consortium._qbft!.Stores;
                return [.. consortium._nodes.Select((n, i) => (n, i)).Where(p => p.i != self && p.n is not null && stores[p.i] is not null).Select(p => (p.n!, stores[p.i]!))];
            }
        }

        public Task<CertifiedBlock?> GetAsync(long height, CancellationToken cancellationToken)
            => new PeerStoresBlockSource(Peers().Select(p => (IBlockStore)p.Store)).GetAsync(height, cancellationToken);

        public long PeersHead => Peers().Select(p => p.Node.Head.Height).DefaultIfEmpty(0).Max();
    }
}
