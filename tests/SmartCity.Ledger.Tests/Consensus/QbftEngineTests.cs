using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Tests.Blocks;

namespace SmartCity.Ledger.Tests.Consensus;

/// <summary>The QBFT rules one by one (CONSENSUS-NOTES §1-2), on one engine fed hand-made messages, with real keys.</summary>
public sealed class QbftEngineTests
{
    private readonly ConsensusTestKit _kit = new();

    private static DateTimeOffset Now => ConsensusTestKit.Start;

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(10)]
    [InlineData(31)]
    public void Any_two_quorums_share_more_than_the_faulty_validators(int n)
    {
        var kit = new ConsensusTestKit(n);
        var (q, f) = (kit.Height.Quorum, kit.Height.MaxFaulty);
        Assert.Equal((int)Math.Ceiling(2 * n / 3.0), q);
        Assert.Equal((n - 1) / 3, f);
        Assert.True((2 * q) - n >= f + 1, "two quorums intersect in an honest validator");
        Assert.True(q <= n - f, "the honest validators alone form a quorum");
    }

    [Fact]
    public void Fewer_than_four_validators_cannot_run_consensus()
    {
        var set = new ValidatorSet(_kit.Validators.Members.Take(3));
        var error = Assert.Throws<ArgumentException>(() => new ConsensusHeight(1, set, Hash256.Zero, 0, Address.Zero));
        Assert.Contains("at least 4 validators", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Proposer_rotates_on_from_the_parents_proposer_and_by_round()
    {
        var members = _kit.Validators.Members;
        var height = new ConsensusHeight(5, _kit.Validators, Hash256.Zero, 0, members[1]);
        Assert.Equal([members[2], members[3], members[0], members[1], members[2]], Enumerable.Range(0, 5).Select(height.ProposerFor));
        Assert.Equal(members[0], _kit.Height.ProposerFor(0));
    }

    [Fact]
    public void Proposer_after_a_departed_validator_is_the_next_higher_address()
    {
        var members = _kit.Validators.Members;
        var bytes = members[1].ToArray();
        bytes[^1]++;
        var departed = new Address(bytes);
        Assert.True(departed > members[1] && departed < members[2]);
        Assert.Equal(members[2], new ConsensusHeight(5, _kit.Validators, Hash256.Zero, 0, departed).ProposerFor(0));

        var last = Enumerable.Repeat((byte)0xFF, Address.Size).ToArray();
        Assert.Equal(members[0], new ConsensusHeight(5, _kit.Validators, Hash256.Zero, 0, new Address(last)).ProposerFor(0));
    }

    [Fact]
    public void Four_validators_decide_the_round_zero_proposal_with_a_certificate_anyone_can_verify()
    {
        var engines = Enumerable.Range(0, 4).Select(_kit.Engine).ToArray();
        var decisions = Network.Run(_kit, engines, [.. engines.Select((e, i) => (i, _kit.Begin(e, _kit.Height, Now)))], Now);

        Assert.All(decisions, d => Assert.NotNull(d));
        var block = decisions[0]!.Block;
        Assert.All(decisions, d => Assert.Equal(block.Hash, d!.Block.Hash));
        Assert.Equal(_kit.Signers[0].Address, block.Header.Proposer);
        foreach (var decision in decisions)
        {
            Assert.True(decision!.Certificate.Verify(block.Header, _kit.Validators, _kit.Domain, ConsensusTestKit.Curve).IsValid);
            Assert.Equal(0, decision.Certificate.Round);
            Assert.True(decision.Certificate.Seals.Length >= _kit.Quorum);
        }
    }

    [Fact]
    public void Proposal_from_a_validator_that_is_not_the_rounds_proposer_is_rejected()
    {
        var (engine, _) = _kit.Started(2);
        var output = _kit.Handle(engine, _kit.Proposal(1, 0, _kit.Block(0, 1)), Now);
        AssertRejected(output, ConsensusRejectionCode.NotTheProposer);
        Assert.Empty(output.Messages);
    }

    [Fact]
    public void Fresh_block_must_name_its_proposer_and_carry_the_round_it_is_proposed_in()
    {
        var (engine, _) = _kit.Started(2);
        AssertRejected(_kit.Handle(engine, _kit.Proposal(0, 0, _kit.Block(0, 1)), Now), ConsensusRejectionCode.BlockMismatch);
        AssertRejected(_kit.Handle(engine, _kit.Proposal(0, 0, _kit.Block(1, 0)), Now), ConsensusRejectionCode.BlockMismatch);
    }

    [Fact]
    public void Round_zero_proposal_carrying_a_justification_is_rejected()
    {
        var (engine, _) = _kit.Started(2);
        var block = _kit.Block(0, 0);
        var output = _kit.Handle(engine, _kit.Proposal(0, 0, block, prepares: _kit.Prepares(0, block, 0, 1, 3)), Now);
        AssertRejected(output, ConsensusRejectionCode.BadJustification);
    }

    [Fact]
    public void Proposal_whose_block_hashes_to_another_id_is_rejected()
    {
        var (engine, _) = _kit.Started(2);
        var block = _kit.Block(0, 0);
        var other = _kit.Block(0, 0, "other");
        var signed = _kit.Proposal(0, 0, other);
        var output = _kit.Handle(engine, new ProposalMessage(signed.Payload, signed.Sender, signed.Signature, block, [], []), Now);
        AssertRejected(output, ConsensusRejectionCode.BlockMismatch);
    }

    [Fact]
    public void Block_that_fails_re_execution_is_not_prepared_and_not_executed_twice()
    {
        var (engine, _) = _kit.Started(2);
        var block = _kit.Block(0, 0);
        _kit.Blocks.Invalid.Add(block.Hash);
        var proposal = _kit.Proposal(0, 0, block);

        var output = _kit.Handle(engine, proposal, Now);
        AssertRejected(output, ConsensusRejectionCode.InvalidBlock);
        Assert.Empty(output.Messages);
        AssertRejected(_kit.Handle(engine, proposal, Now), ConsensusRejectionCode.InvalidBlock);
        Assert.Equal(1, _kit.Blocks.Validations);
    }

    [Fact]
    public void Accepted_proposal_is_prepared_and_a_quorum_of_prepares_is_committed_with_a_seal()
    {
        var (engine, _) = _kit.Started(3);
        var block = _kit.Block(0, 0);
        var prepared = _kit.Handle(engine, _kit.Proposal(0, 0, block), Now);
        var prepare = Assert.IsType<PrepareMessage>(Assert.Single(prepared.Messages));
        Assert.Equal(block.Hash, prepare.BlockHash);
        Assert.NotNull(prepared.Journal);

        Assert.Empty(_kit.Handle(engine, _kit.Prepare(0, 0, block), Now).Messages);
        var committed = _kit.Handle(engine, _kit.Prepare(1, 0, block), Now);
        var commit = Assert.IsType<CommitMessage>(Assert.Single(committed.Messages));
        Assert.Equal(SignatureCheck.Ok, ConsensusTestKit.Curve.Verify(CommitSeal.Digest(_kit.Domain, block.Hash, 1, 0), commit.Seal, _kit.Signers[3].Address));
        Assert.Equal(0, engine.LastPrepared!.Round);
        Assert.NotNull(committed.Journal!.LastPrepared);
    }

    [Fact]
    public void Second_different_vote_of_a_validator_in_a_round_is_equivocation_and_does_not_count()
    {
        var (engine, _) = _kit.Started(3);
        var block = _kit.Block(0, 0);
        var other = _kit.Block(0, 0, "other");
        _kit.Handle(engine, _kit.Proposal(0, 0, block), Now);
        _kit.Handle(engine, _kit.Prepare(1, 0, other), Now);

        AssertRejected(_kit.Handle(engine, _kit.Prepare(1, 0, block), Now), ConsensusRejectionCode.Equivocation);
        Assert.Empty(_kit.Handle(engine, _kit.Prepare(2, 0, block), Now).Messages.OfType<CommitMessage>());
        Assert.Single(_kit.Handle(engine, _kit.Prepare(0, 0, block), Now).Messages.OfType<CommitMessage>());
    }

    [Fact]
    public void Same_vote_twice_is_a_duplicate_not_a_second_vote()
    {
        var (engine, _) = _kit.Started(3);
        var block = _kit.Block(0, 0);
        _kit.Handle(engine, _kit.Proposal(0, 0, block), Now);
        _kit.Handle(engine, _kit.Prepare(1, 0, block), Now);
        AssertRejected(_kit.Handle(engine, _kit.Prepare(1, 0, block), Now), ConsensusRejectionCode.Duplicate);
        Assert.Null(engine.LastPrepared);
    }

    [Fact]
    public void Messages_signed_by_someone_else_than_their_sender_or_with_high_s_are_rejected()
    {
        var (engine, _) = _kit.Started(3);
        var block = _kit.Block(0, 0);
        _kit.Handle(engine, _kit.Proposal(0, 0, block), Now);

        var byOne = _kit.Prepare(1, 0, block);
        AssertRejected(_kit.Handle(engine, new PrepareMessage(byOne.Payload, _kit.Signers[2].Address, byOne.Signature), Now), ConsensusRejectionCode.BadSignature);
        AssertRejected(_kit.Handle(engine, new PrepareMessage(byOne.Payload, byOne.Sender, Signatures.Malleate(byOne.Signature)), Now), ConsensusRejectionCode.BadSignature);

        var outsider = new InMemorySigner(Keccak256.Hash("outsider"u8).ToArray(), ConsensusTestKit.Curve);
        AssertRejected(_kit.Handle(engine, ConsensusSigning.Prepare(_kit.Crypto, outsider, 1, 0, block.Hash), Now), ConsensusRejectionCode.NotAValidator);
        Assert.Null(engine.LastPrepared);
    }

    [Fact]
    public void Commit_whose_seal_is_not_the_senders_seal_over_this_block_and_round_is_rejected()
    {
        var (engine, _) = _kit.Started(3);
        var block = _kit.Block(0, 0);
        var sealByOther = _kit.Signers[2].Sign(_kit.Crypto.SealDigest(block.Hash, 1, 0));
        AssertRejected(_kit.Handle(engine, ConsensusSigning.Commit(_kit.Crypto, _kit.Signers[1], 1, 0, block.Hash, sealByOther), Now), ConsensusRejectionCode.BadSeal);
        var sealOfOtherRound = _kit.Signers[1].Sign(_kit.Crypto.SealDigest(block.Hash, 1, 1));
        AssertRejected(_kit.Handle(engine, ConsensusSigning.Commit(_kit.Crypto, _kit.Signers[1], 1, 0, block.Hash, sealOfOtherRound), Now), ConsensusRejectionCode.BadSeal);

        // A seal with the raw recovery id (v = 0/1) recovers, but certificates only carry v = 27/28: it would spoil one.
        var seal = _kit.Signers[1].Sign(_kit.Crypto.SealDigest(block.Hash, 1, 0));
        var rawV = new Signature(seal.R, seal.S, (byte)(seal.V - 27));
        Assert.Equal(SignatureCheck.Ok, ConsensusTestKit.Curve.Verify(_kit.Crypto.SealDigest(block.Hash, 1, 0), rawV, _kit.Signers[1].Address));
        AssertRejected(_kit.Handle(engine, ConsensusSigning.Commit(_kit.Crypto, _kit.Signers[1], 1, 0, block.Hash, rawV), Now), ConsensusRejectionCode.BadSeal);
    }

    [Fact]
    public void Round_one_proposal_needs_a_quorum_of_round_changes_for_exactly_round_one_from_distinct_validators()
    {
        var fresh = _kit.Block(1, 1);
        var tooFew = _kit.RoundChanges(1, (0, null), (2, null));
        var wrongRound = _kit.RoundChanges(1, (0, null), (2, null)).Add(_kit.RoundChange(3, 2).Signed);
        var twice = _kit.RoundChanges(1, (0, null), (2, null), (2, null));
        foreach (var roundChanges in new[] { tooFew, wrongRound, twice })
        {
            var (engine, _) = _kit.Started(3);
            AssertRejected(_kit.Handle(engine, _kit.Proposal(1, 1, fresh, roundChanges), Now), ConsensusRejectionCode.BadJustification);
            Assert.Equal(0, engine.Round);
        }

        var (accepting, _) = _kit.Started(3);
        var output = _kit.Handle(accepting, _kit.Proposal(1, 1, fresh, _kit.RoundChanges(1, (0, null), (2, null), (3, null))), Now);
        Assert.Empty(output.Rejections);
        Assert.Equal(1, accepting.Round);
        Assert.Equal(1, Assert.IsType<PrepareMessage>(Assert.Single(output.Messages)).Round);
    }

    [Fact]
    public void Fresh_block_is_rejected_when_a_round_change_reports_a_prepared_one()
    {
        var (engine, _) = _kit.Started(3);
        var prepared = _kit.Prepared(0, _kit.Block(0, 0), 0, 1, 2);
        var output = _kit.Handle(engine, _kit.Proposal(1, 1, _kit.Block(1, 1), _kit.RoundChanges(1, (0, prepared), (2, null), (3, null))), Now);
        AssertRejected(output, ConsensusRejectionCode.BadJustification);
    }

    [Fact]
    public void Prepared_block_is_re_proposed_byte_for_byte_and_committed_with_a_later_round_certificate()
    {
        var engines = Enumerable.Range(0, 4).Select(_kit.Engine).ToArray();
        foreach (var engine in engines)
        {
            _kit.Begin(engine, _kit.Height, Now);
        }

        var block = _kit.Block(0, 0);
        var prepared = _kit.Prepared(0, block, 0, 1, 2);
        var roundChanges = _kit.RoundChanges(1, (0, prepared), (2, null), (3, null));
        var proposal = _kit.Proposal(1, 1, block, roundChanges, prepared.Prepares);
        var outputs = engines.Select((e, i) => (i, _kit.Handle(e, proposal, Now))).ToList();
        var decisions = Network.Run(_kit, engines, outputs, Now);

        var decision = Assert.IsType<ConsensusDecision>(decisions[3]);
        Assert.Equal(block.Hash, decision.Block.Hash);
        Assert.Equal(0, decision.Block.Header.Round);
        Assert.Equal(1, decision.Certificate.Round);
        Assert.True(decision.Certificate.Verify(decision.Block.Header, _kit.Validators, _kit.Domain, ConsensusTestKit.Curve).IsValid);
    }

    [Fact]
    public void Re_proposal_must_be_backed_by_a_quorum_of_prepares_for_the_highest_prepared_round_and_block()
    {
        var block = _kit.Block(0, 0);
        var prepared = _kit.Prepared(0, block, 0, 1, 2);
        var roundChanges = _kit.RoundChanges(1, (0, prepared), (2, null), (3, null));
        var cases = new[]
        {
            _kit.Proposal(1, 1, block, roundChanges, prepared.Prepares.RemoveAt(0)),
            _kit.Proposal(1, 1, block, roundChanges, _kit.Prepares(0, _kit.Block(0, 0, "other"), 0, 1, 2)),
            _kit.Proposal(1, 1, block, roundChanges, [.. prepared.Prepares.Take(2), prepared.Prepares[0]]),
            _kit.Proposal(1, 1, block, roundChanges),
        };
        foreach (var proposal in cases)
        {
            var (engine, _) = _kit.Started(3);
            AssertRejected(_kit.Handle(engine, proposal, Now), ConsensusRejectionCode.BadJustification);
        }
    }

    [Fact]
    public void Lower_prepared_block_cannot_be_re_proposed_over_a_higher_one_and_disagreeing_lower_round_changes_are_fine()
    {
        var low = _kit.Block(0, 0);
        var high = _kit.Block(1, 1);
        var preparedLow = _kit.Prepared(0, low, 0, 1, 2);
        var preparedHigh = _kit.Prepared(1, high, 1, 2, 3);
        var roundChanges = _kit.RoundChanges(2, (0, preparedLow), (1, preparedHigh), (3, null));

        var (rejecting, _) = _kit.Started(3);
        AssertRejected(_kit.Handle(rejecting, _kit.Proposal(2, 2, low, roundChanges, preparedLow.Prepares), Now), ConsensusRejectionCode.BadJustification);

        var (accepting, _) = _kit.Started(3);
        var output = _kit.Handle(accepting, _kit.Proposal(2, 2, high, roundChanges, preparedHigh.Prepares), Now);
        Assert.Empty(output.Rejections);
        Assert.Equal(high.Hash, Assert.IsType<PrepareMessage>(Assert.Single(output.Messages)).BlockHash);
    }

    [Fact]
    public void Round_change_whose_prepared_round_is_not_below_its_round_invalidates_the_justification()
    {
        var (engine, _) = _kit.Started(3);
        var block = _kit.Block(1, 1);
        var bad = new QbftRoundChange(1, 1, true, 1, block.Hash);
        var signed = new SignedRoundChange(bad, _kit.Signers[0].Address, _kit.Signers[0].Sign(_kit.Crypto.MessageDigest(bad)));
        var roundChanges = _kit.RoundChanges(1, (2, null), (3, null)).Add(signed);
        AssertRejected(_kit.Handle(engine, _kit.Proposal(1, 1, block, roundChanges, _kit.Prepares(1, block, 0, 2, 3)), Now), ConsensusRejectionCode.BadJustification);
    }

    [Fact]
    public void Round_change_that_claims_a_prepared_block_without_proof_is_dropped()
    {
        var block = _kit.Block(0, 0);
        var (engine, _) = _kit.Started(1);
        var withoutPrepares = _kit.RoundChange(0, 1, new PreparedCertificate(0, block, []));
        AssertRejected(_kit.Handle(engine, withoutPrepares, Now), ConsensusRejectionCode.BadRoundChange);

        var otherBlock = _kit.RoundChange(0, 1, _kit.Prepared(0, block, 0, 1, 2)) with { PreparedBlock = _kit.Block(0, 0, "other") };
        AssertRejected(_kit.Handle(engine, otherBlock, Now), ConsensusRejectionCode.BadRoundChange);

        var noBlock = _kit.RoundChange(0, 1, _kit.Prepared(0, block, 0, 1, 2)) with { PreparedBlock = null };
        AssertRejected(_kit.Handle(engine, noBlock, Now), ConsensusRejectionCode.BadRoundChange);

        var toRoundZero = ConsensusSigning.RoundChange(_kit.Crypto, _kit.Signers[0], 1, 0, null);
        AssertRejected(_kit.Handle(engine, toRoundZero, Now), ConsensusRejectionCode.BadRoundChange);
        Assert.Equal(0, engine.StoredRoundChanges);
    }

    [Fact]
    public void Round_timer_doubles_per_round_and_stops_at_its_cap()
    {
        var parameters = new QbftParameters { BaseRoundTimeout = TimeSpan.FromSeconds(1), MaxRoundTimeout = TimeSpan.FromSeconds(10) };
        Assert.Equal([1, 2, 4, 8, 10, 10], new[] { 0, 1, 2, 3, 4, 60 }.Select(r => parameters.RoundTimeout(r).TotalSeconds));
        Assert.Equal(TimeSpan.FromSeconds(10), parameters.RoundTimeout(int.MaxValue));
        Assert.Contains("MaxRoundTimeout", new QbftParameters { MaxRoundTimeout = TimeSpan.FromMilliseconds(1) }.Validate(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new QbftEngine(new QbftParameters { MaxRound = 0 }, _kit.Signers[0], _kit.Crypto));
    }

    [Fact]
    public void Timeout_moves_to_the_next_round_with_a_round_change_that_carries_the_prepared_certificate()
    {
        var (engine, started) = _kit.Started(3);
        Assert.Equal(Now + TimeSpan.FromSeconds(1), started.WakeAt);
        var block = _kit.Block(0, 0);
        _kit.Handle(engine, _kit.Proposal(0, 0, block), Now);
        _kit.Handle(engine, _kit.Prepare(0, 0, block), Now);
        _kit.Handle(engine, _kit.Prepare(1, 0, block), Now);

        Assert.Empty(_kit.Tick(engine, Now + TimeSpan.FromMilliseconds(999)).Messages);
        var timedOut = _kit.Tick(engine, Now + TimeSpan.FromSeconds(1));
        var roundChange = Assert.IsType<RoundChangeMessage>(Assert.Single(timedOut.Messages));
        Assert.Equal((1, true, 0, block.Hash), (roundChange.Round, roundChange.Payload.Prepared, roundChange.Payload.PreparedRound, roundChange.Payload.PreparedBlockHash));
        Assert.Equal(block.Hash, roundChange.PreparedBlock!.Hash);
        Assert.True(roundChange.PreparedCertificate.Length >= _kit.Quorum);
        Assert.Equal(1, timedOut.Journal!.Round);
        Assert.Equal(Now + TimeSpan.FromSeconds(3), timedOut.WakeAt);
    }

    [Fact]
    public void Validator_a_round_ahead_of_the_others_waits_for_them_instead_of_moving_on()
    {
        var (engine, _) = _kit.Started(3);
        var first = Assert.IsType<RoundChangeMessage>(Assert.Single(_kit.Tick(engine, Now + TimeSpan.FromSeconds(1)).Messages));

        var waiting = _kit.Tick(engine, Now + TimeSpan.FromSeconds(3));
        Assert.Equal(1, engine.Round);
        Assert.Equal(first, Assert.Single(waiting.Messages));

        // The others arrive: the round's timer starts again from their arrival.
        _kit.Handle(engine, _kit.RoundChange(0, 1), Now + TimeSpan.FromSeconds(3.5));
        _kit.Handle(engine, _kit.RoundChange(2, 1), Now + TimeSpan.FromSeconds(3.5));
        Assert.Empty(_kit.Tick(engine, Now + TimeSpan.FromSeconds(5)).Messages);
        Assert.Equal(1, engine.Round);
        var moved = _kit.Tick(engine, Now + TimeSpan.FromSeconds(5.5));
        Assert.Equal(2, engine.Round);
        Assert.Equal(2, Assert.IsType<RoundChangeMessage>(Assert.Single(moved.Messages)).Round);
    }

    [Fact]
    public void Round_changes_from_f_plus_one_validators_for_higher_rounds_move_the_node_to_the_smallest_of_them()
    {
        var (engine, _) = _kit.Started(3);
        Assert.Empty(_kit.Handle(engine, _kit.RoundChange(1, 3), Now).Messages);
        Assert.Equal(0, engine.Round);

        var jumped = _kit.Handle(engine, _kit.RoundChange(2, 5), Now);
        Assert.Equal(3, engine.Round);
        Assert.Equal(3, Assert.IsType<RoundChangeMessage>(Assert.Single(jumped.Messages)).Round);
    }

    [Fact]
    public void Proposer_with_a_quorum_of_round_changes_re_proposes_the_highest_prepared_block()
    {
        var (engine, _) = _kit.Started(1);
        _kit.Tick(engine, Now + TimeSpan.FromSeconds(1));
        var block = _kit.Block(0, 0);
        _kit.Handle(engine, _kit.RoundChange(0, 1, _kit.Prepared(0, block, 0, 2, 3)), Now);
        var output = _kit.Handle(engine, _kit.RoundChange(2, 1), Now);

        var proposal = Assert.IsType<ProposalMessage>(output.Messages[0]);
        Assert.Equal((1, block.Hash), (proposal.Round, proposal.BlockHash));
        Assert.Equal(3, proposal.RoundChanges.Length);
        Assert.Equal(3, proposal.Prepares.Length);
        Assert.Same(block.Header, proposal.Block.Header);
    }

    [Fact]
    public void Late_commit_quorum_of_an_earlier_round_still_decides()
    {
        var (engine, _) = _kit.Started(3);
        var block = _kit.Block(0, 0);
        _kit.Handle(engine, _kit.Proposal(0, 0, block), Now);
        _kit.Tick(engine, Now + TimeSpan.FromSeconds(1));
        Assert.Equal(1, engine.Round);

        _kit.Handle(engine, _kit.Commit(0, 0, block), Now);
        _kit.Handle(engine, _kit.Commit(1, 0, block), Now);
        var decided = _kit.Handle(engine, _kit.Commit(2, 0, block), Now);
        Assert.Equal(block.Hash, decided.Decision!.Block.Hash);
        Assert.Equal(0, decided.Decision.Certificate.Round);
        Assert.Null(decided.WakeAt);
        AssertRejected(_kit.Handle(engine, _kit.Prepare(1, 1, block), Now), ConsensusRejectionCode.HeightDecided);
    }

    [Fact]
    public void Commit_quorum_for_a_block_this_node_never_saw_asks_for_catch_up()
    {
        var (engine, _) = _kit.Started(3);
        var block = _kit.Block(0, 0);
        _kit.Handle(engine, _kit.Commit(0, 0, block), Now);
        _kit.Handle(engine, _kit.Commit(1, 0, block), Now);
        var output = _kit.Handle(engine, _kit.Commit(2, 0, block), Now);
        Assert.Null(output.Decision);
        Assert.Equal(1, output.SyncTarget);
    }

    [Fact]
    public void Messages_for_later_heights_are_buffered_within_bounds_and_replayed_when_the_height_starts()
    {
        _kit.Parameters = _kit.Parameters with { MaxFutureMessages = 8, FutureHeightWindow = 10 };
        var (engine, _) = _kit.Started(3);
        var next = new ConsensusHeight(2, _kit.Validators, Keccak256.Hash("block 1"u8), ConsensusTestKit.Start.ToUnixTimeMilliseconds(), _kit.Signers[0].Address);
        var block2 = TestBlocks.Make(next, 0, _kit.Signers[1].Address, Now);
        var proposal2 = ConsensusSigning.Proposal(_kit.Crypto, _kit.Signers[1], 0, block2, [], []);

        var buffered = _kit.Handle(engine, proposal2, Now);
        Assert.Empty(buffered.Rejections);
        Assert.Equal(1, buffered.SyncTarget);
        Assert.Equal(1, engine.BufferedFutureMessages);

        _kit.Handle(engine, ConsensusSigning.Prepare(_kit.Crypto, _kit.Signers[1], 2, 1, block2.Hash), Now);
        AssertRejected(_kit.Handle(engine, ConsensusSigning.Prepare(_kit.Crypto, _kit.Signers[1], 2, 2, block2.Hash), Now), ConsensusRejectionCode.FutureBufferFull);
        AssertRejected(_kit.Handle(engine, ConsensusSigning.Prepare(_kit.Crypto, _kit.Signers[0], 12, 0, block2.Hash), Now), ConsensusRejectionCode.FutureBufferFull);
        Assert.Equal(2, engine.BufferedFutureMessages);

        var started = _kit.Begin(engine, next, Now);
        Assert.Equal(block2.Hash, Assert.IsType<PrepareMessage>(Assert.Single(started.Messages)).BlockHash);
        Assert.Equal(0, engine.BufferedFutureMessages);
    }

    [Fact]
    public void Rounds_above_the_cap_and_old_heights_are_rejected()
    {
        _kit.Parameters = _kit.Parameters with { MaxRound = 50 };
        var (engine, _) = _kit.Started(3);
        AssertRejected(_kit.Handle(engine, _kit.RoundChange(1, 51), Now), ConsensusRejectionCode.RoundTooHigh);
        AssertRejected(_kit.Handle(engine, _kit.Prepare(1, 11, _kit.Block(0, 0)), Now), ConsensusRejectionCode.RoundTooFarAhead);
        _kit.Begin(engine, new ConsensusHeight(2, _kit.Validators, Hash256.Zero, 0, Address.Zero), Now);
        AssertRejected(_kit.Handle(engine, _kit.Prepare(1, 0, _kit.Block(0, 0)), Now), ConsensusRejectionCode.OldHeight);
    }

    [Fact]
    public void Restarted_validator_resends_its_votes_and_never_votes_differently_in_the_same_round()
    {
        var (engine, _) = _kit.Started(3);
        var block = _kit.Block(0, 0);
        var before = _kit.Handle(engine, _kit.Proposal(0, 0, block), Now);
        var prepare = Assert.IsType<PrepareMessage>(Assert.Single(before.Messages));
        Assert.True(ConsensusCodec.TryDecodeJournal(ConsensusCodec.EncodeJournal(before.Journal!), out var journal, out var error), error);

        var restarted = _kit.Engine(3);
        var restored = _kit.Drive(restarted, restarted.Restore(_kit.Height, journal, Now + TimeSpan.FromSeconds(5)), Now);
        Assert.Equal(prepare, Assert.Single(restored.Messages));

        var equivocation = _kit.Proposal(0, 0, _kit.Block(0, 0, "second"));
        AssertRejected(_kit.Handle(restarted, equivocation, Now), ConsensusRejectionCode.Equivocation);
        _kit.Handle(restarted, _kit.Prepare(0, 0, block), Now);
        var commit = Assert.IsType<CommitMessage>(Assert.Single(_kit.Handle(restarted, _kit.Prepare(1, 0, block), Now).Messages));
        Assert.Equal(block.Hash, commit.BlockHash);
    }

    [Fact]
    public void Restart_from_a_journal_of_an_older_height_starts_the_height_afresh_and_a_newer_one_is_refused()
    {
        var old = new ConsensusJournalState(0, 3, null, null, []);
        var engine = _kit.Engine(0);
        var output = _kit.Drive(engine, engine.Restore(_kit.Height, old, Now), Now);
        Assert.Equal(0, engine.Round);
        Assert.IsType<ProposalMessage>(output.Messages[0]);
        var ahead = new ConsensusJournalState(2, 0, null, null, []);
        var error = Assert.Throws<InvalidOperationException>(() => _kit.Engine(0).Restore(_kit.Height, ahead, Now));
        Assert.Contains("committed blocks are missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Proposer_waits_for_the_block_period_after_its_parent()
    {
        _kit.Parameters = _kit.Parameters with { BlockPeriod = TimeSpan.FromSeconds(2) };
        var engine = _kit.Engine(0);
        var started = _kit.Begin(engine, _kit.Height, Now);
        Assert.Empty(started.Messages);
        Assert.Equal(Now + TimeSpan.FromSeconds(1), started.WakeAt);
        Assert.IsType<ProposalMessage>(_kit.Tick(engine, Now + TimeSpan.FromSeconds(1)).Messages[0]);
    }

    [Fact]
    public void Node_outside_the_validator_set_follows_the_votes_but_sends_nothing()
    {
        var observer = new QbftEngine(_kit.Parameters, new InMemorySigner(Keccak256.Hash("observer"u8).ToArray(), ConsensusTestKit.Curve), _kit.Crypto);
        _kit.Begin(observer, _kit.Height, Now);
        var block = _kit.Block(0, 0);
        Assert.Empty(_kit.Handle(observer, _kit.Proposal(0, 0, block), Now).Messages);
        foreach (var validator in new[] { 0, 1, 2 })
        {
            _kit.Handle(observer, _kit.Prepare(validator, 0, block), Now);
        }

        foreach (var validator in new[] { 0, 1 })
        {
            _kit.Handle(observer, _kit.Commit(validator, 0, block), Now);
        }

        var output = _kit.Handle(observer, _kit.Commit(2, 0, block), Now);
        Assert.Empty(output.Messages);
        Assert.Null(output.Journal);
        Assert.Equal(block.Hash, output.Decision!.Block.Hash);
    }

    [Fact]
    public void Proposal_is_prepared_only_once_the_node_has_validated_its_block()
    {
        var engine = _kit.Engine(3);
        engine.StartHeight(_kit.Height, Now);
        var proposal = _kit.Proposal(0, 0, _kit.Block(0, 0));
        var asked = engine.Handle(proposal, Now);
        Assert.Empty(asked.Messages);
        Assert.Same(proposal, Assert.Single(asked.ValidationRequests));
        Assert.Equal(1, engine.PendingValidations);

        AssertRejected(_kit.Drive(engine, engine.Handle(_kit.Proposal(0, 0, _kit.Block(0, 0, "second")), Now), Now), ConsensusRejectionCode.Equivocation);
        var prepared = engine.OnBlockValidated(proposal, BlockVerdict.Valid, Now);
        Assert.Equal(proposal.BlockHash, Assert.IsType<PrepareMessage>(Assert.Single(prepared.Messages)).BlockHash);
        Assert.Empty(engine.OnBlockValidated(proposal, BlockVerdict.Valid, Now).Messages);
    }

    [Fact]
    public void Verdict_that_arrives_after_the_round_moved_on_changes_nothing()
    {
        var engine = _kit.Engine(3);
        engine.StartHeight(_kit.Height, Now);
        var proposal = _kit.Proposal(0, 0, _kit.Block(0, 0));
        engine.Handle(proposal, Now);
        engine.Tick(Now + TimeSpan.FromSeconds(1));
        var late = engine.OnBlockValidated(proposal, BlockVerdict.Valid, Now + TimeSpan.FromSeconds(1));
        Assert.Empty(late.Messages);
        Assert.Equal(0, engine.PendingValidations);
    }

    [Fact]
    public void Built_block_for_a_round_that_has_passed_is_not_proposed()
    {
        var engine = _kit.Engine(0);
        var started = engine.StartHeight(_kit.Height, Now);
        var request = Assert.IsType<ProposalRequest>(started.BuildRequest);
        Assert.Equal((0, _kit.Signers[0].Address), (request.Round, request.Proposer));
        engine.Tick(Now + TimeSpan.FromSeconds(1));
        Assert.Empty(engine.OnBlockBuilt(_kit.Blocks.Build(request), Now + TimeSpan.FromSeconds(1)).Messages);
    }

    [Fact]
    public void Proposer_that_learns_of_a_prepared_block_while_building_re_proposes_it_and_drops_the_fresh_one()
    {
        var engine = _kit.Engine(1);
        engine.StartHeight(_kit.Height, Now);
        engine.Tick(Now + TimeSpan.FromSeconds(1));
        engine.Handle(_kit.RoundChange(2, 1), Now);
        var asked = engine.Handle(_kit.RoundChange(3, 1), Now);
        var request = Assert.IsType<ProposalRequest>(asked.BuildRequest);

        var prepared = _kit.Block(0, 0);
        var reported = engine.Handle(_kit.RoundChange(0, 1, _kit.Prepared(0, prepared, 0, 2, 3)), Now);
        Assert.Equal(prepared.Hash, Assert.IsType<ProposalMessage>(reported.Messages[0]).BlockHash);
        Assert.Empty(engine.OnBlockBuilt(_kit.Blocks.Build(request), Now).Messages);
    }

    [Fact]
    public void Height_that_waits_for_work_keeps_no_timer_and_starts_when_work_or_another_validators_vote_arrives()
    {
        var proposer = _kit.Engine(0);
        var idle = proposer.StartHeight(_kit.Height, Now, awaitWork: true);
        Assert.True(proposer.IsIdle);
        Assert.Null(idle.WakeAt);
        Assert.Null(idle.BuildRequest);
        Assert.Empty(proposer.Tick(Now + TimeSpan.FromMinutes(10)).Messages);
        var working = proposer.WorkAvailable(Now + TimeSpan.FromMinutes(10));
        Assert.NotNull(working.BuildRequest);
        Assert.Equal(Now + TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1), working.WakeAt);

        var follower = _kit.Engine(2);
        follower.StartHeight(_kit.Height, Now, awaitWork: true);
        var woken = _kit.Handle(follower, _kit.Proposal(0, 0, _kit.Block(0, 0)), Now);
        Assert.False(follower.IsIdle);
        Assert.IsType<PrepareMessage>(Assert.Single(woken.Messages));
        Assert.Equal(Now + TimeSpan.FromSeconds(1), woken.WakeAt);
    }

    private static void AssertRejected(ConsensusOutcome output, ConsensusRejectionCode code)
        => Assert.True(output.Rejections.Any(r => r.Code == code), $"expected {code}, got [{string.Join("; ", output.Rejections)}]");

    /// <summary>Delivers every message to every other engine, first in first out, until none is left.</summary>
    private static class Network
    {
        public static ConsensusDecision?[] Run(ConsensusTestKit kit, QbftEngine[] engines, List<(int From, ConsensusOutcome Output)> outputs, DateTimeOffset now)
        {
            var decisions = new ConsensusDecision?[engines.Length];
            var queue = new Queue<(int From, int To, ConsensusMessage Message)>();
            void Take(int from, ConsensusOutcome output)
            {
                decisions[from] ??= output.Decision;
                foreach (var message in output.Messages)
                {
                    for (var to = 0; to < engines.Length; to++)
                    {
                        if (to != from)
                        {
                            queue.Enqueue((from, to, message));
                        }
                    }
                }
            }

            foreach (var (from, output) in outputs)
            {
                Take(from, output);
            }

            while (queue.TryDequeue(out var item))
            {
                Take(item.To, kit.Handle(engines[item.To], item.Message, now));
            }

            return decisions;
        }
    }
}
