using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Node.Tests.NodeKit;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>
/// The seam a consensus engine plugs into (<see cref="IConsensusHost"/>), driven by hand as QBFT will drive it, and
/// the in-process quorum that the demo uses until then.
/// </summary>
public sealed class ConsensusSeamTests : IDisposable
{
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<LedgerNode[]> ValidatorsWithoutEngineAsync(int count)
    {
        // Four nodes of the sample genesis, each with an engine that only exposes its host (the test plays consensus).
        var nodes = new LedgerNode[count];
        for (var i = 0; i < count; i++)
        {
            var store = await EmbeddedStoreAsync(Path.Combine(_directory, $"v{i}"));
            nodes[i] = await LedgerNode.OpenAsync(new LedgerNodeSetup { Genesis = GenesisBuilder.Sample.Value, Store = store, Consensus = new HandDriven() }, Deadline());
        }

        return nodes;
    }

    private static IBlockSealer SampleSealer(int validator)
        => new SignerBlockSealer(Validators[validator].Signer, Receipts.TrustAnchor.FromGenesis(GenesisBuilder.Sample.Value).DomainSeparator);

    private static int IndexOf(Address validator) => Validators.Select((v, i) => (v, i)).Single(p => p.v.Address == validator).i;

    [Fact]
    public async Task A_proposal_built_by_one_node_is_validated_by_reexecution_sealed_and_committed_by_all()
    {
        var nodes = await ValidatorsWithoutEngineAsync(4);
        try
        {
            var tx = Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(0));
            foreach (var node in nodes)
            {
                Assert.True((await node.SubmitAsync(tx, false, Deadline())).IsAccepted);
            }

            var proposerAddress = nodes[0].Head.Validators.ProposerFor(1, 0);
            var proposer = nodes[IndexOf(proposerAddress)];
            var proposal = await proposer.ConsensusHost.BuildProposalAsync(1, 0, Deadline());
            Assert.NotNull(proposal);
            Assert.Equal(proposerAddress, proposal.Header.Proposer);

            var seals = new List<Signature>();
            for (var i = 0; i < nodes.Length; i++)
            {
                var validation = await nodes[i].ConsensusHost.ValidateProposalAsync(proposal, Deadline());
                Assert.True(validation.IsValid, validation.Reason);
                Assert.Equal(proposal.Header.Hash, validation.ComputedHash);
                seals.Add(await SampleSealer(i).SealAsync(proposal.Header, Deadline()));
            }

            var certificate = CommitCertificate.FromSeals(Secp256k1.Default, nodes[0].Anchor.DomainSeparator, proposal.Header, seals.Take(3));
            foreach (var node in nodes)
            {
                var result = await node.ConsensusHost.CommitAsync(proposal, certificate, Deadline());
                Assert.True(result.IsCommitted, result.ToString());
                Assert.Equal(0, node.MempoolSize);
            }

            Assert.Single(nodes.Select(n => n.Head.StateRoot).Distinct());
            Assert.True((await nodes[2].ConsensusHost.CommitAsync(proposal, certificate, Deadline())).IsCommitted); // a repeat is harmless
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Validation_takes_a_transaction_waiting_in_the_mempool_as_admitted_and_decodes_only_the_others()
    {
        var nodes = await ValidatorsWithoutEngineAsync(2);
        try
        {
            var waiting = Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(0));
            var other = Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(1)); // only node 0 admits this one
            foreach (var node in nodes)
            {
                Assert.True((await node.SubmitAsync(waiting, false, Deadline())).IsAccepted);
            }

            Assert.True((await nodes[0].SubmitAsync(other, false, Deadline())).IsAccepted);
            var built = (await nodes[0].ConsensusHost.BuildProposalAsync(1, 0, Deadline()))!;
            Assert.Equal(2, built.Transactions.Count);

            // The proposal arrives as fresh buffers (as from a peer): equal bytes, not the admitted ones.
            var proposal = built with { Transactions = [.. built.Transactions.Select(t => (ReadOnlyMemory<byte>)t.ToArray())] };
            var decodedBefore = nodes[1].Timers.Items(NodeStage.Decode);
            var validation = await nodes[1].ConsensusHost.ValidateProposalAsync(proposal, Deadline());
            Assert.True(validation.IsValid, validation.Reason);
            Assert.Equal(built.Header.Hash, validation.ComputedHash);
            Assert.Equal(1, nodes[1].Timers.Items(NodeStage.Decode) - decodedBefore); // only the transaction it never admitted
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Validation_refuses_a_proposal_with_the_wrong_proposer_a_changed_transaction_or_a_bad_signature_and_says_why()
    {
        var nodes = await ValidatorsWithoutEngineAsync(1);
        await using var node = nodes[0];
        var tx = Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(0);
        Assert.True((await node.SubmitAsync(Bytes(tx), false, Deadline())).IsAccepted);
        var proposal = (await node.ConsensusHost.BuildProposalAsync(1, 0, Deadline()))!;

        var wrongProposer = proposal with { Header = proposal.Header with { Proposer = TestKeys.Outsider.Address } };
        var otherTransaction = proposal with { Transactions = [Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(0))] };
        var forged = proposal with { Transactions = [Bytes(Build.A.CreditRecord.By(TestKeys.TianjinRegulator).Signed(0) with { Signer = TestKeys.BeijingRegulator.Address })] };
        var future = proposal with { Header = proposal.Header with { TimestampMs = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds() } };

        var a = await node.ConsensusHost.ValidateProposalAsync(wrongProposer, Deadline());
        var b = await node.ConsensusHost.ValidateProposalAsync(otherTransaction, Deadline());
        var c = await node.ConsensusHost.ValidateProposalAsync(forged, Deadline());
        var d = await node.ConsensusHost.ValidateProposalAsync(future, Deadline());

        Assert.Contains("not the proposer", a.Reason, StringComparison.Ordinal);
        Assert.False(b.IsValid);
        Assert.NotEqual(proposal.Header.Hash, b.ComputedHash);
        Assert.Contains("SignerMismatch", c.Reason, StringComparison.Ordinal);
        Assert.Contains("ahead of this node's clock", d.Reason, StringComparison.Ordinal);
        Assert.False(a.IsValid || c.IsValid || d.IsValid);
        Assert.True((await node.ConsensusHost.ValidateProposalAsync(proposal, Deadline())).IsValid);
    }

