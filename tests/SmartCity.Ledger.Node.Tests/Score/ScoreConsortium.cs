using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Storage;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Node.Tests.Score;

/// <summary>
/// A consortium of nodes for score tests: every node re-executes each block itself (native or managed secp256k1),
/// the block is certified by three of the four sample validators and committed on every node, and to its store
/// when it has one.
/// </summary>
internal sealed class ScoreConsortium
{
    /// <summary>The sample genesis validators' public test keys (contracts/genesis/README.md).</summary>
    private static readonly ISigner[] ValidatorKeys = [.. TestKeys.Validators.Select(v => v.Signer)];

    private readonly List<(LedgerChain Chain, ILedgerStore? Store)> _nodes = [];
    private readonly Dictionary<TestKey, ulong> _nonces = [];

    public ScoreConsortium(params ISecp256k1[] curves)
    {
        foreach (var curve in curves.DefaultIfEmpty(Secp256k1.Default))
        {
            _nodes.Add((new LedgerChain(GenesisBuilder.Sample.Value, curve), null));
        }
    }

    public LedgerChain this[int node] => _nodes[node].Chain;

    public int Count => _nodes.Count;

    /// <summary>Adds a node that writes every block (from genesis) to <paramref name="store"/>.</summary>
    public async Task<LedgerChain> AddNodeWithStoreAsync(ILedgerStore store)
    {
        if (_nodes.Any(n => n.Chain.Head.Height > 0))
        {
            throw new InvalidOperationException("add stores before the first block");
        }

        var chain = new LedgerChain(GenesisBuilder.Sample.Value, Secp256k1.Default);
        await store.AppendAsync(chain.GenesisCommit(), CancellationToken.None);
        _nodes.Add((chain, store));
        return chain;
    }

    public Task<BlockHeader> AddBlockAsync(DateTimeOffset time, params (TestKey Signer, ITransactionBody Body)[] transactions)
        => AddBlockAsync(time, (IEnumerable<(TestKey, ITransactionBody)>)transactions);

    /// <summary>Signs the transactions with each signer's next nonce and commits them as one block on every node.</summary>
    public async Task<BlockHeader> AddBlockAsync(DateTimeOffset time, IEnumerable<(TestKey Signer, ITransactionBody Body)> transactions)
    {
        var encoded = new List<ReadOnlyMemory<byte>>();
        foreach (var (signer, body) in transactions)
        {
            var nonce = _nonces.GetValueOrDefault(signer);
            _nonces[signer] = nonce + 1;
            encoded.Add(TransactionCodec.Encode(TestLedger.Sign(GenesisBuilder.Sample.Value, signer, body, nonce)));
        }

        BlockHeader? header = null;
        foreach (var (chain, store) in _nodes)
        {
            var candidate = chain.Propose(encoded, time);
            Assert.True(candidate.Body.Skipped.Count == 0, string.Join("; ", candidate.Body.Skipped));
            Assert.True(header is null || header.Hash == candidate.Header.Hash, "the nodes built different blocks");
            header = candidate.Header;
            var certificate = CommitCertificate.FromSeals(Secp256k1.Default, chain.Anchor.DomainSeparator, candidate.Header, new[] { 0, 1, 2 }.Select(v => chain.Seal(candidate, ValidatorKeys[v])));
            var verdict = store is null ? chain.Commit(candidate, certificate) : await chain.CommitAsync(candidate, certificate, store, CancellationToken.None);
            Assert.True(verdict.IsValid, verdict.Reason);
        }

        return header!;
    }
}
