using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.State;

public sealed partial class CreditStateMachine
{
    /// <summary>A member proposes a change; the proposal counts the proposer's approval and may pass at once.</summary>
    private Verdict Propose(Context context, GovernancePropose tx)
    {
        var key = StateKeys.Proposal(tx.ProposalId);
        var verdict = Fresh(context, key, "proposal");
        if (!verdict.IsOk || !(verdict = ProposalIsApplicable(context.State, tx.Action, tx.Target, tx.Uscc, tx.Name, tx.Region, tx.Roles)).IsOk)
        {
            return verdict;
        }

        var proposal = new ProposalState(
            tx.Action, tx.Target, tx.Uscc, tx.Name, tx.Region, tx.Roles, context.Signer, context.Now,
            LedgerTime.AddDays(context.Now, Parameters.ProposalLifetimeDays), Approvals: 0, Rejections: 0, ProposalStatus.Open);
        return CountVote(context, tx.ProposalId, proposal, approve: true);
    }

    private Verdict Vote(Context context, GovernanceVote tx)
    {
        var proposal = context.State.Read(StateKeys.Proposal(tx.ProposalId), ProposalState.Read);
        if (proposal is null)
        {
            return Verdict.Reject(RejectionCode.UnknownProposal, $"no proposal {tx.ProposalId}");
        }

        if (proposal.Status != ProposalStatus.Open)
        {
            return Verdict.Reject(RejectionCode.ProposalNotOpen, $"proposal {tx.ProposalId} is {proposal.Status}");
        }

        if (context.Now >= proposal.ExpiresAt)
        {
            return Verdict.Reject(RejectionCode.ProposalExpired, $"proposal {tx.ProposalId} expired");
        }

        return context.State.Get(StateKeys.Vote(tx.ProposalId, context.Signer)) is not null
            ? Verdict.Reject(RejectionCode.AlreadyVoted, $"{context.Signer} already voted on {tx.ProposalId}")
            : CountVote(context, tx.ProposalId, proposal, tx.Approve);
    }

    /// <summary>
    /// Records the vote; executes the proposal when approvals meet the genesis rule over the current member count,
    /// or closes it as rejected when the remaining members can no longer make it pass.
    /// </summary>
    private Verdict CountVote(Context context, Hash256 proposalId, ProposalState proposal, bool approve)
    {
        var members = (int)context.State.Read(StateKeys.MemberCount, CounterState.Read)!.Value;
        var tally = approve ? proposal with { Approvals = proposal.Approvals + 1 } : proposal with { Rejections = proposal.Rejections + 1 };
        if (Parameters.Governance.Passes((int)tally.Approvals, members))
        {
            var verdict = ProposalIsApplicable(context.State, tally.Action, tally.Target, tally.Uscc, tally.Name, tally.Region, tally.Roles);
            if (!verdict.IsOk)
            {
                return verdict;
            }

            Execute(context.State, tally);
            tally = tally with { Status = ProposalStatus.Executed };
        }
        else if (!Parameters.Governance.Passes(members - (int)tally.Rejections, members))
        {
            tally = tally with { Status = ProposalStatus.Rejected };
        }

        Put(context.State, StateKeys.Vote(proposalId, context.Signer), new CounterState(approve ? 1UL : 0UL));
        Put(context.State, StateKeys.Proposal(proposalId), tally);
        return Verdict.Ok;
    }

    private Verdict ProposalIsApplicable(StateOverlay state, GovernanceAction action, Address target, string uscc, string name, string region, MemberRole roles)
    {
        var isMember = state.Get(StateKeys.Member(target)) is not null;
        var isValidator = state.Get(StateKeys.Validator(target)) is not null;
        var members = state.Read(StateKeys.MemberCount, CounterState.Read)!.Value;
        var validators = state.Read(StateKeys.ValidatorSet, ValidatorSetState.Read)!.Addresses.Count;
        var validRoles = roles != MemberRole.None && (roles & ~MemberRoles.All) == 0;
        var problem = action switch
        {
            _ when target.IsZero => "the target address is zero",
            GovernanceAction.AddMember when isMember => $"{target} is already a member",
            GovernanceAction.AddMember when !UnifiedSocialCreditCode.Parse(uscc).IsValid => $"'{uscc}' is not a valid USCC",
            GovernanceAction.AddMember or GovernanceAction.AddValidator when name.Length is 0 or > MaxTextLength => "a name is required",
            GovernanceAction.AddMember or GovernanceAction.AddValidator when !Regions.Contains(region) => $"'{region}' is not a region of the consortium",
            GovernanceAction.AddMember or GovernanceAction.ChangeRoles when !validRoles => $"roles {(uint)roles} are not a non-empty set of known roles",
            GovernanceAction.RemoveMember or GovernanceAction.ChangeRoles when !isMember => $"{target} is not a member",
            GovernanceAction.RemoveMember when members <= 1 => "the last member cannot be removed",
            GovernanceAction.AddValidator when isValidator => $"{target} is already a validator",
            GovernanceAction.RemoveValidator when !isValidator => $"{target} is not a validator",
            GovernanceAction.RemoveValidator when validators <= 1 => "the last validator cannot be removed",
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
                Put(state, StateKeys.MemberCount, new CounterState(members + 1));
                break;
            case GovernanceAction.RemoveMember:
                state.Set(StateKeys.Member(p.Target).Hash, null);
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
                var text = p.Target.ToString().ToLowerInvariant();
                _ = add ? set.Add(text) : set.Remove(text);
                state.Set(StateKeys.Validator(p.Target).Hash, add ? StateValue.Encode(new ValidatorState(p.Name, p.Region)) : null);
                Put(state, StateKeys.ValidatorSet, new ValidatorSetState([.. set.Order(StringComparer.Ordinal)]));
                break;
        }
    }
}
