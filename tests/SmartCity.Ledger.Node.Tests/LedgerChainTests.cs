using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>The chain's block, certificate and receipt tests, run once per crypto suite (eth and gm).</summary>
public abstract class LedgerChainTests(CryptoSuiteId suite)
{
    private readonly GenesisDocument _genesis = GenesisBuilder.SampleIn(suite);

    private ISignatureScheme Curve { get; } = CryptoSuite.For(suite).Signatures;

    /// <summary>The sample genesis validators' public test keys (contracts/genesis/README.md), in the suite.</summary>
    private ISigner[] ValidatorKeys { get; } = [.. TestKeys.Validators.Select(v => v.SignerIn(suite))];

    private LedgerChain NewChain() => new(_genesis, Curve);

    private DateTimeOffset Day(int n) => _genesis.GenesisTime.AddDays(n);

    private static ReadOnlyMemory<byte> Encoded(SignedTransaction tx) => TransactionCodec.Encode(tx);

    private CommitCertificate Certify(LedgerChain chain, BlockCandidate candidate, params int[] validators)
        => CommitCertificate.FromSeals(Curve, chain.Anchor.DomainSeparator, candidate.Header, validators.Select(v => chain.Seal(candidate, ValidatorKeys[v])));

    [Fact]
    public void A_chain_from_genesis_answers_head_reads_through_its_cache_exactly_as_the_tree_does()
    {
        var chain = NewChain();
        Assert.True(chain.HeadKeysComplete); // it saw every key of the genesis state
        var txs = Enumerable.Range(0, 4).Select(n => Build.A.CreditRecord.WithId(Build.Id($"cached-{n}")).By(TestKeys.BeijingRegulator).For(TestKeys.Company).SignedIn(_genesis, nonce: (ulong)n)).ToList();
        var candidate = chain.Propose([.. txs.Select(Encoded)], Day(1));
        Assert.True(chain.Commit(candidate, Certify(chain, candidate, 0, 1, 2)).IsValid);

        var written = Enumerable.Range(0, 4).Select(n => StateKeys.Record(Build.Id($"cached-{n}")).HashIn(chain.State.Suite)).ToList();
        var never = Enumerable.Range(4, 4).Select(n => StateKeys.Record(Build.Id($"cached-{n}")).HashIn(chain.State.Suite)).ToList();
        var regulator = TestKeys.BeijingRegulator.AddressIn(suite);
        var members = new[] { StateKeys.Member(regulator).HashIn(chain.State.Suite), StateKeys.Nonce(regulator).HashIn(chain.State.Suite) };
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
        var good = Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(TestKeys.Company).SignedIn(_genesis, nonce: 0);
        var replay = good;
        var outsider = Build.A.CreditRecord.By(TestKeys.Outsider).For(TestKeys.Company).SignedIn(_genesis, nonce: 0);

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
            Encoded(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(TestKeys.Company).SignedIn(_genesis, 0)),
            Encoded(Build.A.Licence.By(TestKeys.TianjinRegulator).HeldBy(TestKeys.OtherCompany).InArea("120101").SignedIn(_genesis, 0)),
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
        var tx = licence.SignedIn(_genesis, 0);
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
        var first = chain.Propose([Encoded(Build.A.CreditRecord.SignedIn(_genesis, 0))], Day(1));
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
                .Select(i => Encoded(Build.A.CreditRecord.WithId(Build.Id($"r{block}.{i}")).By(TestKeys.BeijingRegulator).For(TestKeys.Company).SignedIn(_genesis, (ulong)((block * (block + 1) / 2) + i))))
                .ToList();
            var candidate = chain.Propose(txs, Day(block + 1));
            Assert.Equal(block + 1, candidate.Body.Included.Count);
            Assert.True(chain.Commit(candidate, Certify(chain, candidate, 1, 2, 3)).IsValid);
        }

