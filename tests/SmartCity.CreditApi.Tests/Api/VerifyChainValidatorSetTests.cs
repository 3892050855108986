using SmartCity.Contracts.Audit.V1;
using SmartCity.CreditApi.Services.Api;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Testing.TestKit;
using SmartCity.Testing.ValidatorSets;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// The API's VerifyChain follows the validator set in force per height (docs/consensus.md, "Re-checking a stored
/// chain"): a chain whose set changed by governance verifies block by block with no finding, and a certificate sealed
/// by the old set after the change is reported at its height. Over the shared four-block chain, in-process (no gRPC).
/// </summary>
public sealed class VerifyChainValidatorSetTests : IDisposable
{
    private static readonly ISecp256k1 Curve = Secp256k1.Default;
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-verifychain-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task VerifyChain_over_a_chain_whose_set_changed_finds_every_block_valid_and_from_any_height()
    {
        var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory }, CancellationToken.None);
        _ = await new ValidatorSetChangeChain().BuildAsync(store, Deadline());
        await using var node = await OpenNodeAsync(store);

        var all = await VerifyAsync(node, 0, 3);
        var fromAfterTheChange = await VerifyAsync(node, 3, 3);

        Assert.Equal([0L, 1L, 2L, 3L], all.Select(v => v.Height));
        Assert.All(all.Concat(fromAfterTheChange), v => Assert.True(v.Verdict == BlockVerdict.Valid, $"{v.Height}: {v.Reason}"));
        Assert.Equal(3L, Assert.Single(fromAfterTheChange).Height);
    }

    [Fact]
    public async Task VerifyChain_reports_a_certificate_sealed_by_the_old_set_after_the_change_at_its_height()
    {
        var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory }, CancellationToken.None);
        var (chain, candidates) = await new ValidatorSetChangeChain().BuildAsync(store, Deadline());
        var header = candidates[2].Header;
        var byOldQuorum = CommitCertificate.FromSeals(Curve, chain.Anchor.DomainSeparator, header, ValidatorSetChangeChain.Four.Take(3).Select(v => CommitSeal.Sign(v.Signer, chain.Anchor.DomainSeparator, header)));
        await using var node = await OpenNodeAsync(SwappedStore.Over(store, 2, header, byOldQuorum));

        var verdicts = await VerifyAsync(node, 0, 3);

        var invalid = Assert.Single(verdicts, v => v.Verdict != BlockVerdict.Valid);
        Assert.Equal((2L, BlockVerdict.Invalid), (invalid.Height, invalid.Verdict));
        Assert.Contains(nameof(CertificateCheck.TooFewSeals), invalid.Reason, StringComparison.Ordinal);
    }

    private static Task<LedgerNode> OpenNodeAsync(ILedgerStore store) => LedgerNode.OpenAsync(
        new LedgerNodeSetup { Genesis = GenesisBuilder.Sample.Value, Store = store, Curve = Curve, Consensus = new IdleEngine() },
        CancellationToken.None);

    private static async Task<List<VerifyChainResponse>> VerifyAsync(LedgerNode node, long from, long to)
    {
        var verdicts = new List<VerifyChainResponse>();
        await foreach (var verdict in new ChainVerifier(node, Curve).VerifyAsync(from, to, Deadline()))
        {
            verdicts.Add(verdict);
        }

        return verdicts;
    }

    private static CancellationToken Deadline() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private sealed class IdleEngine : IConsensusEngine
    {
        public Task RunAsync(IConsensusHost host, CancellationToken cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken);
    }
}
