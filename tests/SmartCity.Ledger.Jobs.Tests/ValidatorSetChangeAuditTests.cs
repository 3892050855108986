using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Jobs.Audit;
using SmartCity.Ledger.Jobs.Reconciliation;
using SmartCity.Ledger.Jobs.State;
using SmartCity.Ledger.Node;
using SmartCity.Testing.TestKit;
using SmartCity.Testing.ValidatorSets;
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
    private static readonly IReadOnlyList<TestKey> Four = ValidatorSetChangeChain.Four;
    private static readonly TestKey Newcomer = ValidatorSetChangeChain.Newcomer;
    private static readonly TestKey Stranger = new(106, "validator-stranger", "", "BJ");

    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_chain_whose_set_changed_passes_store_verify_the_chain_audit_and_reconciliation_with_no_finding()
    {
        await using var store = await EmbeddedStoreAsync(_directory);
        _ = await new ValidatorSetChangeChain().BuildAsync(store, Deadline());

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
        var (chain, candidates) = await new ValidatorSetChangeChain().BuildAsync(store, Deadline());
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
    public async Task A_hand_over_whose_proving_state_is_pruned_is_a_typed_finding_not_a_certificate_failure()
    {
        await using var store = await EmbeddedStoreAsync(_directory);
        _ = await new ValidatorSetChangeChain().BuildAsync(store, Deadline());
        var pruned = SwappedStore.WithStatePruned(store);

        var verified = await StoreVerifier.VerifyAsync(pruned, GenesisBuilder.Sample.Value, Curve, Deadline());
        var audited = await new ChainAuditor(GenesisBuilder.Sample.Value, Curve).RunAsync(pruned, AuditCheckpoint.Start, 100, Deadline());

        Assert.Equal((2L, StoreFinding.HandOverStatePruned), (verified.FirstDamagedHeight, verified.Finding));
        Assert.Contains("the state after block 1 that would prove it is no longer stored", verified.Damage, StringComparison.Ordinal);
        Assert.Equal((2L, StoreFinding.HandOverStatePruned, 1L), (audited.DamagedHeight, audited.Finding, audited.Checkpoint.Height));
    }

    [Fact]
    public async Task A_header_naming_a_set_the_state_never_installed_is_reported_even_with_a_quorum_of_that_set()
    {
        await using var store = await EmbeddedStoreAsync(_directory);
        var (chain, candidates) = await new ValidatorSetChangeChain().BuildAsync(store, Deadline());
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
}
