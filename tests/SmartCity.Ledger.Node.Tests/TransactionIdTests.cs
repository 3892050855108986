using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.Receipts;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Node.Tests.NodeKit;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>
/// A transaction id covers its signer (docs/domain.md, "Transaction id"): two members who sign byte-identical bodies at
/// the same nonce send two transactions, which a running node admits, commits, finds and proves apart. Once per suite.
/// </summary>
public abstract class TransactionIdTests(CryptoSuiteId suite) : IDisposable
{
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Two_members_voting_the_same_body_at_the_same_nonce_are_both_committed_under_different_ids()
    {
        var genesis = GenesisBuilder.SampleIn(suite) with { Validators = [GenesisBuilder.SampleIn(suite).Validators[0]] };
        await using var node = await SoloNodeInAsync(genesis);
        var proposal = Build.Id("same-vote");
        var bank = new TestKey(200, "Bank of Beijing", "91110000802100433B", "BJ");
        var propose = TestLedger.Sign(genesis, TestKeys.JointCreditOffice, new GovernancePropose(proposal, GovernanceAction.AddMember, bank.AddressIn(suite), bank.Uscc, bank.Name, "BJ", MemberRole.MeasureImplementer), 0);
        Assert.Equal(TransactionState.Committed, (await node.SubmitAsync(Bytes(propose), waitForCommit: true, Deadline(60))).Outcome?.State);

        // The same body at the same nonce by two members: one signed digest, two transactions.
        var vote = new GovernanceVote(proposal, Approve: true);
        var tianjin = TestLedger.Sign(genesis, TestKeys.TianjinRegulator, vote, 0);
        var hebei = TestLedger.Sign(genesis, TestKeys.HebeiRegulator, vote, 0);
        Assert.Equal(tianjin.SigningDigest(node.Domain), hebei.SigningDigest(node.Domain));
        Assert.NotEqual(tianjin.Hash(node.Domain), hebei.Hash(node.Domain));

        var results = await node.SubmitManyAsync([Bytes(tianjin), Bytes(hebei)], waitForCommit: true, Deadline(60));

        Assert.All(results, r => Assert.Equal(TransactionState.Committed, r.Outcome?.State));
        Assert.Equal([tianjin.Hash(node.Domain), hebei.Hash(node.Domain)], results.Select(r => r.Id));
        Assert.Equal(3, node.Head.HistorySize);
        var scheme = CryptoSuite.For(suite).Signatures;
        foreach (var (tx, result) in new[] { tianjin, hebei }.Zip(results))
        {
            Assert.Equal(TransactionState.Committed, (await node.GetTransactionAsync(result.Id, Deadline())).State);
            var receipt = (await node.ProveTransactionAsync(result.Id, Deadline()))!;
            Assert.True(ReceiptVerifier.Verify(receipt, node.Anchor, scheme).IsValid);
            Assert.Equal(Bytes(tx), receipt.Transaction);
        }

        // Sending one again is a replay of its own id, refused by its signer's nonce.
        var again = await node.SubmitAsync(Bytes(hebei), waitForCommit: false, Deadline());
        Assert.Equal((hebei.Hash(node.Domain), AdmissionCode.NonceReused), (again.Id, again.Code));
    }

    private async Task<LedgerNode> SoloNodeInAsync(GenesisDocument genesis)
        => await LedgerNode.OpenAsync(
            new LedgerNodeSetup
            {
                Genesis = genesis,
                Store = await EmbeddedStoreAsync(_directory),
                Consensus = new SoloSealingEngine(new SignerBlockSealer(Validator.SignerIn(suite), TrustAnchor.FromGenesis(genesis).DomainSeparator)),
                Options = new LedgerNodeOptions(),
            },
            CancellationToken.None);

    public sealed class Eth() : TransactionIdTests(CryptoSuiteId.Eth);

    public sealed class Gm() : TransactionIdTests(CryptoSuiteId.Gm);
}
