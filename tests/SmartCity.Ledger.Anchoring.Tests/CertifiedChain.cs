using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;
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
    public static readonly TestKey[] Validators = [.. TestKeys.Validators];

    private readonly Dictionary<long, StateProof> _validatorSetProofs = [];
    private int _records;
    private int _proposals;
    private bool _closed;

    /// <summary>Who seals the blocks: validators 0, 1 and 3 of the genesis set, a quorum of its four.</summary>
    private readonly TestKey[] _sealers = [Validators[0], Validators[1], Validators[3]];

    private CertifiedChain(string directory, ILedgerStore store)
    {
        Directory = directory;
        Store = store;
        Chain = new LedgerChain(GenesisBuilder.Sample.Value, Curve);
    }

    public string Directory { get; }

    public ILedgerStore Store { get; }

    public LedgerChain Chain { get; }

    public static async Task<CertifiedChain> CreateAsync(int blocks = 0, string? directory = null, ILedgerStore? store = null)
    {
        var dir = directory ?? System.IO.Directory.CreateTempSubdirectory("smartcity-anchoring-").FullName;
        store ??= await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = dir, SnapshotOnClose = false }, CancellationToken.None);
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
            await CommitRecordAsync(tag);
        }
    }

    /// <summary>
    /// Has the members vote <paramref name="action"/> (AddValidator or RemoveValidator) of <paramref name="target"/> in
    /// one block, sealed by the set in force; the state after that block holds the new set, which by the ledger's rule
    /// seals every block after it. Returns the block that changed the set. (The in-process LedgerChain proposes and checks
    /// every block with the genesis set, so it commits nothing after such a block: see <see cref="ProposeRecord"/>.)
    /// </summary>
    public async Task<CommittedBlock> ChangeValidatorsAsync(GovernanceAction action, TestKey target)
    {
        var id = Build.Id($"validator change {_proposals++}");
        var transactions = new List<(TestKey, ITransactionBody)>
        {
            (TestKeys.BeijingRegulator, new GovernancePropose(id, action, target.Address, target.Uscc, target.Name, target.Region, MemberRole.MeasureImplementer)),
        };

        // A transaction's hash covers its nonce and body but not its signer, so identical votes by two members at the same
        // nonce would be one transaction to the store. Each voter first files enough open (never voted) proposals that the
        // three votes go out at distinct nonces.
        var nextVoteNonce = 0UL;
        foreach (var voter in new[] { TestKeys.TianjinRegulator, TestKeys.HebeiRegulator, TestKeys.XionganCommittee })
        {
            for (var nonce = NonceOf(voter); nonce < nextVoteNonce; nonce++)
            {
                transactions.Add((voter, new GovernancePropose(Build.Id($"filler {_proposals++}"), GovernanceAction.ChangeRoles, TestKeys.BeijingCourt.Address, TestKeys.BeijingCourt.Uscc, TestKeys.BeijingCourt.Name, TestKeys.BeijingCourt.Region, MemberRole.MeasureImplementer)));
            }

            transactions.Add((voter, new GovernanceVote(id, true)));
            nextVoteNonce = Math.Max(nextVoteNonce, NonceOf(voter)) + 1;
        }

        return await CommitAsync([.. transactions]);
    }

    /// <summary>The validator set the state holds after the head block (the set that seals the next block).</summary>
    public ValidatorSet CurrentValidatorSet()
        => new(Chain.State.Read(StateKeys.ValidatorSet, ValidatorSetState.Read)!.Addresses.Select(Address.Parse));

    /// <summary>
    /// The header of the next block, with one new credit record, as the engine proposes it; not sealed or committed (the
    /// caller seals it, e.g. with the set a hand-over installed).
    /// </summary>
    public BlockHeader ProposeRecord(string tag = "proposed")
    {
        var record = Build.A.CreditRecord.WithId(Build.Id($"{tag}-{_records++}")).By(TestKeys.BeijingRegulator).For(TestKeys.Company);
        var candidate = Chain.Propose([TransactionCodec.Encode(TestLedger.Sign(Chain.Genesis, record.Signer, record.Body(), NonceOf(record.Signer)))], Chain.Head.Timestamp.AddMinutes(1));
        Assert.True(candidate.Body.Included.Count == 1, string.Join("; ", candidate.Body.Skipped));
        return candidate.Header;
    }

    /// <summary>Commits one block with one new credit record by the Beijing regulator.</summary>
    public async Task<CommittedBlock> CommitRecordAsync(string tag = "record")
    {
        var record = Build.A.CreditRecord.WithId(Build.Id($"{tag}-{_records++}")).By(TestKeys.BeijingRegulator).For(TestKeys.Company);
        return await CommitAsync((record.Signer, record.Body()));
    }

    /// <summary>Commits one block of transactions (each signed with its signer's next nonce), sealed by the current sealers.</summary>
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
        var certificate = CommitCertificate.FromSeals(Curve, Chain.Anchor.DomainSeparator, candidate.Header, _sealers.Select(v => Chain.Seal(candidate, v.Signer)));
        var verdict = await Chain.CommitAsync(candidate, certificate, Store, CancellationToken.None);
        Assert.True(verdict.IsValid, verdict.ToString());
        _validatorSetProofs[Chain.Head.Height] = Chain.ProveState(StateKeys.ValidatorSet).Proof;
        return Chain.Blocks[^1];
    }

    public CommittedBlock Block(long height) => Chain.Blocks[(int)height];

    /// <summary>The proof of the <c>validator-set</c> state key at the state root of the block at <paramref name="height"/>.</summary>
    public StateProof ValidatorSetProofAt(long height) => _validatorSetProofs[height];

    /// <summary>Closes the store (releasing its directory lock) so another process or command can open the directory.</summary>
    public async Task<string> CloseStoreAsync()
    {
        if (!_closed)
        {
            _closed = true;
            await Store.DisposeAsync();
        }

        return Directory;
    }

    public async ValueTask DisposeAsync()
    {
        await CloseStoreAsync();
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
