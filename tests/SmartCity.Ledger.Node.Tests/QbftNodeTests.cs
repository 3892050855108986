using System.Collections.Immutable;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Node.Tests.NodeKit;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>
/// QBFT plugged into the node runtime: four validators, each its own <see cref="LedgerNode"/> on its own store with its
/// own <see cref="QbftConsensusEngine"/>, exchanging encoded consensus messages over <see cref="InProcessConsensusNetwork"/>.
/// </summary>
public sealed class QbftNodeTests : IDisposable
{
    // Short rounds so a round change past the silent proposer is quick; generous enough for a loaded machine (a late
    // vote only costs a round change, never safety).
    private static readonly QbftParameters Parameters = new() { BaseRoundTimeout = TimeSpan.FromMilliseconds(500), MaxRoundTimeout = TimeSpan.FromSeconds(4) };

    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Four_qbft_validators_commit_every_block_with_one_of_them_silent_by_changing_round_past_it()
    {
        var genesis = GenesisBuilder.Sample.Value;
        var network = new InProcessConsensusNetwork();
        var silent = Validators[3];
        network.CutOff(silent.Address);
        var nodes = new List<LedgerNode>();
        try
        {
            foreach (var validator in Validators)
            {
                var store = await EmbeddedStoreAsync(Path.Combine(_directory, validator.Region));
                var engine = new QbftConsensusEngine(validator.Signer, network.Join(validator.Address), new FileConsensusJournal(Path.Combine(_directory, validator.Region + ".journal")), Parameters);
                nodes.Add(await LedgerNode.OpenAsync(new LedgerNodeSetup { Genesis = genesis, Store = store, Consensus = engine }, Deadline()));
            }

            var live = nodes.Where((_, i) => Validators[i] != silent).ToList();
            const int Blocks = 6; // heights 1-6: the silent validator is the round-0 proposer of at least one of them
            for (var nonce = 0UL; nonce < Blocks; nonce++)
            {
                var tx = Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(nonce));
                var answers = await Task.WhenAll(nodes.Select((n, i) => n.SubmitAsync(tx, waitForCommit: i == 0, Deadline(90)).AsTask()));
                Assert.Equal(TransactionState.Committed, (await OutcomeAsync(nodes[0], answers[0]))?.State);
            }

            foreach (var node in live)
            {
                var head = node.Head;
                while (head.Height < Blocks)
                {
                    head = await head.NextAsync(Deadline(90));
                }
            }

            var validators = nodes[0].Head.Validators;
            var roundChanges = 0;
            for (var height = 1L; height <= Blocks; height++)
            {
                var blocks = await Task.WhenAll(live.Select(n => n.GetBlockEventAsync(height, Deadline()).AsTask()));
                Assert.Single(blocks.Select(b => b.Header.Hash).Distinct()); // agreement
                foreach (var block in blocks)
                {
                    var verdict = block.Certificate.Verify(block.Header, validators, nodes[0].Anchor.DomainSeparator, Secp256k1.Default);
                    Assert.True(verdict.IsValid, verdict.Reason);
                    Assert.True(block.Certificate.Seals.Length >= validators.Quorum);
                }

                if (validators.ProposerFor(height, 0) == silent.Address)
                {
                    // Its round passed: the block was proposed in a later round by the next validator in turn.
                    Assert.True(blocks[0].Header.Round >= 1, $"height {height}: round {blocks[0].Header.Round}");
                    Assert.NotEqual(silent.Address, blocks[0].Header.Proposer);
                    roundChanges++;
                }
            }

            Assert.True(roundChanges >= 1);
            Assert.Single(live.Select(n => n.Head.StateRoot).Distinct());
            Assert.Equal(0, nodes[Validators.ToList().IndexOf(silent)].Head.Height); // cut off: it saw nothing
            Assert.True(network.Dropped > 0);
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
    public async Task Validator_cut_off_while_three_commit_catches_up_from_certified_blocks_when_reconnected_and_rejoins()
    {
        var genesis = GenesisBuilder.Sample.Value;
        var network = new InProcessConsensusNetwork();
        var stores = new List<Storage.ILedgerStore>();
        foreach (var validator in Validators)
        {
            stores.Add(await EmbeddedStoreAsync(Path.Combine(_directory, validator.Region)));
        }

        var nodes = new List<LedgerNode>();
        try
        {
            for (var i = 0; i < Validators.Count; i++)
            {
                var peers = new PeerStoresBlockSource(stores.Where((_, j) => j != i));
                var engine = new QbftConsensusEngine(Validators[i].Signer, network.Join(Validators[i].Address), new InMemoryConsensusJournal(), Parameters, blocks: peers);
                nodes.Add(await LedgerNode.OpenAsync(new LedgerNodeSetup { Genesis = genesis, Store = stores[i], Consensus = engine }, Deadline()));
            }

            var late = nodes[1];
            network.CutOff(Validators[1].Address);
            for (var nonce = 0UL; nonce < 3; nonce++)
            {
                await SubmitEverywhereAsync(nodes, nonce, waitOn: nodes[0]);
            }

            Assert.Equal(0, late.Head.Height); // it saw no votes: three validators decided without it
            network.Reconnect(Validators[1].Address);
            for (var nonce = 3UL; nonce < 5; nonce++)
            {
                await SubmitEverywhereAsync(nodes, nonce, waitOn: late);
            }

            foreach (var node in nodes) // every block holds one transaction: five blocks, which each node may commit a moment apart
            {
                var head = node.Head;
                while (head.Height < 5)
                {
                    head = await head.NextAsync(Deadline(90));
                }
            }

            Assert.Single(nodes.Select(n => (n.Head.Height, n.Head.HeadHash, n.Head.StateRoot)).Distinct());
            Assert.Equal(5, late.Head.HistorySize); // every transaction, the three it missed included
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
    public async Task Validator_restarted_from_its_store_and_journal_rejoins_and_all_four_agree_on_later_blocks()
    {
        var genesis = GenesisBuilder.Sample.Value;
        var network = new InProcessConsensusNetwork();
        var transports = Validators.Select(v => network.Join(v.Address)).ToList(); // a link outlives a restart, as an address does
        var nodes = new LedgerNode?[Validators.Count];
        async Task<LedgerNode> OpenAsync(int i)
        {
            var validator = Validators[i];
            var engine = new QbftConsensusEngine(validator.Signer, transports[i], new FileConsensusJournal(Path.Combine(_directory, validator.Region + ".journal")), Parameters);
            return await LedgerNode.OpenAsync(new LedgerNodeSetup { Genesis = genesis, Store = await EmbeddedStoreAsync(Path.Combine(_directory, validator.Region)), Consensus = engine }, Deadline());
        }

        async Task CommitAsync(ulong nonce)
        {
            var tx = Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(nonce));
            var answers = await Task.WhenAll(nodes.Select((n, i) => n!.SubmitAsync(tx, waitForCommit: true, Deadline(90)).AsTask()));
            for (var i = 0; i < answers.Length; i++)
            {
                Assert.Equal(TransactionState.Committed, (await OutcomeAsync(nodes[i]!, answers[i]))?.State);
            }
        }

        try
        {
            for (var i = 0; i < nodes.Length; i++)
            {
                nodes[i] = await OpenAsync(i);
            }

            await CommitAsync(0);
            await CommitAsync(1);

            // The chain is idle (no work, so no rounds run): stop one validator and open it again from its disk.
            await nodes[2]!.DisposeAsync();
            nodes[2] = await OpenAsync(2);
            Assert.Equal(2, nodes[2]!.Head.Height);

            await CommitAsync(2);
            await CommitAsync(3);
            foreach (var node in nodes) // a waiter learns of its commit just before the node publishes its new head
            {
                var head = node!.Head;
                while (head.Height < 4)
                {
                    head = await head.NextAsync(Deadline(90));
                }
            }

            Assert.Single(nodes.Select(n => (n!.Head.Height, n.Head.HeadHash, n.Head.StateRoot)).Distinct());
            Assert.Equal(4, nodes[0]!.Head.Height);
        }
        finally
        {
            foreach (var node in nodes)
            {
                if (node is not null)
                {
                    await node.DisposeAsync();
                }
            }
        }
    }

    [Fact]
    public async Task Qbft_refuses_a_chain_with_fewer_than_four_validators_and_the_node_reports_the_fault()
    {
        var network = new InProcessConsensusNetwork();
        var engine = new QbftConsensusEngine(Validator.Signer, network.Join(Validator.Address), new InMemoryConsensusJournal(), Parameters);
        await using var node = await LedgerNode.OpenAsync(new LedgerNodeSetup { Genesis = SoloGenesis, Store = await EmbeddedStoreAsync(_directory), Consensus = engine }, Deadline());

        var head = node.Head;
        while (head.Health == NodeHealth.Running)
        {
            head = await head.NextAsync(Deadline());
        }

        Assert.Equal(NodeHealth.Faulted, head.Health);
        Assert.Contains("at least 4 validators", head.Fault, StringComparison.Ordinal);
    }

    [Fact]
    public async Task File_journal_returns_what_was_saved_and_refuses_a_damaged_file()
    {
        var path = Path.Combine(_directory, "journal");
        var journal = new FileConsensusJournal(path);
        Assert.Null(await journal.LoadAsync(Deadline()));

        var prepare = ConsensusSigning.Prepare(Crypto(), Validator.Signer, 7, 2, Keccak256.Hash("block"u8));
        var state = new ConsensusJournalState(7, 2, null, null, ImmutableArray.Create<ConsensusMessage>(prepare));
        await journal.SaveAsync(state, Deadline());
        var loaded = await new FileConsensusJournal(path).LoadAsync(Deadline());

        Assert.NotNull(loaded);
        Assert.Equal((7L, 2), (loaded.Height, loaded.Round));
        Assert.Equal(ConsensusCodec.Encode(prepare), ConsensusCodec.Encode(Assert.Single(loaded.Sent)));
        Assert.False(File.Exists(path + ".tmp"));

        var bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes[..^3]);
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await journal.LoadAsync(Deadline()));
        Assert.Contains("will not guess", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void In_process_network_delivers_to_every_other_validator_and_drops_what_a_cut_off_one_sends_or_would_receive()
    {
        var network = new InProcessConsensusNetwork(queueCapacity: 2);
        var links = Validators.Select(v => network.Join(v.Address)).ToList();
        links[0].Broadcast(new byte[] { 1 });
        Assert.All(links.Skip(1), l => Assert.True(l.Inbound.TryRead(out var m) && m.Span[0] == 1));
        Assert.False(links[0].Inbound.TryRead(out _)); // not to itself

        network.CutOff(Validators[2].Address);
        links[2].Broadcast(new byte[] { 2 });
        links[0].Broadcast(new byte[] { 3 });
        Assert.False(links[2].Inbound.TryRead(out _));
        foreach (var link in new[] { links[1], links[3] })
        {
            Assert.True(link.Inbound.TryRead(out var three) && three.Span[0] == 3);
            Assert.False(link.Inbound.TryRead(out _));
        }

        Assert.Equal(3 + 1, network.Dropped); // its own broadcast to three peers, and one message to it

        network.Reconnect(Validators[2].Address);
        links[0].Broadcast(new byte[] { 4 });
        links[0].Broadcast(new byte[] { 5 });
        links[0].Broadcast(new byte[] { 6 }); // the queues hold two: the third is dropped for each of the three receivers
        Assert.Equal(4 + 3, network.Dropped);
        Assert.Throws<InvalidOperationException>(() => network.Join(Validators[0].Address));
    }

    /// <summary>Submits one transaction to every node, as gossip would deliver it, and waits for its commit on <paramref name="waitOn"/>.</summary>
    private static async Task SubmitEverywhereAsync(IReadOnlyList<LedgerNode> nodes, ulong nonce, LedgerNode waitOn)
    {
        var tx = Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(nonce));
        var answers = await Task.WhenAll(nodes.Select(n => n.SubmitAsync(tx, waitForCommit: n == waitOn, Deadline(90)).AsTask()));
        var answer = answers[nodes.ToList().IndexOf(waitOn)];
        Assert.Equal(TransactionState.Committed, (await OutcomeAsync(waitOn, answer))?.State);
    }

    /// <summary>
    /// The outcome a waiting submitter got, or, when the node had already committed the transaction from a block another
    /// validator proposed before its own admission pass saw the submission (the same bytes again are a replay there:
    /// NonceReused, as on any node), what the node records for it.
    /// </summary>
    private static async Task<TransactionOutcome?> OutcomeAsync(LedgerNode node, SubmitResult answer) =>
        answer.Code == AdmissionCode.NonceReused ? await node.GetTransactionAsync(answer.Id, Deadline()) : answer.Outcome;

    private static Eip712ConsensusCrypto Crypto()
        => new(Receipts.TrustAnchor.FromGenesis(SoloGenesis).DomainSeparator, new SignatureBatchVerifier(Secp256k1.Default));
}
