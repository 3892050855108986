using System.Reflection;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Jobs.Audit;
using SmartCity.Ledger.Jobs.Reconciliation;
using SmartCity.Ledger.Jobs.State;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Storage;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Jobs.Tests.JobKit;

namespace SmartCity.Ledger.Jobs.Tests;

/// <summary>
/// The tools that re-check a stored chain follow the validator set in force per height (docs/consensus.md,
/// "Validator-set changes"): on a chain whose set changed by governance, <c>store verify</c>, the chain audit and
/// reconciliation find nothing, and a certificate sealed by the old set after the change, or a header naming a set the
/// state never installed, is still reported with its height. One four-block chain (genesis, the vote, two blocks of the
/// five) in an embedded store; damage is served by a view of that store that swaps one block.
/// </summary>
public sealed class ValidatorSetChangeAuditTests : IDisposable
{
    private static readonly ISecp256k1 Curve = Secp256k1.Default;
    private static readonly IReadOnlyList<TestKey> Four = [new(101, "validator-bj", "", "BJ"), new(102, "validator-tj", "", "TJ"), new(103, "validator-he", "", "HE"), new(104, "validator-xa", "", "XA")];
    private static readonly TestKey Newcomer = new(105, "validator-bj-2", "", "BJ");
    private static readonly TestKey Stranger = new(106, "validator-stranger", "", "BJ");
    private static readonly TestKey[] Voters = [TestKeys.BeijingRegulator, TestKeys.TianjinRegulator, TestKeys.HebeiRegulator, TestKeys.XionganCommittee];

    private readonly string _directory = TempDirectory();
    private readonly Dictionary<Address, ulong> _nonces = [];
    private int _ids;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_chain_whose_set_changed_passes_store_verify_the_chain_audit_and_reconciliation_with_no_finding()
    {
        await using var store = await EmbeddedStoreAsync(_directory);
        _ = await BuildAsync(store);

        var verified = await StoreVerifier.VerifyAsync(store, GenesisBuilder.Sample.Value, Curve, Deadline());
        var audited = await new ChainAuditor(GenesisBuilder.Sample.Value, Curve).RunAsync(store, AuditCheckpoint.Start, 2, Deadline());
        var resumed = await new ChainAuditor(GenesisBuilder.Sample.Value, Curve).RunAsync(store, AuditCheckpoint.FromJson(audited.Checkpoint.ToJson())!, 100, Deadline());
        var reconciled = await new Reconciler(GenesisBuilder.Sample.Value, Curve).RunAsync(store, [new StoreLedgerPeer("tj-1", store)], ReconciliationCheckpoint.Start, 100, checkProjections: false, Deadline());

        Assert.True(verified.IsIntact, verified.Damage);
        Assert.Equal((3L, StoreFinding.Intact), (verified.Head, verified.Finding));
        Assert.True(audited.IsIntact, audited.Damage);
        Assert.True(resumed.IsIntact, resumed.Damage);
        Assert.Equal(3L, resumed.Checkpoint.Height);
        Assert.Equal(5, resumed.Checkpoint.Validators!.Count); // the checkpoint carries the set in force on
        Assert.Empty(reconciled.Divergences);
        Assert.Equal(4L, reconciled.HeightsCompared);
    }

    [Fact]
    public async Task A_certificate_sealed_by_the_old_set_after_the_change_is_reported_at_its_height_by_every_tool()
    {
        await using var store = await EmbeddedStoreAsync(_directory);
        var (chain, candidates) = await BuildAsync(store);
        var firstOfFive = candidates[2];
        var byOldQuorum = CommitCertificate.FromSeals(Curve, chain.Anchor.DomainSeparator, firstOfFive.Header, Four.Take(3).Select(v => CommitSeal.Sign(v.Signer, chain.Anchor.DomainSeparator, firstOfFive.Header)));
        var damaged = SwappedStore.Over(store, 2, firstOfFive.Header, byOldQuorum);

        var verified = await StoreVerifier.VerifyAsync(damaged, GenesisBuilder.Sample.Value, Curve, Deadline());
        var audited = await new ChainAuditor(GenesisBuilder.Sample.Value, Curve).RunAsync(damaged, AuditCheckpoint.Start, 100, Deadline());
        var reconciled = await new Reconciler(GenesisBuilder.Sample.Value, Curve).RunAsync(store, [new StoreLedgerPeer("tj-1", damaged)], ReconciliationCheckpoint.Start, 100, checkProjections: false, Deadline());

        Assert.Equal((2L, StoreFinding.Damaged), (verified.FirstDamagedHeight, verified.Finding));
        Assert.Contains(nameof(CertificateCheck.TooFewSeals), verified.Damage, StringComparison.Ordinal);
        Assert.Equal((2L, 1L), (audited.DamagedHeight, audited.Checkpoint.Height));
        Assert.Contains(nameof(CertificateCheck.TooFewSeals), audited.Damage, StringComparison.Ordinal);
        var divergence = Assert.Single(reconciled.Divergences);
        Assert.Equal((JobReportKinds.PeerCertificateInvalid, 2L), (divergence.Kind, divergence.Height));
    }

