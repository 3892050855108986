using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.State;

public sealed partial class CreditStateMachine
{
    /// <summary>
    /// Governance, open to every member. The electorate is live: a vote counts while its voter is a member, so approvals
    /// of members removed since do not count and members added since may vote. Only an approval (or the proposal, which
    /// is its proposer's approval) executes a proposal; any vote after which the current members can no longer make it
    /// pass closes it as rejected.
    /// </summary>
    private static IEnumerable<IKindRules> GovernanceRules() =>
    [
        new KindRules<GovernancePropose>(TransactionKind.GovernancePropose, MemberRole.None, "writes the proposal with its proposer's approval; executes it at once if that passes")
            .Creates(StateObject.Proposal, "proposalId", b => b.ProposalId)
            .Check(RejectionCode.InvalidProposal, (c, b) => Applicable(c, b.Action, b.Target, b.Uscc, b.Name, b.Region, b.Roles))
            .Effect((c, b) =>
            {
                var proposal = new ProposalState(
                    b.Action, b.Target, b.Uscc, b.Name, b.Region, b.Roles, c.Signer, c.Now,
                    LedgerTime.AddDays(c.Now, c.Machine.Parameters.ProposalLifetimeDays), Approvers: [], Rejecters: [], ProposalStatus.Open);
                CountVote(c, b.ProposalId, proposal, approve: true);
            })
            .Touches((b, _) => [TouchedObject.Of(StateObject.Proposal, b.ProposalId)])
            .Build(),

        new KindRules<GovernanceVote>(TransactionKind.GovernanceVote, MemberRole.None, "records the vote; an approval that makes the proposal pass executes it")
            .ActsOn(StateObject.Proposal, b => b.ProposalId)
            .Check(RejectionCode.ProposalNotOpen, (c, b) => c.Proposal!.Status == ProposalStatus.Open
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.ProposalNotOpen, $"proposal {b.ProposalId} is {c.Proposal.Status}"))
            .Check(RejectionCode.ProposalExpired, (c, b) => c.Now < c.Proposal!.ExpiresAt
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.ProposalExpired, $"proposal {b.ProposalId} expired"))
            .Check(RejectionCode.AlreadyVoted, (c, b) => c.State.Get(StateKeys.Vote(b.ProposalId, c.Signer)) is null
                ? Verdict.Ok
                : Verdict.Reject(RejectionCode.AlreadyVoted, $"{c.Signer} already voted on {b.ProposalId}"))
            .Check(RejectionCode.InvalidProposal, (c, b) =>
            {
                var p = c.Proposal!;
                return b.Approve && Passes(c, CurrentVoters(c, p.Approvers) + 1)
                    ? Applicable(c, p.Action, p.Target, p.Uscc, p.Name, p.Region, p.Roles)
                    : Verdict.Ok;
            })
            .Effect((c, b) => CountVote(c, b.ProposalId, c.Proposal!, b.Approve))
            .Touches((b, _) => [TouchedObject.Of(StateObject.Proposal, b.ProposalId)])
            .Build(),
    ];

    /// <summary>
    /// Records the signer's vote; executes the proposal when this is an approval and the approvals of current members
    /// meet the genesis rule over the current member count, else closes it as rejected when the current members can
    /// no longer make it pass.
    /// </summary>
    private static void CountVote(RuleContext c, Hash256 proposalId, ProposalState proposal, bool approve)
    {
        var voter = Hex(c.Signer);
        var tally = approve ? proposal with { Approvers = [.. proposal.Approvers, voter] } : proposal with { Rejecters = [.. proposal.Rejecters, voter] };
        var members = MemberCount(c);
        if (approve && Passes(c, CurrentVoters(c, tally.Approvers)))
        {
            Execute(c.State, tally);
            tally = tally with { Status = ProposalStatus.Executed };
        }
        else if (!c.Machine.Parameters.Governance.Passes(members - CurrentVoters(c, tally.Rejecters), members))
        {
            tally = tally with { Status = ProposalStatus.Rejected };
        }

        Put(c.State, StateKeys.Vote(proposalId, c.Signer), new CounterState(approve ? 1UL : 0UL));
        Put(c.State, StateKeys.Proposal(proposalId), tally);
    }

    private static bool Passes(RuleContext c, int approvals) => c.Machine.Parameters.Governance.Passes(approvals, MemberCount(c));

    private static int MemberCount(RuleContext c) => (int)c.State.Read(StateKeys.MemberCount, CounterState.Read)!.Value;

    /// <summary>How many of the voters are members now (a vote counts only while its voter is a member).</summary>
    private static int CurrentVoters(RuleContext c, IReadOnlyList<string> voters)
        => voters.Count(v => Address.TryParse(v, out var address, out _) && c.State.Get(StateKeys.Member(address)) is not null);

    private static string Hex(Address address) => address.ToString().ToLowerInvariant();

    private static Verdict Applicable(RuleContext c, GovernanceAction action, Address target, string uscc, string name, string region, MemberRole roles)
    {
        var state = c.State;
        var isMember = state.Get(StateKeys.Member(target)) is not null;
        var isValidator = state.Get(StateKeys.Validator(target)) is not null;
        var members = state.Read(StateKeys.MemberCount, CounterState.Read)!.Value;
        var validators = state.Read(StateKeys.ValidatorSet, ValidatorSetState.Read)!.Addresses.Count;
        var validRoles = roles != MemberRole.None && (roles & ~MemberRoles.All) == 0;
        var usccHolder = action == GovernanceAction.AddMember ? state.Read(StateKeys.MemberUscc(uscc), MemberUsccState.Read) : null;
        var problem = action switch
        {
            _ when target.IsZero => "the target address is zero",
            GovernanceAction.AddMember when isMember => $"{target} is already a member",
            GovernanceAction.AddMember when !UnifiedSocialCreditCode.Parse(uscc).IsValid => $"'{uscc}' is not a valid USCC",
            GovernanceAction.AddMember when usccHolder is not null => $"USCC {uscc} is already the member {usccHolder.Member}'s (USCCs of members are unique)",
            GovernanceAction.AddMember or GovernanceAction.AddValidator when !Text(name, "name").IsOk => $"a name of 1 to {TransactionRules.MaxTextLength} characters is required",
            GovernanceAction.AddMember or GovernanceAction.AddValidator when !c.Machine.Regions.Contains(region) => $"'{region}' is not a region of the consortium",
            GovernanceAction.AddMember or GovernanceAction.ChangeRoles when !validRoles => $"roles {(uint)roles} are not a non-empty set of known roles",
            GovernanceAction.RemoveMember or GovernanceAction.ChangeRoles when !isMember => $"{target} is not a member",
            GovernanceAction.RemoveMember when members <= 1 => "the last member cannot be removed",
            GovernanceAction.AddValidator when isValidator => $"{target} is already a validator",
            GovernanceAction.RemoveValidator when !isValidator => $"{target} is not a validator",
            GovernanceAction.RemoveValidator when validators <= 1 => "the last validator cannot be removed",
            GovernanceAction.AddValidator or GovernanceAction.RemoveValidator when (action == GovernanceAction.AddValidator ? validators + 1 : validators - 1) is 2 or 3
                => $"the change would leave {(action == GovernanceAction.AddValidator ? validators + 1 : validators - 1)} validators: consensus needs one validator or at least four (BFT with f = 1), and 2 or 3 would halt the chain",
            GovernanceAction.AddMember or GovernanceAction.RemoveMember or GovernanceAction.ChangeRoles or GovernanceAction.AddValidator or GovernanceAction.RemoveValidator => null,
            _ => $"action {(byte)action} is unknown",
        };
        return problem is null ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidProposal, problem);
    }

    private static void Execute(StateOverlay state, ProposalState p)
    {
        var members = state.Read(StateKeys.MemberCount, CounterState.Read)!.Value;
        switch (p.Action)
        {
            case GovernanceAction.AddMember:
                Put(state, StateKeys.Member(p.Target), new MemberState(p.Uscc, p.Name, p.Region, p.Roles));
                Put(state, StateKeys.MemberUscc(p.Uscc), new MemberUsccState(p.Target));
                Put(state, StateKeys.MemberCount, new CounterState(members + 1));
                break;
            case GovernanceAction.RemoveMember:
                var removed = state.Read(StateKeys.Member(p.Target), MemberState.Read)!;
                state.Set(state.KeyHash(StateKeys.Member(p.Target)), null);
                state.Set(state.KeyHash(StateKeys.MemberUscc(removed.Uscc)), null);
                Put(state, StateKeys.MemberCount, new CounterState(members - 1));
                break;
            case GovernanceAction.ChangeRoles:
                var member = state.Read(StateKeys.Member(p.Target), MemberState.Read)!;
                Put(state, StateKeys.Member(p.Target), member with { Roles = p.Roles });
                break;
            case GovernanceAction.AddValidator:
            case GovernanceAction.RemoveValidator:
                var add = p.Action == GovernanceAction.AddValidator;
                var set = state.Read(StateKeys.ValidatorSet, ValidatorSetState.Read)!.Addresses.ToHashSet(StringComparer.Ordinal);
                var text = Hex(p.Target);
                _ = add ? set.Add(text) : set.Remove(text);
                state.Set(state.KeyHash(StateKeys.Validator(p.Target)), add ? StateValue.Encode(new ValidatorState(p.Name, p.Region)) : null);
                Put(state, StateKeys.ValidatorSet, new ValidatorSetState([.. set.Order(StringComparer.Ordinal)]));
                break;
        }
    }
}
