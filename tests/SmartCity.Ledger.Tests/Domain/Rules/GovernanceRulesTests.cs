using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Tests.Domain.Rules.EnvelopeRulesTests;

namespace SmartCity.Ledger.Tests.Domain.Rules;

/// <summary>Run once per crypto suite (eth and gm): the rules are the same, signatures, ids and state-key hashes are the suite's.</summary>
public abstract class GovernanceRulesTests(CryptoSuiteId suite)
{
    private static readonly TestKey Bank = new(200, "Bank of Beijing", "91110000802100433B", "BJ");
    private readonly TestLedger _ledger = TestLedger.Start(suite);

    [Fact]
    public void A_new_member_joins_once_a_strict_majority_of_the_six_members_approves()
    {
        var proposal = ProposeToAdd(Bank);
        _ledger.Accept(TestKeys.TianjinRegulator, new GovernanceVote(proposal, true));
        _ledger.Accept(TestKeys.HebeiRegulator, new GovernanceVote(proposal, true));
        Assert.Null(_ledger.Read(StateKeys.Member(Bank.AddressIn(suite)), MemberState.Read)); // 3 of 6 is not a majority
        Assert.Equal(RejectionCode.NotAMember, _ledger.Submit(Build.A.CreditRecord.By(Bank)).Code);

        _ledger.Accept(TestKeys.XionganCommittee, new GovernanceVote(proposal, true));
        Assert.Equal(MemberRole.MeasureImplementer, _ledger.Read(StateKeys.Member(Bank.AddressIn(suite)), MemberState.Read)!.Roles);
        Assert.Equal(7UL, _ledger.Read(StateKeys.MemberCount, CounterState.Read)!.Value);
        Assert.Equal(ProposalStatus.Executed, _ledger.Read(StateKeys.Proposal(proposal), ProposalState.Read)!.Status);
    }

    [Fact]
    public void The_genesis_rule_decides_when_a_proposal_passes()
    {
        var ledger = TestLedger.Start(Build.A.Genesis.WithGovernance(new GovernanceRule(1, 6)).InSuite(suite).TestObject);
        ledger.Accept(TestKeys.BeijingRegulator, Propose(Build.Id("p"), GovernanceAction.AddMember, Bank));
        Assert.Null(ledger.Read(StateKeys.Member(Bank.AddressIn(suite)), MemberState.Read));
        ledger.Accept(TestKeys.TianjinRegulator, new GovernanceVote(Build.Id("p"), true)); // 2 × 6 > 6 × 1
        Assert.NotNull(ledger.Read(StateKeys.Member(Bank.AddressIn(suite)), MemberState.Read));
    }

    [Fact]
    public void A_proposal_that_can_no_longer_pass_is_closed_as_rejected_and_then_not_open()
    {
        var proposal = ProposeToAdd(Bank);
        foreach (var voter in new[] { TestKeys.TianjinRegulator, TestKeys.HebeiRegulator, TestKeys.XionganCommittee })
        {
            _ledger.Accept(voter, new GovernanceVote(proposal, false));
        }

        Assert.Equal(ProposalStatus.Rejected, _ledger.Read(StateKeys.Proposal(proposal), ProposalState.Read)!.Status);
        AssertRejected(RejectionCode.ProposalNotOpen, _ledger.Submit(TestKeys.BeijingCourt, new GovernanceVote(proposal, true)));
    }

    [Fact]
    public void Rejects_a_vote_on_an_unknown_proposal_as_UnknownProposal()
        => AssertRejected(RejectionCode.UnknownProposal, _ledger.Submit(TestKeys.TianjinRegulator, new GovernanceVote(Build.Id("none"), true)));

    [Fact]
    public void Rejects_a_second_vote_by_the_same_member_as_AlreadyVoted()
    {
        var proposal = ProposeToAdd(Bank);
        AssertRejected(RejectionCode.AlreadyVoted, _ledger.Submit(TestKeys.BeijingRegulator, new GovernanceVote(proposal, true)));
    }

    [Fact]
    public void Rejects_a_vote_after_the_proposal_lifetime_as_ProposalExpired()
    {
        var proposal = ProposeToAdd(Bank);
        _ledger.AdvanceBy(TimeSpan.FromDays(14));
        AssertRejected(RejectionCode.ProposalExpired, _ledger.Submit(TestKeys.TianjinRegulator, new GovernanceVote(proposal, true)));
    }

