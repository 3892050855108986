using System.Buffers.Binary;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;

namespace SmartCity.CreditApi.Demo;

/// <summary>
/// Four validator nodes (BJ, TJ, HE, XA) of the sample genesis in one process, each with its own chain and its own
/// embedded store. A block is
/// agreed the simple way: the proposer builds it, every node re-executes the same transactions and seals the header
/// only if it gets the same hash; a quorum of seals is the certificate every node commits with.
/// The full QBFT protocol (rounds, round changes, timers) is the consensus issue's.
/// </summary>
internal sealed class DemoConsortium : IAsyncDisposable
{
    private readonly List<DemoNode> _nodes;

    private DemoConsortium(ISecp256k1 curve, List<DemoNode> nodes)
    {
        Curve = curve;
        _nodes = nodes;
    }

    /// <summary>One node per genesis validator, each with its own embedded store under <paramref name="dataDirectory"/>.</summary>
    public static async Task<DemoConsortium> StartAsync(GenesisDocument genesis, ISecp256k1 curve, string dataDirectory, CancellationToken cancellationToken)
    {
        var nodes = new List<DemoNode>();
        for (var i = 0; i < genesis.Validators.Count; i++)
        {
            var region = genesis.Validators[i].Region;
            var chain = new LedgerChain(genesis, curve);
            var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = Path.Combine(dataDirectory, region) }, cancellationToken).ConfigureAwait(false);
            if (await store.GetHeadAsync(cancellationToken).ConfigureAwait(false) is not null)
            {
                await store.DisposeAsync().ConfigureAwait(false);
                throw new DemoSetupException($"{Path.Combine(dataDirectory, region)} already holds a chain; the tour starts from genesis in an empty directory");
            }

            await store.AppendAsync(chain.GenesisCommit(), cancellationToken).ConfigureAwait(false);
            nodes.Add(new DemoNode(region, DemoKeys.Validator(i), chain, store));
        }

        return new DemoConsortium(curve, nodes);
    }

    public ISecp256k1 Curve { get; }

    public IReadOnlyList<DemoNode> Nodes => _nodes;

    public LedgerChain Reference => _nodes[0].Chain;

    /// <summary>Runs one height: propose, re-execute, seal, certify, commit on every node (its store first).</summary>
    public async Task<DemoRound> AgreeAsync(IReadOnlyList<ReadOnlyMemory<byte>> transactions, DateTimeOffset blockTime, CancellationToken cancellationToken)
    {
        var height = Reference.Head.Height + 1;
        var proposerAddress = Reference.Anchor.Validators.ProposerFor(height, 0);
        var proposer = _nodes.Single(n => n.Validator.Address == proposerAddress);
        var proposal = proposer.Chain.Propose(transactions, blockTime);

        // Every node re-executes the proposal on its own state and seals only the header it computed itself.
        var own = _nodes.ToDictionary(n => n, n => n == proposer ? proposal : n.Chain.Propose(transactions, blockTime));
        var seals = _nodes.Where(n => own[n].Header.Hash == proposal.Header.Hash).Select(n => n.Chain.Seal(own[n], n.Validator)).ToList();

        var certificate = CommitCertificate.FromSeals(Curve, Reference.Anchor.DomainSeparator, proposal.Header, seals);
        foreach (var node in _nodes)
        {
            var verdict = await node.Chain.CommitAsync(own[node], certificate, node.Store, cancellationToken).ConfigureAwait(false);
            if (!verdict.IsValid)
            {
                throw new InvalidOperationException($"{node.Region} refused block {height}: {verdict.Reason}");
            }
        }

        return new DemoRound(proposer, proposal, certificate);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.Store.DisposeAsync().ConfigureAwait(false);
            node.Validator.Dispose();
        }
    }
}

internal sealed record DemoNode(string Region, InMemorySigner Validator, LedgerChain Chain, ILedgerStore Store);

internal sealed record DemoRound(DemoNode Proposer, BlockCandidate Block, CommitCertificate Certificate);

/// <summary>
/// Signers for the sample genesis's public test keys (contracts/genesis/README.md): the 32-byte big-endian integers
/// 1-6 for the members in file order and 101-104 for the validators. Development only; the caller disposes them.
/// </summary>
internal static class DemoKeys
{
    /// <summary>The first <paramref name="count"/> members' signers, disposed together.</summary>
    public static DemoSigners Members(int count) => new([.. Enumerable.Range(1, count).Select(Signer)]);

    public static InMemorySigner Validator(int index) => Signer(101 + index);

    private static InMemorySigner Signer(int value)
    {
        Span<byte> key = stackalloc byte[32];
        key.Clear();
        BinaryPrimitives.WriteInt32BigEndian(key[28..], value);
        return new InMemorySigner(key);
    }
}

/// <summary>Signers owned together: disposing the set zeroes every key.</summary>
internal sealed class DemoSigners(InMemorySigner[] signers) : IDisposable
{
    public InMemorySigner this[int index] => signers[index];

    public void Dispose()
    {
        foreach (var signer in signers)
        {
            signer.Dispose();
        }
    }
}
