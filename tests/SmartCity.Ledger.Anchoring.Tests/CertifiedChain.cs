using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Anchoring.Tests;

/// <summary>
/// A certified chain built by the engine (LedgerChain, BlockAssembler) from the sample genesis, sealed with the test
/// kit's validator keys (seeds 101-104), committed to an embedded store in a temporary directory.
/// </summary>
internal sealed class CertifiedChain : IAsyncDisposable
{
    public static readonly ISecp256k1 Curve = Secp256k1.Default;

    /// <summary>The sample genesis validators' public test keys, in the order of the seeds 101-104.</summary>
    public static readonly TestKey[] Validators = [.. new[] { 101, 102, 103, 104 }.Select(seed => new TestKey(seed, $"validator-{seed}", "", "BJ"))];

    private readonly Dictionary<long, StateProof> _validatorSetProofs = [];
    private int _records;

    private CertifiedChain(string directory, EmbeddedLedgerStore store)
    {
        Directory = directory;
        Store = store;
        Chain = new LedgerChain(GenesisBuilder.Sample.Value, Curve);
    }

    public string Directory { get; }

    public EmbeddedLedgerStore Store { get; }

    public LedgerChain Chain { get; }

    public static async Task<CertifiedChain> CreateAsync(int blocks = 0, string? directory = null)
    {
        var dir = directory ?? System.IO.Directory.CreateTempSubdirectory("smartcity-anchoring-").FullName;
        var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = dir, SnapshotOnClose = false }, CancellationToken.None);
        var chain = new CertifiedChain(dir, store);
        await store.AppendAsync(chain.Chain.GenesisCommit(), CancellationToken.None);
        await chain.AppendRecordsAsync(blocks);
        return chain;
    }

    /// <summary>Appends <paramref name="blocks"/> blocks, each with one new credit record by the Beijing regulator.</summary>
    public async Task AppendRecordsAsync(int blocks, string tag = "record")
    {
        for (var i = 0; i < blocks; i++)
        {
            var record = Build.A.CreditRecord.WithId(Build.Id($"{tag}-{_records++}")).By(TestKeys.BeijingRegulator).For(TestKeys.Company);
            await CommitAsync((record.Signer, record.Body()));
        }
    }

    /// <summary>Commits one block of transactions (each signed with its signer's next nonce), sealed by validators 0, 1 and 3.</summary>
    public async Task<CommittedBlock> CommitAsync(params (TestKey Signer, ITransactionBody Body)[] transactions)
    {
        var nonces = new Dictionary<Address, ulong>();
        var encoded = new List<ReadOnlyMemory<byte>>();
        foreach (var (signer, body) in transactions)
        {
            var nonce = nonces.TryGetValue(signer.Address, out var next) ? next : NonceOf(signer);
            nonces[signer.Address] = nonce + 1;
            encoded.Add(TransactionCodec.Encode(TestLedger.Sign(Chain.Genesis, signer, body, nonce)));
        }

        var candidate = Chain.Propose(encoded, Chain.Head.Timestamp.AddMinutes(1));
        Assert.True(candidate.Body.Included.Count == transactions.Length, string.Join("; ", candidate.Body.Skipped));
        var certificate = CommitCertificate.FromSeals(Curve, Chain.Anchor.DomainSeparator, candidate.Header, new[] { 0, 1, 3 }.Select(v => Chain.Seal(candidate, Validators[v].PrivateKey)));
        Assert.True((await Chain.CommitAsync(candidate, certificate, Store, CancellationToken.None)).IsValid);
        _validatorSetProofs[Chain.Head.Height] = Chain.ProveState(StateKeys.ValidatorSet).Proof;
        return Chain.Blocks[^1];
    }

    public CommittedBlock Block(long height) => Chain.Blocks[(int)height];

    /// <summary>The proof of the <c>validator-set</c> state key at the state root of the block at <paramref name="height"/>.</summary>
    public StateProof ValidatorSetProofAt(long height) => _validatorSetProofs[height];

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private ulong NonceOf(TestKey signer) => Chain.State.Get(StateKeys.Nonce(signer.Address)) is { } value ? StateValue.Decode(value, CounterState.Read).Value : 0;
}
