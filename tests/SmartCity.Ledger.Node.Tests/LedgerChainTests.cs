using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Node.Tests;

public sealed class LedgerChainTests
{
    private static readonly ISecp256k1 Curve = Secp256k1.Default;

    /// <summary>The sample genesis validators' public test keys (contracts/genesis/README.md).</summary>
    private static readonly ISigner[] ValidatorKeys = [.. TestKeys.Validators.Select(v => v.Signer)];

    private static LedgerChain NewChain() => new(GenesisBuilder.Sample.Value, Curve);

    private static DateTimeOffset Day(int n) => GenesisBuilder.Sample.Value.GenesisTime.AddDays(n);

    private static ReadOnlyMemory<byte> Encoded(SignedTransaction tx) => TransactionCodec.Encode(tx);

    private static CommitCertificate Certify(LedgerChain chain, BlockCandidate candidate, params int[] validators)
        => CommitCertificate.FromSeals(Curve, chain.Anchor.DomainSeparator, candidate.Header, validators.Select(v => chain.Seal(candidate, ValidatorKeys[v])));

    [Fact]
    public void A_chain_from_genesis_answers_head_reads_through_its_cache_exactly_as_the_tree_does()
    {
        var chain = NewChain();
        Assert.True(chain.HeadKeysComplete); // it saw every key of the genesis state
        var txs = Enumerable.Range(0, 4).Select(n => Build.A.CreditRecord.WithId(Build.Id($"cached-{n}")).By(TestKeys.BeijingRegulator).For(TestKeys.Company).Signed(nonce: (ulong)n)).ToList();
        var candidate = chain.Propose([.. txs.Select(Encoded)], Day(1));
        Assert.True(chain.Commit(candidate, Certify(chain, candidate, 0, 1, 2)).IsValid);

        var written = Enumerable.Range(0, 4).Select(n => StateKeys.Record(Build.Id($"cached-{n}")).Hash).ToList();
        var never = Enumerable.Range(4, 4).Select(n => StateKeys.Record(Build.Id($"cached-{n}")).Hash).ToList();
        var members = new[] { StateKeys.Member(TestKeys.BeijingRegulator.Address).Hash, StateKeys.Nonce(TestKeys.BeijingRegulator.Address).Hash };
        foreach (var key in written.Concat(never).Concat(members))
        {
            Assert.Equal(chain.State.Get(key), chain.CachedState.Get(key));
        }

        Assert.All(written.Concat(members), key => Assert.NotNull(chain.CachedState.Get(key)));
        Assert.All(never, key => Assert.Null(chain.CachedState.Get(key)));
    }

    [Fact]
    public void A_block_keeps_accepted_transactions_and_skips_rejected_ones_with_their_reasons()
    {
        var chain = NewChain();
        var good = Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(TestKeys.Company).Signed(nonce: 0);
        var replay = good;
        var outsider = Build.A.CreditRecord.By(TestKeys.Outsider).For(TestKeys.Company).Signed(nonce: 0);

        var candidate = chain.Propose([Encoded(good), Encoded(replay), Encoded(outsider), new byte[] { 1, 2, 3 }], Day(1));

        Assert.Single(candidate.Body.Included);
        Assert.Equal(1, candidate.Header.TransactionCount);
        Assert.Equal([1, 2, 3], candidate.Body.Skipped.Select(r => r.Index));
        Assert.Equal(RejectionCode.NonceReused, candidate.Body.Skipped[0].Code);
        Assert.All(candidate.Body.Skipped, r => Assert.NotEmpty(r.Reason));
        Assert.Equal(1, candidate.Header.HistorySize);
        Assert.NotEqual(chain.Head.StateRoot, candidate.Header.StateRoot);
    }