    [Fact]
    public async Task A_certificate_without_a_quorum_commits_nothing()
    {
        var nodes = await ValidatorsWithoutEngineAsync(1);
        await using var node = nodes[0];
        await node.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(0)), false, Deadline());
        var proposal = (await node.ConsensusHost.BuildProposalAsync(1, 0, Deadline()))!;
        var twoSeals = CommitCertificate.FromSeals(Secp256k1.Default, node.Anchor.DomainSeparator, proposal.Header, [await SampleSealer(0).SealAsync(proposal.Header, Deadline()), await SampleSealer(1).SealAsync(proposal.Header, Deadline())]);

        var result = await node.ConsensusHost.CommitAsync(proposal, twoSeals, Deadline());

        Assert.False(result.IsCommitted);
        Assert.Equal(CertificateCheck.TooFewSeals, result.Check);
        Assert.Equal(0, node.Head.Height);
        Assert.Equal(1, node.MempoolSize);
    }

    [Fact]
    public async Task A_decided_block_a_node_never_saw_is_executed_and_committed_from_its_certificate()
    {
        var nodes = await ValidatorsWithoutEngineAsync(2);
        await using var builder = nodes[0];
        await using var late = nodes[1];
        await builder.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(0)), false, Deadline());
        var proposal = (await builder.ConsensusHost.BuildProposalAsync(1, 0, Deadline()))!;
        var certificate = CommitCertificate.FromSeals(Secp256k1.Default, builder.Anchor.DomainSeparator, proposal.Header, await Task.WhenAll(Enumerable.Range(0, 3).Select(i => SampleSealer(i).SealAsync(proposal.Header, Deadline()).AsTask())));

        Assert.True((await builder.ConsensusHost.CommitAsync(proposal, certificate, Deadline())).IsCommitted);
        Assert.True((await late.ConsensusHost.CommitAsync(proposal, certificate, Deadline())).IsCommitted);
        Assert.Equal(builder.Head.StateRoot, late.Head.StateRoot);
    }

    [Fact]
    public async Task Four_in_process_validators_agree_on_every_block_and_three_still_reach_a_quorum()
    {
        foreach (var present in new[] { 4, 3 })
        {
            var members = new List<ConsortiumMember>();
            for (var i = 0; i < present; i++)
            {
                members.Add(new ConsortiumMember(Validators[i].Region, await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = Path.Combine(_directory, $"{present}-{i}") }, Deadline()), SampleSealer(i)));
            }

            await using var consortium = await InProcessConsortium.StartAsync(GenesisBuilder.Sample.Value, members, new LedgerNodeSetup { Genesis = GenesisBuilder.Sample.Value, Store = members[0].Store }, Deadline());
            for (var nonce = 0UL; nonce < 5; nonce++)
            {
                var result = await consortium.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(nonce)), waitForCommit: true, Deadline());
                Assert.Equal(TransactionState.Committed, result.Outcome?.State);
            }

            await consortium.WaitForHeightAsync(consortium.Nodes[0].Node.Head.Height, Deadline());
            Assert.Single(consortium.Nodes.Select(n => (n.Node.Head.HeadHash, n.Node.Head.StateRoot)).Distinct());
            Assert.All(consortium.Nodes, n => Assert.True(n.Node.Head.Certificate.Seals.Length >= 3));
            Assert.Equal(5, consortium.Nodes[0].Node.Head.HistorySize);
        }
    }

    /// <summary>An engine that does nothing on its own: the test calls the host as a consensus engine would.</summary>
    private sealed class HandDriven : IConsensusEngine
    {
        public Task RunAsync(IConsensusHost host, CancellationToken cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken);
    }
}