    [Theory]
    [InlineData(GovernanceAction.AddMember, 1)] // already a member
    [InlineData(GovernanceAction.RemoveMember, 200)] // not a member
    [InlineData(GovernanceAction.ChangeRoles, 200)]
    [InlineData(GovernanceAction.AddValidator, 101)] // already a validator
    [InlineData(GovernanceAction.RemoveValidator, 1)] // not a validator
    [InlineData(GovernanceAction.RemoveValidator, 101)] // would leave three validators: QBFT needs four
    [InlineData((GovernanceAction)9, 200)]
    public void Rejects_a_proposal_that_cannot_apply_as_InvalidProposal(GovernanceAction action, int targetSeed)
    {
        var target = new TestKey(targetSeed, "target", Bank.Uscc, "BJ");
        AssertRejected(RejectionCode.InvalidProposal, _ledger.Submit(TestKeys.BeijingRegulator, Propose(Build.Id("p"), action, target)));
    }

    [Fact]
    public void Validators_are_added_and_removed_by_vote_and_the_set_stays_sorted()
    {
        var newValidator = new TestKey(105, "validator-bj-2", "", "BJ");
        var add = Build.Id("add validator");
        _ledger.Accept(TestKeys.BeijingRegulator, Propose(add, GovernanceAction.AddValidator, newValidator));
        foreach (var voter in new[] { TestKeys.TianjinRegulator, TestKeys.HebeiRegulator, TestKeys.XionganCommittee })
        {
            _ledger.Accept(voter, new GovernanceVote(add, true));
        }

        var set = _ledger.Read(StateKeys.ValidatorSet, ValidatorSetState.Read)!.Addresses;
        Assert.Equal(5, set.Count);
        Assert.Equal(set.Order(StringComparer.Ordinal), set);
        Assert.Contains(newValidator.AddressIn(suite).ToString().ToLowerInvariant(), set);

        var remove = Build.Id("remove validator");
        _ledger.Accept(TestKeys.BeijingRegulator, Propose(remove, GovernanceAction.RemoveValidator, newValidator));
        foreach (var voter in new[] { TestKeys.TianjinRegulator, TestKeys.HebeiRegulator, TestKeys.XionganCommittee })
        {
            _ledger.Accept(voter, new GovernanceVote(remove, true));
        }

        Assert.Equal(4, _ledger.Read(StateKeys.ValidatorSet, ValidatorSetState.Read)!.Addresses.Count);
        Assert.Null(_ledger.State.Get(StateKeys.Validator(newValidator.AddressIn(suite))));
    }

    [Fact]
    public void A_removed_member_can_no_longer_sign()
    {
        var ledger = TestLedger.Start(Build.A.Genesis.WithOnlyMembers(TestKeys.BeijingRegulator, TestKeys.TianjinRegulator).InSuite(suite).TestObject);
        ledger.Accept(TestKeys.BeijingRegulator, Propose(Build.Id("p"), GovernanceAction.RemoveMember, TestKeys.TianjinRegulator));
        ledger.Accept(TestKeys.TianjinRegulator, new GovernanceVote(Build.Id("p"), true));
        AssertRejected(RejectionCode.NotAMember, ledger.Submit(Build.A.CreditRecord.By(TestKeys.TianjinRegulator).InDivision("120101")));
    }

    [Fact]
    public void Rejects_a_proposal_to_add_a_member_with_a_current_members_uscc_as_InvalidProposal()
    {
        var impostor = new TestKey(300, "Impostor", TestKeys.HebeiRegulator.Uscc, "BJ");
        var proposal = new GovernancePropose(Build.Id("impostor"), GovernanceAction.AddMember, impostor.AddressIn(suite), impostor.Uscc, impostor.Name, "BJ", MemberRole.LicenceIssuer);
        AssertRejected(RejectionCode.InvalidProposal, _ledger.Submit(TestKeys.BeijingRegulator, proposal));
    }

