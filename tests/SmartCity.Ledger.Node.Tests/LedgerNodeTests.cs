using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Node.Tests.NodeKit;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>The single writer end to end: admission, mempool, proposal, certificate, store, snapshots, subscribers.</summary>
public sealed class LedgerNodeTests : IDisposable
{
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_single_validator_node_commits_a_submitted_transaction_on_its_own_and_serves_receipts_that_verify_offline()
    {
        await using var node = await SoloNodeAsync(_directory);
        var licence = Build.A.Licence.By(TestKeys.HebeiRegulator).HeldBy(TestKeys.Company).InArea("130102");
        var tx = licence.Signed(0);

        var result = await node.SubmitAsync(Bytes(tx), waitForCommit: true, Deadline());

        Assert.True(result.IsAccepted, result.ToString());
        Assert.Equal(tx.Hash(node.Domain), result.Id);
        Assert.Equal(TransactionState.Committed, result.Outcome!.State);
        Assert.Equal(1, result.Outcome.Height);
        Assert.Equal(1, node.Head.Height);
        Assert.Equal(1, node.Head.HistorySize);
        Assert.Single(node.Head.Certificate.Seals);
        Assert.Equal(0, node.MempoolSize);

        var inclusion = await node.ProveTransactionAsync(result.Id, Deadline());
        Assert.True(ReceiptVerifier.Verify(inclusion!, node.Anchor, Secp256k1.Default).IsValid);
        var status = await node.ProveStateAsync(StateKeys.Licence(licence.Identifier), Deadline());
        Assert.True(ReceiptVerifier.Verify(status, node.Anchor, Secp256k1.Default).IsValid);
        Assert.Equal(LicenceStatus.Valid, StateValue.Decode(status.Value!, LicenceState.Read).Status);
        Assert.Equal(TransactionState.Committed, (await node.GetTransactionAsync(result.Id, Deadline())).State);
    }

    [Fact]
    public async Task Admission_and_block_application_recover_each_transaction_signature_exactly_once()
    {
        var curve = new CountingSecp256k1(Secp256k1.Default);
        await using var node = await SoloNodeAsync(_directory, curve);
        var txs = Enumerable.Range(0, 40).Select(i => Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed((ulong)i)).ToList();

        var batch = await node.SubmitManyAsync([.. txs.Take(20).Select(t => (ReadOnlyMemory<byte>)Bytes(t))], waitForCommit: true, Deadline());
        var singles = await Task.WhenAll(txs.Skip(20).Select(t => node.SubmitAsync(Bytes(t), waitForCommit: true, Deadline()).AsTask()));

        Assert.All(batch.Concat(singles), r => Assert.Equal(TransactionState.Committed, r.Outcome?.State));
        Assert.Equal(40, node.Head.HistorySize);
        Assert.All(txs, tx => Assert.Equal(1, curve.RecoveriesOf(tx.SigningDigest(node.Domain))));
    }