    [Fact]
    public async Task A_header_naming_a_set_the_state_never_installed_is_reported_even_with_a_quorum_of_that_set()
    {
        await using var store = await EmbeddedStoreAsync(_directory);
        var (chain, candidates) = await BuildAsync(store);
        var forgedSet = new ValidatorSet([.. Four.Select(v => v.Address), Stranger.Address]);
        var forged = candidates[3].Header with { ValidatorSetHash = forgedSet.Hash };
        var certificate = CommitCertificate.FromSeals(Curve, chain.Anchor.DomainSeparator, forged, Four.Append(Stranger).Select(v => CommitSeal.Sign(v.Signer, chain.Anchor.DomainSeparator, forged)));
        Assert.True(certificate.Verify(forged, forgedSet, chain.Anchor.DomainSeparator, Curve).IsValid); // sealed well, by the wrong set
        var damaged = SwappedStore.Over(store, 3, forged, certificate);

        var verified = await StoreVerifier.VerifyAsync(damaged, GenesisBuilder.Sample.Value, Curve, Deadline());
        var audited = await new ChainAuditor(GenesisBuilder.Sample.Value, Curve).RunAsync(damaged, AuditCheckpoint.Start, 100, Deadline());

        Assert.Equal((3L, StoreFinding.Damaged), (verified.FirstDamagedHeight, verified.Finding));
        Assert.Contains($"installs {new ValidatorSet([.. Four.Select(v => v.Address), Newcomer.Address]).Hash}", verified.Damage, StringComparison.Ordinal);
        Assert.Equal(3L, audited.DamagedHeight);
    }

    /// <summary>Genesis (0), the vote that adds <see cref="Newcomer"/> sealed by the four (1), then two blocks sealed by the five (2, 3).</summary>
    private async Task<(LedgerChain Chain, BlockCandidate[] Candidates)> BuildAsync(ILedgerStore store)
    {
        var chain = await LedgerChain.OpenAsync(GenesisBuilder.Sample.Value, Curve, store, null, Deadline());
        var candidates = new BlockCandidate[4];
        var vote = chain.Propose(VoteIn(Newcomer), Day(chain));
        Assert.True((await chain.CommitAsync(vote, Seal(chain, vote, Four[0], Four[1], Four[2]), store, Deadline())).IsValid);
        candidates[1] = vote;
        for (var height = 2; height <= 3; height++)
        {
            var next = chain.Propose([Record()], Day(chain));
            var committed = await chain.CommitAsync(next, Seal(chain, next, Four[0], Four[1], Four[2], Newcomer), store, Deadline());
            Assert.True(committed.IsValid, committed.Reason);
            candidates[height] = next;
        }

        return (chain, candidates);
    }

    private static DateTimeOffset Day(LedgerChain chain) => chain.Head.Timestamp.AddDays(1);

    private static CommitCertificate Seal(LedgerChain chain, BlockCandidate candidate, params TestKey[] sealers)
        => CommitCertificate.FromSeals(Curve, chain.Anchor.DomainSeparator, candidate.Header, sealers.Select(s => chain.Seal(candidate, s.Signer)));

    private ReadOnlyMemory<byte> Record()
        => Sign(TestKeys.BeijingRegulator, Build.A.CreditRecord.WithId(Build.Id($"record {_ids++}")).By(TestKeys.BeijingRegulator).Body());

    /// <summary>One block's worth of governance: the four regional members vote <paramref name="target"/> in (voters at distinct nonces).</summary>
    private ReadOnlyMemory<byte>[] VoteIn(TestKey target)
    {
        var id = Build.Id($"add {_ids++}");
        var transactions = new List<ReadOnlyMemory<byte>> { Sign(Voters[0], new GovernancePropose(id, GovernanceAction.AddValidator, target.Address, target.Uscc, target.Name, target.Region, MemberRole.MeasureImplementer)) };
        for (var i = 1; i < Voters.Length; i++)
        {
            for (var filler = 1; filler < i; filler++)
            {
                transactions.Add(Sign(Voters[i], new GovernancePropose(Build.Id($"filler {_ids++}"), GovernanceAction.ChangeRoles, TestKeys.BeijingCourt.Address, TestKeys.BeijingCourt.Uscc, TestKeys.BeijingCourt.Name, TestKeys.BeijingCourt.Region, MemberRole.MeasureImplementer)));
            }

            transactions.Add(Sign(Voters[i], new GovernanceVote(id, true)));
        }

        return [.. transactions];
    }

    private ReadOnlyMemory<byte> Sign(TestKey signer, ITransactionBody body)
    {
        var nonce = _nonces.TryGetValue(signer.Address, out var next) ? next : 0;
        _nonces[signer.Address] = nonce + 1;
        return TransactionCodec.Encode(TestLedger.Sign(GenesisBuilder.Sample.Value, signer, body, nonce));
    }
}

/// <summary>A view of a store that serves another header and certificate for one height (everything else is the store's).</summary>
public class SwappedStore : DispatchProxy
{
    private ILedgerStore _inner = null!;
    private long _height;
    private BlockHeader _header = null!;
    private CommitCertificate _certificate = null!;

    public static ILedgerStore Over(ILedgerStore inner, long height, BlockHeader header, CommitCertificate certificate)
    {
        var proxy = Create<ILedgerStore, SwappedStore>();
        var swapped = (SwappedStore)(object)proxy;
        (swapped._inner, swapped._height, swapped._header, swapped._certificate) = (inner, height, header, certificate);
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        var result = targetMethod.Invoke(_inner, args);
        if (args is not [long height, ..] || height != _height)
        {
            return result;
        }

        return targetMethod.Name switch
        {
            nameof(ILedgerStore.GetBlockAsync) when ((ValueTask<StoredBlock?>)result!).AsTask().GetAwaiter().GetResult() is { } block
                => new ValueTask<StoredBlock?>(block with { Header = Swap(block.Header) }),
            nameof(ILedgerStore.GetHeaderAsync) when ((ValueTask<StoredBlockHeader?>)result!).AsTask().GetAwaiter().GetResult() is { } header
                => new ValueTask<StoredBlockHeader?>(Swap(header)),
            _ => result,
        };
    }

    private StoredBlockHeader Swap(StoredBlockHeader stored)
        => stored with { BlockHash = _header.Hash, Header = _header.Encode(), Certificate = _certificate.Encode() };
}
