using System.Text;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Receipts;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Node.Tests.NodeKit;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>
/// Validator-set changes by governance on a live in-process QBFT consortium (docs/consensus.md, "Validator-set
/// changes"): the vote that reaches its threshold in block h changes the set from h+1; from there the new set
/// proposes, seals and certifies; every node agrees; receipts after a change verify offline with the genesis only.
/// </summary>
public sealed class ValidatorSetChangeTests : IAsyncDisposable
{
    private static readonly QbftParameters Parameters = new() { BaseRoundTimeout = TimeSpan.FromMilliseconds(500), MaxRoundTimeout = TimeSpan.FromSeconds(4) };
    private static readonly TestKey Newcomer = new(105, "validator-bj-2", "", "BJ");
    private static readonly TestKey[] Voters = [TestKeys.BeijingRegulator, TestKeys.TianjinRegulator, TestKeys.HebeiRegulator, TestKeys.XionganCommittee];

    private readonly string _directory = TempDirectory();
    private readonly Dictionary<Address, ulong> _nonces = [];
    private int _ids;

    public async ValueTask DisposeAsync()
    {
        await Task.Yield();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_fifth_validator_voted_in_and_one_voted_out_take_over_at_the_next_height_and_receipts_verify_with_the_genesis_only()
    {
        var genesis = GenesisBuilder.Sample.Value;
        TestKey[] keys = [.. Validators, Newcomer];
        var members = keys.Select(k => new QbftConsortiumMember(
            k.Region + k.Seed,
            k.Signer,
            async ct => await EmbeddedStoreAsync(Path.Combine(_directory, k.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            null)).ToList();
        await using var consortium = await InProcessConsortium.StartQbftAsync(genesis, members, new LedgerNodeSetup { Genesis = genesis, Store = null! }, Parameters, TimeProvider.System, Deadline());
        var genesisSet = consortium.Nodes[0].Node.Head.Validators;
        Assert.Equal(4, genesisSet.Count);

        await RecordAsync(consortium, "before");
        var added = await ChangeAsync(consortium, GovernanceAction.AddValidator, Newcomer);
        var five = new ValidatorSet([.. Validators.Select(v => v.Address), Newcomer.Address]);
        await AgreedHeightAsync(consortium, added);
        foreach (var (_, node) in consortium.Nodes)
        {
            Assert.Equal(five.Hash, node.Head.Validators.Hash); // from the block after the vote: V = 5, q = 4
        }

        // The newcomer takes its turn as proposer: heights rotate through all five.
        var proposers = new HashSet<Address>();
        for (var i = 0; i < 6; i++)
        {
            var height = await RecordAsync(consortium, "with five");
            proposers.Add((await consortium.Nodes[0].Node.GetBlockEventAsync(height, Deadline())).Header.Proposer);
        }

        Assert.Contains(Newcomer.Address, proposers);

        var removed = await ChangeAsync(consortium, GovernanceAction.RemoveValidator, Validators[3]);
        var last = await RecordAsync(consortium, "after");
        var top = await AgreedHeightAsync(consortium, last);

        var anchor = TrustAnchor.FromGenesis(genesis);
        var reference = consortium.Nodes[0].Node;
        var four = new ValidatorSet([.. Validators.Take(3).Select(v => v.Address), Newcomer.Address]);
        for (var height = 1L; height <= top; height++)
        {
            var blocks = await Task.WhenAll(consortium.Nodes.Select(n => n.Node.GetBlockEventAsync(height, Deadline()).AsTask()));
            Assert.Single(blocks.Select(b => b.Header.Hash).Distinct()); // agreement on every height, all five nodes
            var expected = height <= added ? genesisSet : height <= removed ? five : four;
            Assert.Equal(expected.Hash, blocks[0].Header.ValidatorSetHash);
            var verdict = blocks[0].Certificate.Verify(blocks[0].Header, expected, anchor.DomainSeparator, Secp256k1.Default);
            Assert.True(verdict.IsValid, $"height {height}: {verdict.Reason}");
        }

        Assert.Single(consortium.Nodes.Select(n => n.Node.Head.StateRoot).Distinct());

        // A receipt of the last record carries both hand-overs and verifies with nothing but the genesis.
        var lastBlock = await reference.GetBlockEventAsync(last, Deadline());
        var receipt = await reference.ProveTransactionAsync(lastBlock.TransactionIds[0], Deadline());
        Assert.NotNull(receipt);
        Assert.Equal([added, removed], receipt.HandOvers.Select(h => h.Header.Height));
        var document = ReceiptJson.Write(receipt);
        Assert.Contains("\"version\": 3", document, StringComparison.Ordinal);
        var report = ReceiptVerifier.VerifyDocument(Encoding.UTF8.GetBytes(document), anchor, Secp256k1.Default);
        Assert.True(report.Outcome == ReceiptOutcome.Valid, report.Reason);

        // Skipping the first hand-over, or forging the set the second one installs, is refused with the reason.
        var skipped = ReceiptVerifier.Verify(receipt with { HandOvers = [receipt.HandOvers[1]] }, anchor, Secp256k1.Default);
        Assert.Equal(ReceiptCheck.HandOverMissing, skipped.Check);
        var forged = receipt.HandOvers[1] with { Validators = new ValidatorSet([.. Validators.Select(v => v.Address), Newcomer.Address, TestKeys.Outsider.Address]) };
        var forgedVerdict = ReceiptVerifier.Verify(receipt with { HandOvers = [receipt.HandOvers[0], forged] }, anchor, Secp256k1.Default);
        Assert.Equal(ReceiptCheck.HandOverInvalid, forgedVerdict.Check);
        Assert.Contains("state proof", forgedVerdict.Reason, StringComparison.Ordinal);
        var none = ReceiptVerifier.Verify(receipt with { HandOvers = [] }, anchor, Secp256k1.Default);
        Assert.Equal(ReceiptCheck.CertificateInvalid, none.Check);
        Assert.Contains("must carry its hand-overs", none.Reason, StringComparison.Ordinal);

        // A receipt from before the first change is still version 2, as ever.
        var early = await reference.ProveTransactionAsync((await reference.GetBlockEventAsync(1, Deadline())).TransactionIds[0], 1, Deadline());
        Assert.Empty(early.Value!.HandOvers);
        Assert.Contains("\"version\": 2", ReceiptJson.Write(early.Value), StringComparison.Ordinal);
    }

    /// <summary>Commits one credit record; returns its height.</summary>
    private async Task<long> RecordAsync(InProcessConsortium consortium, string tag)
    {
        var record = Build.A.CreditRecord.WithId(Build.Id($"{tag} {_ids++}")).By(TestKeys.BeijingRegulator);
        var result = await consortium.SubmitAsync(Sign(TestKeys.BeijingRegulator, record.Body()), waitForCommit: true, Deadline(90));
        Assert.True(result.Outcome?.State == TransactionState.Committed, result.ToString());
        return result.Outcome!.Height;
    }

    /// <summary>
    /// The four regional members vote <paramref name="action"/> of <paramref name="target"/> (one proposes, three approve);
    /// returns the height of the block whose execution passed it. Voters first file fillers so their votes go out at
    /// distinct nonces (identical bodies at one nonce would be one transaction).
    /// </summary>
    private async Task<long> ChangeAsync(InProcessConsortium consortium, GovernanceAction action, TestKey target)
    {
        var id = Build.Id($"validator change {_ids++}");
        var transactions = new List<ReadOnlyMemory<byte>> { Sign(Voters[0], new GovernancePropose(id, action, target.Address, target.Uscc, target.Name, target.Region, MemberRole.MeasureImplementer)) };
        var usedNonces = new HashSet<ulong>();
        foreach (var voter in Voters.Skip(1))
        {
            while (usedNonces.Contains(NextNonce(voter)))
            {
                transactions.Add(Sign(voter, new GovernancePropose(Build.Id($"filler {_ids++}"), GovernanceAction.ChangeRoles, TestKeys.BeijingCourt.Address, TestKeys.BeijingCourt.Uscc, TestKeys.BeijingCourt.Name, TestKeys.BeijingCourt.Region, MemberRole.MeasureImplementer)));
            }

            usedNonces.Add(NextNonce(voter));
            transactions.Add(Sign(voter, new GovernanceVote(id, true)));
        }

        var results = await consortium.SubmitManyAsync(transactions, waitForCommit: true, Deadline(90));
        Assert.All(results, r => Assert.True(r.Outcome?.State == TransactionState.Committed, r.ToString()));
        return results.Max(r => r.Outcome!.Height);
    }

    private static async Task<long> AgreedHeightAsync(InProcessConsortium consortium, long atLeast)
    {
        await consortium.WaitForHeightAsync(atLeast, Deadline(90));
        return consortium.Nodes.Min(n => n.Node.Head.Height);
    }

    private ulong NextNonce(TestKey signer) => _nonces.TryGetValue(signer.Address, out var nonce) ? nonce : 0;

    private byte[] Sign(TestKey signer, ITransactionBody body)
    {
        var nonce = NextNonce(signer);
        _nonces[signer.Address] = nonce + 1;
        return Bytes(TestLedger.Sign(GenesisBuilder.Sample.Value, signer, body, nonce));
    }
}
