using System.Security.Cryptography;
using System.Text;
using SmartCity.Contracts.Node.V1;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Receipts;
using Xunit.Abstractions;

namespace SmartCity.CreditApi.Tests.Cluster;

/// <summary>
/// Issue 12 item 5 across real processes: four <c>smartcity node</c> genesis validators under load; a fifth validator
/// (<c>init --join BJ</c>, not in the genesis) is started, voted in by the members, catches up from its peers and seals
/// blocks; then XA is voted out: its links are refused, the others keep committing without it, and the four remaining
/// processes converge on one head and state root with every acknowledged transaction; every certificate verifies
/// against the set in force at its height, and a receipt after both changes verifies offline with the genesis only.
/// Every loop is bounded in count and time; every process is stopped by PID (about as long as the cluster tests).
/// </summary>
public sealed class ValidatorSetChangeClusterTests(ITestOutputHelper output)
{
    private const int Newcomer = 4;
    private const int Departing = 3; // XA
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(120);
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    private void Step(string what) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,6:F1} s  {what}");

    [Fact]
    public async Task A_fifth_node_process_voted_in_catches_up_and_seals_and_a_validator_voted_out_is_refused_while_the_rest_converge()
    {
        await using var cluster = await LocalCluster.StartAsync(join: "BJ");
        var joined = cluster.Joined!;
        var anchor = TrustAnchor.FromGenesis(cluster.Genesis);
        var genesisSet = new ValidatorSet(cluster.Genesis.Validators.Select(v => v.Address), cluster.Suite);
        var departing = cluster.Genesis.Validators.Single(v => v.Region == LocalCluster.Regions[Departing]).Address;
        var five = new ValidatorSet([.. genesisSet.Members, joined.Address], cluster.Suite);
        var four = new ValidatorSet([.. five.Members.Where(a => a != departing)], cluster.Suite);
        Step("four genesis validators started");
        var load = new ClusterLoad(cluster);
        load.Start();
        long added, removed;
        try
        {
            await load.WaitForAcknowledgedAsync(4, Long);

            // The newcomer runs before the vote (an observer, refused by the others until it is voted in).
            await cluster.StartNodeAsync(Newcomer);
            Step("5th node started (not yet a validator)");
            await WaitForLogAsync(cluster, Newcomer, "PermissionDenied", 0, Long); // the others refuse it until it is voted in
            added = await VoteAsync(load, GovernanceAction.AddValidator, joined.Address, joined.Name, joined.Region);
            Step($"voted in at height {added}");

            // It catches up from its peers once they admit it, then seals blocks of the five.
            await cluster.WaitForHeightAsync([Newcomer], added + 1, Long);
            var sealedAt = await WaitForSealAsync(cluster, anchor, joined.Address, added + 1, Long);
            Step($"5th validator's seal in the certificate of block {sealedAt}");

            var beforeRemoval = cluster.Log(Departing).Length;
            Assert.DoesNotContain("PermissionDenied", cluster.Log(Departing), StringComparison.Ordinal);
            removed = await VoteAsync(load, GovernanceAction.RemoveValidator, departing, string.Empty, string.Empty);
            Step($"XA voted out at height {removed}");

            // Its links are refused or closed by the others once they committed the removal.
            await WaitForLogAsync(cluster, Departing, "PermissionDenied", beforeRemoval, Long);
            Step("XA's links refused");
            await cluster.StopNodeAsync(Departing, "TERM");
            await load.WaitForAcknowledgedAsync(load.Acknowledged.Count + 6, Long);
            Step("6 more committed without XA");
        }
        finally
        {
            await load.StopAsync();
        }

        var final = await cluster.ConvergeAsync(Long);
        Assert.True(final > removed + 1);
        Step($"BJ, TJ, HE and the 5th converged at {final}");
        var statuses = await Task.WhenAll(cluster.Up.Select(cluster.StatusAsync));
        Assert.Equal(4, statuses.Length);
        Assert.Single(statuses.Select(s => (s.Height, s.HeadHash, s.StateRoot, s.HistorySize)).Distinct());

        // Every block: the same on the four, naming the set in force at its height, certified by a quorum of that set.
        var sealedByXaAfter = new List<long>();
        for (var h = 1L; h <= final; h++)
        {
            var blocks = await Task.WhenAll(cluster.Up.Select(n => cluster.BlockAsync(n, h)));
            Assert.Single(blocks.Select(b => b.BlockHash).Distinct());
            Assert.True(BlockHeader.TryDecode(blocks[0].Header.Span, out var header, out _));
            Assert.True(CommitCertificate.TryDecode(blocks[0].Certificate.Span, out var certificate, out _));
            var expected = h <= added ? genesisSet : h <= removed ? five : four;
            Assert.Equal(expected.Hash, header!.ValidatorSetHash);
            var verdict = certificate!.Verify(header, expected, anchor.DomainSeparator, cluster.Suite.Signatures);
            Assert.True(verdict.IsValid, $"height {h}: {verdict.Reason}");
            if (h > removed && Signers(cluster, anchor, certificate).Contains(departing))
            {
                sealedByXaAfter.Add(h);
            }
        }

        Assert.Empty(sealedByXaAfter);
        Step("every certificate verified against the set in force");

        foreach (var node in cluster.Up)
        {
            foreach (var (tx, at) in load.Acknowledged)
            {
                var found = await cluster.Client(node).GetTransactionAsync(new GetTransactionRequest { TransactionId = tx.ToString() }, deadline: DateTime.UtcNow.AddSeconds(20));
                Assert.True(found.Status == TransactionStatus.Committed && found.Height == at, $"{cluster.Name(node)}: acknowledged transaction {tx} (height {at}) is {found.Status} at {found.Height}");
            }
        }

        Step($"{load.Acknowledged.Count} acknowledged transactions on every node");

        // A receipt after both changes, from the newcomer, verifies with nothing but the genesis (version 3).
        var (lastTx, lastHeight) = load.Acknowledged.OrderByDescending(a => a.Value).First();
        Assert.True(lastHeight > removed);
        var answer = await cluster.Client(Newcomer).GetReceiptAsync(new GetReceiptRequest { TransactionId = lastTx.ToString() }, deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.Contains("\"version\": 3", answer.ReceiptJson, StringComparison.Ordinal);
        var report = ReceiptVerifier.VerifyDocument(Encoding.UTF8.GetBytes(answer.ReceiptJson), anchor, cluster.Suite.Signatures);
        Assert.True(report.Outcome == ReceiptOutcome.Valid, report.Reason);
        Assert.Equal([added, removed], report.Receipt!.HandOvers.Select(h => h.Header.Height));
        Step("receipt v3 verified with the genesis only");
    }

    /// <summary>Member 0 proposes, members 1-4 approve (5 of the setup's 8 members: a strict majority); the height of the block that passed it.</summary>
    private static async Task<long> VoteAsync(ClusterLoad load, GovernanceAction action, Address target, string name, string region)
    {
        var id = new Hash256(SHA256.HashData(Encoding.UTF8.GetBytes($"{action} {target}")));
        var passed = (await load.SubmitAsAsync(0, new GovernancePropose(id, action, target, string.Empty, name, region, MemberRole.None), 0, Long)).Height;
        for (var member = 1; member <= 4; member++)
        {
            passed = Math.Max(passed, (await load.SubmitAsAsync(member, new GovernanceVote(id, Approve: true), member % 3, Long)).Height);
        }

        return passed;
    }

    /// <summary>Waits for a block from <paramref name="from"/> on whose certificate <paramref name="validator"/>'s seal is; its height.</summary>
    private static async Task<long> WaitForSealAsync(LocalCluster cluster, TrustAnchor anchor, Address validator, long from, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        for (var h = from; ; h++)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no certificate from height {from} to {h - 1} carries the seal of {validator} within {limit}:\n{LocalCluster.Tail(cluster.Log(Newcomer))}");
            var block = await cluster.BlockAsync(0, h); // waits for the block (the load keeps the chain moving)
            Assert.True(CommitCertificate.TryDecode(block.Certificate.Span, out var certificate, out _));
            if (Signers(cluster, anchor, certificate!).Contains(validator))
            {
                return h;
            }
        }
    }

    private static List<Address> Signers(LocalCluster cluster, TrustAnchor anchor, CommitCertificate certificate)
    {
        var digest = CommitSeal.Digest(cluster.Suite, anchor.DomainSeparator, certificate.HeaderHash, certificate.Height, certificate.Round);
        var signers = new List<Address>();
        foreach (var seal in certificate.Seals)
        {
            if (cluster.Suite.Signatures.Recover(digest, seal, out var signer) == SignatureCheck.Ok)
            {
                signers.Add(signer);
            }
        }

        return signers;
    }

    /// <summary>Waits until node <paramref name="node"/>'s log, from character <paramref name="from"/> on, contains <paramref name="text"/>.</summary>
    private static async Task WaitForLogAsync(LocalCluster cluster, int node, string text, int from, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!cluster.Log(node)[from..].Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{cluster.Name(node)}'s log has no '{text}' within {limit}:\n{LocalCluster.Tail(cluster.Log(node))}");
            await Task.Delay(200);
        }
    }
}
