using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Receipts;
using SmartCity.Testing.TestKit;
using SmartCity.Testing.ValidatorSets;
using static SmartCity.Ledger.Node.Tests.NodeKit;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>
/// The set in force at each height (docs/consensus.md, "Validator-set changes"): V_{h+1} is the state's validator-set
/// after block h. Checked on the chain itself: the block that passes the vote is still certified by the old set, the
/// next one is proposed and certified by the new set only, and a chain reopened from its store derives the same.
/// </summary>
public sealed class ValidatorSetInForceTests : IDisposable
{
    private static readonly ISecp256k1 Curve = Secp256k1.Default;
    private static readonly TestKey Newcomer = new(105, "validator-bj-2", "", "BJ");
    private static readonly ValidatorSet Five = new([.. Validators.Select(v => v.Address), Newcomer.Address]);

    private readonly string _directory = TempDirectory();
    private readonly SampleBlocks _blocks = new();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void The_block_that_passes_the_vote_is_sealed_by_the_old_set_and_the_next_block_only_by_the_new_set()
    {
        var chain = new LedgerChain(GenesisBuilder.Sample.Value, Curve);
        var genesisSet = chain.NextValidators;
        Assert.Equal(4, genesisSet.Count);

        var vote = chain.Propose(_blocks.VoteIn(Newcomer), SampleBlocks.Day(chain));
        Assert.Equal(genesisSet.Hash, vote.Header.ValidatorSetHash);
        Assert.True(chain.Commit(vote, SampleBlocks.Seal(chain, vote, Validators[0], Validators[1], Validators[2])).IsValid);
        Assert.Equal(Five.Hash, chain.NextValidators.Hash);

        var next = chain.Propose([_blocks.Record()], SampleBlocks.Day(chain));
        Assert.Equal(Five.Hash, next.Header.ValidatorSetHash);
        Assert.Equal(Five.ProposerFor(next.Header.Height, 0), next.Header.Proposer);

        // Three of the old set were a quorum of four; of five they are not, and the old set alone cannot go on.
        var byOldQuorum = chain.Commit(next, SampleBlocks.Seal(chain, next, Validators[0], Validators[1], Validators[2]));
        Assert.Equal(CertificateCheck.TooFewSeals, byOldQuorum.Check);
        Assert.Equal(1, chain.Head.Height);
        var withNewcomer = chain.Commit(next, SampleBlocks.Seal(chain, next, Validators[0], Validators[1], Validators[2], Newcomer));
        Assert.True(withNewcomer.IsValid, withNewcomer.Reason);

        // A header still naming the genesis set after the change does not verify against the set in force.
        var stale = AnchorHeader(chain.Propose([_blocks.Record()], SampleBlocks.Day(chain)).Header, genesisSet);
        Assert.Equal(CertificateCheck.ValidatorSetMismatch, new CommitCertificate(stale.Height, 0, stale.Hash, []).Verify(stale, chain.NextValidators, chain.Anchor.DomainSeparator, Curve).Check);
    }

    [Fact]
    public async Task A_chain_reopened_from_its_store_derives_the_set_in_force_and_its_hand_overs_without_replay()
    {
        var store = await EmbeddedStoreAsync(_directory);
        long handOver;
        await using (store)
        {
            var chain = await LedgerChain.OpenAsync(GenesisBuilder.Sample.Value, Curve, store, null, CancellationToken.None);
            var vote = chain.Propose(_blocks.VoteIn(Newcomer), SampleBlocks.Day(chain));
            Assert.True((await chain.CommitAsync(vote, SampleBlocks.Seal(chain, vote, Validators[0], Validators[1], Validators[3]), store, CancellationToken.None)).IsValid);
            handOver = vote.Header.Height;
        }

        store = await EmbeddedStoreAsync(_directory);
        await using (store)
        {
            var reopened = await LedgerChain.OpenAsync(GenesisBuilder.Sample.Value, Curve, store, null, CancellationToken.None);
            Assert.Equal(Five.Hash, reopened.NextValidators.Hash);
            Assert.Equal([handOver], await reopened.HandOversBelowAsync(handOver + 1, CancellationToken.None));
            var next = reopened.Propose([_blocks.Record()], SampleBlocks.Day(reopened));
            Assert.True((await reopened.CommitAsync(next, SampleBlocks.Seal(reopened, next, Validators[0], Validators[1], Validators[2], Newcomer), store, CancellationToken.None)).IsValid);
        }

        store = await EmbeddedStoreAsync(_directory);
        await using (store)
        {
            // Opened again above the hand-over: the hand-over is found in the stored headers, and a receipt carries it.
            var reopened = await LedgerChain.OpenAsync(GenesisBuilder.Sample.Value, Curve, store, null, CancellationToken.None);
            Assert.Equal(Five.Hash, reopened.NextValidators.Hash);
            var id = (await reopened.GetBlockAsync(reopened.Head.Height, CancellationToken.None))!.TransactionHashes[0];
            var receipt = (await reopened.ProveTransactionAsync(id, null, CancellationToken.None)).Value!;
            Assert.Equal([handOver], receipt.HandOvers.Select(h => h.Header.Height));
            var verdict = ReceiptVerifier.Verify(receipt, TrustAnchor.FromGenesis(GenesisBuilder.Sample.Value), Curve);
            Assert.True(verdict.IsValid, verdict.Reason);

            // The document: version 3 needs its hand-overs, version 2 may not carry any, and a hand-over's copies must match.
            var anchor = TrustAnchor.FromGenesis(GenesisBuilder.Sample.Value);
            var json = System.Text.Json.Nodes.JsonNode.Parse(ReceiptJson.Write(receipt))!.AsObject();
            Assert.Equal(ReceiptOutcome.Valid, Check(json, anchor).Outcome);
            var withoutHandOvers = json.DeepClone().AsObject();
            withoutHandOvers.Remove("handOvers");
            Assert.Equal(ReceiptOutcome.NotAReceipt, Check(withoutHandOvers, anchor).Outcome);
            var asVersion2 = json.DeepClone().AsObject();
            asVersion2["version"] = 2;
            Assert.Equal(ReceiptOutcome.NotAReceipt, Check(asVersion2, anchor).Outcome);
            var wrongHeight = json.DeepClone().AsObject();
            wrongHeight["handOvers"]![0]!["height"] = handOver + 1;
            Assert.Equal(ReceiptCheck.CopyMismatch, Check(wrongHeight, anchor).Check);
        }
    }

    private static ReceiptReport Check(System.Text.Json.Nodes.JsonObject json, TrustAnchor anchor)
        => ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()), anchor, Curve);

    private static BlockHeader AnchorHeader(BlockHeader header, ValidatorSet set) => header with { ValidatorSetHash = set.Hash };
}