    [Fact]
    public async Task Blocks_built_while_the_last_one_is_made_durable_commit_in_order_with_the_headers_a_replay_computes()
    {
        // Five transactions a block: 30 submitted at once make six blocks, each but the first built during its parent's append.
        var genesis = SoloGenesis with { Parameters = SoloGenesis.Parameters with { MaxBlockTransactions = 5 } };
        var curve = new CountingSecp256k1(Secp256k1.Default);
        var txs = Enumerable.Range(0, 30).Select(i => Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed((ulong)i)).ToList();
        var bytesById = new Dictionary<Hash256, byte[]>();
        NodeSnapshot before;
        await using (var node = await SoloNodeAsync(_directory, curve, genesis: genesis))
        {
            foreach (var tx in txs)
            {
                bytesById[tx.Hash(node.Domain)] = Bytes(tx);
            }

            var results = await node.SubmitManyAsync([.. txs.Select(t => (ReadOnlyMemory<byte>)Bytes(t))], waitForCommit: true, Deadline());

            Assert.All(results, r => Assert.Equal(TransactionState.Committed, r.Outcome?.State));
            Assert.Equal(6, node.Head.Height);
            Assert.True(node.BlocksBuiltAhead > 0, "no block was built while its parent was being appended");
            Assert.All(txs, tx => Assert.Equal(1, curve.RecoveriesOf(tx.SigningDigest(node.Domain))));
            var heights = results.Select(r => r.Outcome!.Height).ToList();
            Assert.Equal(heights.Order(), heights); // nonce order across blocks

            // An honest replay of the committed blocks computes the same headers: state roots, history roots, hashes.
            var replay = new LedgerChain(genesis, Secp256k1.Default);
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await foreach (var block in node.WatchAsync(1, cancel.Token))
            {
                var candidate = replay.Propose([.. block.TransactionIds.Select(id => (ReadOnlyMemory<byte>)bytesById[id])], block.Header.Timestamp, block.Header.Round);
                Assert.Equal(block.Header.Hash, candidate.Header.Hash);
                Assert.True(replay.Commit(candidate, block.Certificate).IsValid);
                if (block.Header.Height == node.Head.Height)
                {
                    break;
                }
            }

            Assert.Equal(node.Head.StateRoot, replay.Head.StateRoot);
            before = node.Head;
        }

        await using var reopened = await SoloNodeAsync(_directory, genesis: genesis);
        Assert.Equal(before.HeadHash, reopened.Head.HeadHash);
        Assert.Equal(before.StateRoot, reopened.Head.StateRoot);
        Assert.Equal(30, reopened.Head.HistorySize);
    }

    [Fact]
    public async Task A_transaction_held_for_an_earlier_nonce_commits_once_the_gap_fills_and_in_nonce_order()
    {
        await using var node = await SoloNodeAsync(_directory);
        var second = Build.A.CreditRecord.By(TestKeys.TianjinRegulator).InDivision("120101").Signed(1);
        var first = Build.A.CreditRecord.By(TestKeys.TianjinRegulator).InDivision("120101").Signed(0);

        var held = await node.SubmitAsync(Bytes(second), waitForCommit: false, Deadline());
        Assert.True(held.IsAccepted, held.ToString());
        Assert.Equal(TransactionState.Pending, (await node.GetTransactionAsync(held.Id, Deadline())).State);
        Assert.Equal(0, node.Head.Height);

        var filled = await node.SubmitAsync(Bytes(first), waitForCommit: true, Deadline());
        var later = await node.WaitForTransactionAsync(held.Id, Deadline());

        Assert.Equal(TransactionState.Committed, filled.Outcome!.State);
        Assert.Equal(TransactionState.Committed, later.State);
        Assert.True((later.Height, later.IndexInBlock).CompareTo((filled.Outcome.Height, filled.Outcome.IndexInBlock)) > 0);
    }

    [Fact]
    public async Task A_transaction_a_rule_rejects_in_the_block_leaves_with_its_reason_and_holds_back_the_signers_later_nonces()
    {
        await using var node = await SoloNodeAsync(_directory);
        // The joint credit office may publish memoranda but not designate credit records: admitted, then refused by the rules.
        var wrongRole = Build.A.CreditRecord.By(TestKeys.JointCreditOffice).Signed(0);
        var after = Build.A.Memorandum.By(TestKeys.JointCreditOffice).Signed(1);

        var submitted = await node.SubmitAsync(Bytes(after), waitForCommit: false, Deadline());
        var refused = await node.SubmitAsync(Bytes(wrongRole), waitForCommit: true, Deadline());

        Assert.True(refused.IsAccepted);
        Assert.Equal(TransactionState.Rejected, refused.Outcome!.State);
        Assert.Equal(RejectionCode.MissingRole, refused.Outcome.Rule);
        Assert.Equal(0, node.Head.Height);
        Assert.Equal(TransactionState.Pending, (await node.GetTransactionAsync(submitted.Id, Deadline())).State);

        var replacement = await node.SubmitAsync(Bytes(Build.A.Memorandum.By(TestKeys.JointCreditOffice).Signed(0)), waitForCommit: true, Deadline());
        Assert.Equal(TransactionState.Committed, replacement.Outcome!.State);
        Assert.Equal(TransactionState.Committed, (await node.WaitForTransactionAsync(submitted.Id, Deadline())).State);
    }