    [Fact]
    public void A_uscc_taken_while_a_proposal_was_open_stops_that_proposal_from_executing()
    {
        var twin = new TestKey(301, "Twin of the bank", Bank.Uscc, "BJ");
        var first = ProposeToAdd(Bank);
        _ledger.Accept(TestKeys.BeijingRegulator, Propose(Build.Id("twin"), GovernanceAction.AddMember, twin));
        foreach (var voter in new[] { TestKeys.TianjinRegulator, TestKeys.HebeiRegulator, TestKeys.XionganCommittee })
        {
            _ledger.Accept(voter, new GovernanceVote(first, true));
        }

        Assert.NotNull(_ledger.Read(StateKeys.Member(Bank.AddressIn(suite)), MemberState.Read));
        _ledger.Accept(TestKeys.TianjinRegulator, new GovernanceVote(Build.Id("twin"), true));
        _ledger.Accept(TestKeys.HebeiRegulator, new GovernanceVote(Build.Id("twin"), true));
        AssertRejected(RejectionCode.InvalidProposal, _ledger.Submit(TestKeys.XionganCommittee, new GovernanceVote(Build.Id("twin"), true)));
        Assert.Null(_ledger.Read(StateKeys.Member(twin.AddressIn(suite)), MemberState.Read));
    }

    [Fact]
    public void Approvals_of_members_removed_after_voting_no_longer_count()
    {
        // Six members; the bank has three approvals (not a majority of six).
        var proposal = ProposeToAdd(Bank);
        _ledger.Accept(TestKeys.TianjinRegulator, new GovernanceVote(proposal, true));
        _ledger.Accept(TestKeys.HebeiRegulator, new GovernanceVote(proposal, true));

        // Hebei leaves: five members, two of whom (Beijing, Tianjin) approved the bank.
        RemoveByVote(TestKeys.HebeiRegulator, TestKeys.BeijingRegulator, TestKeys.TianjinRegulator, TestKeys.XionganCommittee, TestKeys.BeijingCourt);

        _ledger.Accept(TestKeys.XionganCommittee, new GovernanceVote(proposal, false));
        Assert.Null(_ledger.Read(StateKeys.Member(Bank.AddressIn(suite)), MemberState.Read));
        Assert.Equal(ProposalStatus.Open, _ledger.Read(StateKeys.Proposal(proposal), ProposalState.Read)!.Status);

        _ledger.Accept(TestKeys.BeijingCourt, new GovernanceVote(proposal, true)); // 3 of 5
        Assert.NotNull(_ledger.Read(StateKeys.Member(Bank.AddressIn(suite)), MemberState.Read));
    }

    [Fact]
    public void A_reject_vote_never_executes_a_proposal()
    {
        // Beijing, Tianjin and Hebei approve the bank: 3 of 6. The court (which has not voted) leaves: 3 of 5.
        var proposal = ProposeToAdd(Bank);
        _ledger.Accept(TestKeys.TianjinRegulator, new GovernanceVote(proposal, true));
        _ledger.Accept(TestKeys.HebeiRegulator, new GovernanceVote(proposal, true));
        RemoveByVote(TestKeys.BeijingCourt, TestKeys.BeijingRegulator, TestKeys.TianjinRegulator, TestKeys.HebeiRegulator, TestKeys.XionganCommittee);

        _ledger.Accept(TestKeys.XionganCommittee, new GovernanceVote(proposal, false));
        Assert.Null(_ledger.Read(StateKeys.Member(Bank.AddressIn(suite)), MemberState.Read));
        Assert.Equal(ProposalStatus.Open, _ledger.Read(StateKeys.Proposal(proposal), ProposalState.Read)!.Status);

        _ledger.Accept(TestKeys.JointCreditOffice, new GovernanceVote(proposal, true));
        Assert.NotNull(_ledger.Read(StateKeys.Member(Bank.AddressIn(suite)), MemberState.Read));
    }

    private void RemoveByVote(TestKey member, TestKey proposer, params TestKey[] voters)
    {
        var id = Build.Id("remove " + member.Name);
        _ledger.Accept(proposer, Propose(id, GovernanceAction.RemoveMember, member));
        foreach (var voter in voters)
        {
            _ledger.Accept(voter, new GovernanceVote(id, true));
        }

        Assert.Null(_ledger.Read(StateKeys.Member(member.AddressIn(suite)), MemberState.Read));
    }

    private Hash256 ProposeToAdd(TestKey member)
    {
        var id = Build.Id("proposal " + member.Name);
        _ledger.Accept(TestKeys.BeijingRegulator, Propose(id, GovernanceAction.AddMember, member));
        return id;
    }

    private GovernancePropose Propose(Hash256 id, GovernanceAction action, TestKey target)
        => new(id, action, target.AddressIn(suite), target.Uscc, target.Name, target.Region, MemberRole.MeasureImplementer);

    public sealed class Eth() : GovernanceRulesTests(CryptoSuiteId.Eth);

    public sealed class Gm() : GovernanceRulesTests(CryptoSuiteId.Gm);
}