    [Fact]
    public void Building_the_same_transactions_on_two_nodes_gives_the_same_header_hash()
    {
        var txs = new[]
        {
            Encoded(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(TestKeys.Company).Signed(0)),
            Encoded(Build.A.Licence.By(TestKeys.TianjinRegulator).HeldBy(TestKeys.OtherCompany).InArea("120101").Signed(0)),
        };
        var a = NewChain().Propose(txs, Day(2));
        var b = NewChain().Propose(txs, Day(2));
        Assert.Equal(a.Header.Hash, b.Header.Hash);
        Assert.True(a.Body.Included.Count == 2, string.Join("; ", a.Body.Skipped));
    }

    [Fact]
    public void A_block_commits_only_with_a_quorum_certificate_and_then_serves_receipts_that_verify_offline()
    {
        var chain = NewChain();
        var licence = Build.A.Licence.By(TestKeys.HebeiRegulator).HeldBy(TestKeys.Company).InArea("130102");
        var tx = licence.Signed(0);
        var candidate = chain.Propose([Encoded(tx)], Day(3));

        var tooFew = chain.Commit(candidate, Certify(chain, candidate, 0, 1));
        Assert.Equal(CertificateCheck.TooFewSeals, tooFew.Check);
        Assert.Equal(0, chain.Head.Height);

        Assert.True(chain.Commit(candidate, Certify(chain, candidate, 0, 2, 3)).IsValid);
        Assert.Equal(1, chain.Head.Height);

        var inclusion = chain.ProveTransaction(tx.Hash(chain.Domain));
        Assert.NotNull(inclusion);
        Assert.True(ReceiptVerifier.Verify(inclusion, chain.Anchor, Curve).IsValid);

        var status = chain.ProveState(StateKeys.Licence(licence.Identifier));
        Assert.NotNull(status.Value);
        Assert.True(ReceiptVerifier.Verify(status, chain.Anchor, Curve).IsValid);
        Assert.Equal(LicenceStatus.Valid, StateValue.Decode(status.Value!, LicenceState.Read).Status);
    }

    [Fact]
    public void A_candidate_that_does_not_extend_the_head_is_not_committed()
    {
        var chain = NewChain();
        var first = chain.Propose([Encoded(Build.A.CreditRecord.Signed(0))], Day(1));
        var sibling = chain.Propose([], Day(1));
        Assert.True(chain.Commit(first, Certify(chain, first, 0, 1, 2)).IsValid);
        Assert.Equal(CertificateCheck.HeaderMismatch, chain.Commit(sibling, Certify(chain, sibling, 0, 1, 2)).Check);
        Assert.Equal(1, chain.Head.Height);
    }

    [Fact]
    public void History_root_of_each_header_is_consistent_with_every_later_header()
    {
        var chain = NewChain();
        for (var block = 0; block < 4; block++)
        {
            var txs = Enumerable.Range(0, block + 1)
                .Select(i => Encoded(Build.A.CreditRecord.WithId(Build.Id($"r{block}.{i}")).By(TestKeys.BeijingRegulator).For(TestKeys.Company).Signed((ulong)((block * (block + 1) / 2) + i))))
                .ToList();
            var candidate = chain.Propose(txs, Day(block + 1));
            Assert.Equal(block + 1, candidate.Body.Included.Count);
            Assert.True(chain.Commit(candidate, Certify(chain, candidate, 1, 2, 3)).IsValid);
        }

        var history = new SmartCity.Ledger.Proofs.HistoryTree(new HistoryNodeOverlay(chain.HeadForBuilding.HistoryNodes), chain.Head.HistorySize);
        var headers = chain.Blocks.Select(b => b.Header).Where(h => h.HistorySize > 0).ToList();
        foreach (var older in headers)
        {
            foreach (var newer in headers.Where(h => h.HistorySize >= older.HistorySize))
            {
                var proof = history.ProveConsistency(older.HistorySize, newer.HistorySize);
                Assert.True(proof.Verify(older.HistoryRoot, newer.HistoryRoot), $"{older.Height} → {newer.Height}");
            }
        }

        Assert.Equal(10, chain.Head.HistorySize);
    }
}