    [Fact]
    public async Task Watch_replays_committed_blocks_from_a_height_then_follows_new_commits()
    {
        await using var node = await SoloNodeAsync(_directory);
        for (var i = 0; i < 3; i++)
        {
            await node.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed((ulong)i)), waitForCommit: true, Deadline());
        }

        var seen = new List<CommittedBlockEvent>();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var watching = Task.Run(async () =>
        {
            await foreach (var block in node.WatchAsync(2, cancel.Token))
            {
                seen.Add(block);
                if (block.Header.Height == 4)
                {
                    break;
                }
            }
        });

        var fourth = await node.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(3)), waitForCommit: true, Deadline());
        await watching;

        Assert.Equal([2L, 3L, 4L], seen.Select(b => b.Header.Height));
        Assert.Equal([fourth.Id], seen[^1].TransactionIds);
        Assert.All(seen, b => Assert.True(b.Certificate.Verify(b.Header, node.Anchor.Validators, node.Anchor.DomainSeparator, Secp256k1.Default).IsValid));
        Assert.Equal(seen[0].Header.Hash, seen[1].Header.PreviousHash);
    }

    [Fact]
    public async Task A_node_reopened_from_its_data_directory_continues_from_the_same_head_and_state_root()
    {
        NodeSnapshot before;
        Hash256 firstId;
        await using (var node = await SoloNodeAsync(_directory))
        {
            firstId = (await node.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(0)), true, Deadline())).Id;
            await node.SubmitAsync(Bytes(Build.A.Licence.By(TestKeys.HebeiRegulator).InArea("130102").Signed(0)), true, Deadline());
            before = node.Head;
        }

        await using var reopened = await SoloNodeAsync(_directory);
        Assert.Equal(before.HeadHash, reopened.Head.HeadHash);
        Assert.Equal(before.StateRoot, reopened.Head.StateRoot);
        Assert.Equal(before.HistorySize, reopened.Head.HistorySize);

        var replay = await reopened.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(0)), true, Deadline());
        Assert.Equal(AdmissionCode.NonceReused, replay.Code);
        var next = await reopened.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(1)), true, Deadline());
        Assert.Equal(3, next.Outcome!.Height);
        Assert.True(ReceiptVerifier.Verify((await reopened.ProveTransactionAsync(firstId, Deadline()))!, reopened.Anchor, Secp256k1.Default).IsValid);
    }

    [Fact]
    public async Task A_store_written_under_another_genesis_is_refused_at_open()
    {
        await using (var node = await SoloNodeAsync(_directory))
        {
            await node.SubmitAsync(Bytes(Build.A.CreditRecord.Signed(0)), true, Deadline());
        }

        var other = SoloGenesis with { GenesisTime = SoloGenesis.GenesisTime.AddDays(1) };
        await Assert.ThrowsAsync<GenesisMismatchException>(() => SoloNodeAsync(_directory, genesis: other));
    }

    [Fact]
    public async Task A_node_without_a_consensus_engine_refuses_submissions_as_not_committing_and_builds_nothing()
    {
        await using var node = await LedgerNode.OpenAsync(new LedgerNodeSetup { Genesis = GenesisBuilder.Sample.Value, Store = await EmbeddedStoreAsync(_directory) }, Deadline());

        var result = await node.SubmitAsync(Bytes(Build.A.CreditRecord.Signed(0)), false, Deadline());

        Assert.Equal(AdmissionCode.NotCommitting, result.Code);
        Assert.Contains("4 validators", result.Reason, StringComparison.Ordinal);
        Assert.Null(await node.ConsensusHost.BuildProposalAsync(1, 0, Deadline()));
        Assert.Equal(0, node.MempoolSize);
    }

    [Fact]
    public async Task A_stopped_node_refuses_submissions_as_unavailable()
    {
        var node = await SoloNodeAsync(_directory);
        await node.DisposeAsync();

        var result = await node.SubmitAsync(Bytes(Build.A.CreditRecord.Signed(0)), true, Deadline());

        Assert.Equal(AdmissionCode.Unavailable, result.Code);
        Assert.Equal(NodeHealth.Stopped, node.Head.Health);
    }
}