        var history = new SmartCity.Ledger.Proofs.HistoryTree(new HistoryNodeOverlay(chain.HeadForBuilding.HistoryNodes), chain.Head.HistorySize, chain.Suite);
        var headers = chain.Blocks.Select(b => b.Header).Where(h => h.HistorySize > 0).ToList();
        foreach (var older in headers)
        {
            foreach (var newer in headers.Where(h => h.HistorySize >= older.HistorySize))
            {
                var proof = history.ProveConsistency(older.HistorySize, newer.HistorySize);
                Assert.True(proof.Verify(older.HistoryRoot, newer.HistoryRoot, chain.Suite), $"{older.Height} → {newer.Height}");
            }
        }

        Assert.Equal(10, chain.Head.HistorySize);
    }

    [Fact]
    public void Every_hash_and_signature_of_the_chain_is_in_its_suite_and_the_other_suite_refuses_them()
    {
        var chain = NewChain();
        var own = CryptoSuite.For(suite);
        var other = CryptoSuite.For(suite == CryptoSuiteId.Eth ? CryptoSuiteId.Gm : CryptoSuiteId.Eth);
        Assert.Equal(suite, chain.Suite.Id);
        Assert.Equal(suite, chain.Head.Crypto);
        Assert.Equal(own.EmptyHistoryRoot, chain.Head.HistoryRoot);

        // The signed digest is the structured digest with the suite's hash in every place (type hash, fields, domain);
        // the id hashes it with the signer in the same suite.
        var tx = Build.A.Licence.By(TestKeys.HebeiRegulator).HeldBy(TestKeys.Company).InArea("130102").SignedIn(_genesis, 0);
        var domain = _genesis.Domain(own);
        var digest = own.StructuredDigest(domain.Separator, SignedTransaction.StructHash(0, tx.Body, own));
        Assert.Equal(digest, tx.SigningDigest(chain.Domain));
        Assert.Equal(own.Hash([.. "SmartCity.Ledger/tx-id/v1\0"u8, .. digest.Bytes, .. tx.Signer.Bytes]), tx.Hash(chain.Domain));
        Assert.NotEqual(_genesis.Domain(other).Separator, domain.Separator);
        Assert.Equal(suite, tx.Signature.Suite);
        Assert.Equal(Signature.SizeOf(suite), TransactionCodec.Encode(tx)[^Signature.SizeOf(suite)..].Length);
        Assert.Equal(tx, TransactionCodec.Decode(TransactionCodec.Encode(tx)).Transaction);

        // A transaction signed in the other suite (the same member's key, its other-suite signature) is refused.
        var foreign = tx with { Signature = TestKeys.HebeiRegulator.SignerIn(other.Id).Sign(tx.SigningDigest(chain.Domain)) };
        var candidate = chain.Propose([Encoded(foreign), Encoded(tx)], Day(1));
        Assert.Equal(RejectionCode.BadSignature, Assert.Single(candidate.Body.Skipped).Code);
        Assert.Single(candidate.Body.Included);
        Assert.Equal(suite, candidate.Header.Crypto);
        Assert.Equal(own.Hash(candidate.Header.Encode()), candidate.Header.Hash);

        // Seals are the suite's signatures (gm: SM2 carrying the validator's key, its address derived by SM3).
        var certificate = Certify(chain, candidate, 0, 2, 3);
        Assert.All(certificate.Seals, seal => Assert.Equal(suite, seal.Suite));
        if (suite == CryptoSuiteId.Gm)
        {
            Assert.All(certificate.Seals, seal => Assert.Contains(own.AddressOf(seal.PublicKey), chain.Anchor.Validators.Members));
        }

        Assert.True(CommitCertificate.TryDecode(certificate.Encode(), out var decoded, out var error), error);
        Assert.True(certificate.Seals.SequenceEqual(decoded!.Seals));
        Assert.Equal(CertificateCheck.WrongSuite, certificate.Verify(candidate.Header, chain.Anchor.Validators, chain.Anchor.DomainSeparator, other.Signatures).Check);
        Assert.True(chain.Commit(candidate, certificate).IsValid);

        // Receipts name the suite and verify offline in it only.
        var receipt = chain.ProveTransaction(tx.Hash(chain.Domain))!;
        Assert.Equal(suite, receipt.Crypto);
        Assert.True(ReceiptVerifier.Verify(receipt, chain.Anchor, Curve).IsValid);
        var otherAnchor = TrustAnchor.FromGenesis(GenesisBuilder.SampleIn(other.Id));
        Assert.Equal(ReceiptCheck.WrongSuite, ReceiptVerifier.Verify(receipt, otherAnchor, other.Signatures).Check);
        var state = chain.ProveState(StateKeys.Licence(((LicenceIssue)tx.Body).Identifier));
        Assert.True(ReceiptVerifier.Verify(state, chain.Anchor, Curve).IsValid);
        Assert.Equal(ReceiptCheck.WrongSuite, ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(ReceiptJson.Write(state)), otherAnchor, other.Signatures).Check);
    }

    [Fact]
    public void The_genesis_hash_commits_to_the_crypto_suite_the_sm2_identifier_and_every_chain_parameter()
    {
        var genesis = NewChain().Head.Hash;
        Assert.Equal(genesis, NewChain().Head.Hash);
        var variants = new (string What, GenesisDocument Genesis)[]
        {
            ("maxTransactionBytes", _genesis with { Parameters = _genesis.Parameters with { MaxTransactionBytes = _genesis.Parameters.MaxTransactionBytes - 1 } }),
            ("maxBlockTransactions", _genesis with { Parameters = _genesis.Parameters with { MaxBlockTransactions = _genesis.Parameters.MaxBlockTransactions + 1 } }),
            ("objectionDeadlineDays", _genesis with { Parameters = _genesis.Parameters with { ObjectionDeadlineDays = _genesis.Parameters.ObjectionDeadlineDays + 1 } }),
            ("publication.minor", _genesis with { Parameters = _genesis.Parameters with { Minor = _genesis.Parameters.Minor with { RepairAfterMonths = _genesis.Parameters.Minor.RepairAfterMonths + 1 } } }),
            ("governance", _genesis with { Parameters = _genesis.Parameters with { Governance = new GovernanceRule(2, 3) } }),
            ("eip712Domain.version", _genesis with { Eip712Domain = _genesis.Eip712Domain with { Version = "2" } }),
            ("regions[0].divisionPrefixes", _genesis with { Regions = [_genesis.Regions[0] with { DivisionPrefixes = [.. _genesis.Regions[0].DivisionPrefixes, "119"] }, .. _genesis.Regions.Skip(1)] }),
            ("members[0].name", _genesis with { Members = [_genesis.Members[0] with { Name = _genesis.Members[0].Name + " " }, .. _genesis.Members.Skip(1)] }),
        };
        foreach (var (what, changed) in variants)
        {
            Assert.True(new LedgerChain(changed, Curve).Head.Hash != genesis, $"a genesis differing only in {what} has the same genesis hash");
        }

        // The suite itself, and for gm the SM2 identifier (over a scheme with that identifier).
        var otherSuite = suite == CryptoSuiteId.Eth ? CryptoSuiteId.Gm : CryptoSuiteId.Eth;
        Assert.NotEqual(genesis, new LedgerChain(GenesisBuilder.SampleIn(otherSuite), CryptoSuite.For(otherSuite).Signatures).Head.Hash);
        if (suite == CryptoSuiteId.Gm)
        {
            var named = new GenesisBuilder().InSuite(CryptoSuiteId.Gm, "ALICE123@YAHOO.COM").TestObject;
            Assert.NotEqual(genesis, new LedgerChain(named, named.Crypto.CreateSuite().Signatures).Head.Hash);
            Assert.Throws<ArgumentException>(() => new LedgerChain(named, Curve)); // a scheme with another identifier is a wiring bug
        }

        Assert.Throws<ArgumentException>(() => new LedgerChain(_genesis, CryptoSuite.For(otherSuite).Signatures));
    }

    public sealed class Eth() : LedgerChainTests(CryptoSuiteId.Eth);

    public sealed class Gm() : LedgerChainTests(CryptoSuiteId.Gm);
}
