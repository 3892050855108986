using System.Collections.Immutable;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Consensus;

/// <summary>Proposals and their justification, round changes, the f+1 jump, timers and the proposer's duty.</summary>
public sealed partial class QbftEngine
{
    private void OnProposal(ProposalMessage proposal)
    {
        var height = _height!;
        var round = proposal.Round;
        if (round < _round)
        {
            Reject(proposal, ConsensusRejectionCode.StaleRound, $"round {_round} is current");
            return;
        }

        if (proposal.Sender != height.ProposerFor(round))
        {
            Reject(proposal, ConsensusRejectionCode.NotTheProposer, $"the proposer of {height.Height}/{round} is {height.ProposerFor(round)}");
            return;
        }

        _rounds.TryGetValue(round, out var state);
        if ((state?.Proposal ?? _validating.GetValueOrDefault(round)) is { } first)
        {
            RejectRepeat(proposal, first.BlockHash == proposal.BlockHash, [Signed(proposal)]);
            return;
        }

        if (state?.RejectedBlock is { } rejected && rejected == proposal.BlockHash && proposal.Block.Hash == rejected)
        {
            Reject(proposal, ConsensusRejectionCode.InvalidBlock, "this block was already found invalid");
            return;
        }

        if (!FitsBlock(proposal, out var mismatch))
        {
            Reject(proposal, ConsensusRejectionCode.BlockMismatch, mismatch);
            return;
        }

        if (!IsJustified(proposal, out var code, out var reason))
        {
            Reject(proposal, code, reason);
            return;
        }

        var checks = new SignedDigest[1 + proposal.RoundChanges.Length + proposal.Prepares.Length];
        checks[0] = Signed(proposal);
        for (var i = 0; i < proposal.RoundChanges.Length; i++)
        {
            checks[1 + i] = Signed(proposal.RoundChanges[i]);
        }

        for (var i = 0; i < proposal.Prepares.Length; i++)
        {
            checks[1 + proposal.RoundChanges.Length + i] = Signed(proposal.Prepares[i]);
        }

        if (!VerifyAll(checks, out var failure))
        {
            Reject(proposal, ConsensusRejectionCode.BadSignature, failure);
            return;
        }

        // Everything but re-execution holds: the node validates the block (OnBlockValidated), one proposal per round.
        Wake();
        while (_validating.Count >= MaxPendingValidations)
        {
            _validating.Remove(_validating.Keys.First());
        }

        _validating[round] = proposal;
        _output.RequestValidation(proposal);
    }

    private void OnValidated(ProposalMessage proposal, BlockVerdict verdict)
    {
        var round = proposal.Round;
        if (round < _round)
        {
            Reject(proposal, ConsensusRejectionCode.StaleRound, $"round {_round} began while the block was validated");
            return;
        }

        if (!verdict.IsValid)
        {
            if (round <= _round + _parameters.FutureRoundWindow)
            {
                RoundAt(round).RejectedBlock = proposal.BlockHash;
            }

            Reject(proposal, ConsensusRejectionCode.InvalidBlock, verdict.Reason);
            return;
        }

        if (round > _round)
        {
            // A justified proposal proves a quorum moved to its round (Besu: a valid proposal for a later round moves the node).
            EnterRound(round, broadcastRoundChange: false);
        }

        AcceptProposal(proposal);
    }

    private void AcceptProposal(ProposalMessage proposal)
    {
        var state = RoundAt(proposal.Round);
        state.Proposal = proposal;
        _journalDirty = true;
        if (proposal.Round == _round)
        {
            MarkRoundSharedIfQuorum();
        }

        if (proposal.Round == _round && _isValidator && !state.Prepares.ContainsKey(Self))
        {
            var prepare = ConsensusSigning.Prepare(_crypto, _signer, proposal.Height, proposal.Round, proposal.BlockHash);
            state.Prepares[Self] = prepare;
            _output.Send(prepare);
        }

        CheckPrepared();
        TryDecide(proposal.Round);
    }

    /// <summary>The block must be the one the message names, for this height, parent and validator set, proposed no later than this round.</summary>
    private bool FitsBlock(ProposalMessage proposal, out string reason)
    {
        var height = _height!;
        var header = proposal.Block.Header;
        reason = proposal.BlockHash != proposal.Block.Hash ? $"the proposal names {proposal.BlockHash}, the block hashes to {proposal.Block.Hash}"
            : header.Height != height.Height ? $"the block is for height {header.Height}"
            : header.Round > proposal.Round ? $"the block's round field is {header.Round}, after the proposal's round {proposal.Round}"
            : header.PreviousHash != height.ParentHash ? $"the block's parent is {header.PreviousHash}, not {height.ParentHash}"
            : header.ValidatorSetHash != height.Validators.Hash ? $"the block names validator set {header.ValidatorSetHash}, not {height.Validators.Hash}"
            : string.Empty;
        return reason.Length == 0;
    }

    /// <summary>
    /// The justification rules (CONSENSUS-NOTES §1, Dafny isProposalJustification). Round 0: nothing, and a fresh block
    /// naming its proposer. Round r &gt; 0: ROUND-CHANGEs for exactly (h, r) from a quorum of distinct validators, each with
    /// a prepared round below r or none; if none reports a prepared block, a fresh block naming its proposer; else the
    /// block must be the block (id = pv) of a ROUND-CHANGE with the highest prepared round, backed by a quorum of
    /// PREPAREs for that (round, block). Other ROUND-CHANGEs may disagree: only the highest is checked.
    /// </summary>
    private bool IsJustified(ProposalMessage proposal, out ConsensusRejectionCode code, out string reason)
    {
        var height = _height!;
        var round = proposal.Round;
        var header = proposal.Block.Header;
        code = ConsensusRejectionCode.BadJustification;
        if (round == 0)
        {
            if (proposal.RoundChanges.Length != 0 || proposal.Prepares.Length != 0)
            {
                reason = "a round-0 proposal carries no justification";
                return false;
            }

            code = ConsensusRejectionCode.BlockMismatch;
            return IsFresh(proposal, out reason);
        }

        var roundChanges = proposal.RoundChanges;
        if (roundChanges.Length < height.Quorum || roundChanges.Length > height.ValidatorCount)
        {
            reason = $"{roundChanges.Length} ROUND-CHANGEs; a round-{round} proposal needs {height.Quorum} to {height.ValidatorCount}";
            return false;
        }

        var senders = new HashSet<Address>();
        var highest = -1;
        foreach (var roundChange in roundChanges)
        {
            var payload = roundChange.Payload;
            if (payload.Height != height.Height || payload.Round != round)
            {
                reason = $"a ROUND-CHANGE is for {payload.Height}/{payload.Round}, not {height.Height}/{round}";
                return false;
            }

            if (!height.Validators.Contains(roundChange.Sender) || !senders.Add(roundChange.Sender))
            {
                reason = $"ROUND-CHANGE by {roundChange.Sender}: not a validator, or twice";
                return false;
            }

            if (!IsConsistent(payload, out reason))
            {
                return false;
            }

            if (payload.Prepared)
            {
                highest = Math.Max(highest, payload.PreparedRound);
            }
        }

        if (highest < 0)
        {
            if (proposal.Prepares.Length != 0)
            {
                reason = "PREPAREs, but no ROUND-CHANGE reports a prepared block";
                return false;
            }

            code = ConsensusRejectionCode.BlockMismatch;
            return IsFresh(proposal, out reason);
        }

        // Re-proposal: the very block prepared in the highest round, byte for byte (its header keeps the round it was
        // first proposed in and its proposer), backed by a quorum of PREPAREs of that round.
        var backed = false;
        foreach (var roundChange in roundChanges)
        {
            var payload = roundChange.Payload;
            backed |= payload.Prepared && payload.PreparedRound == highest && payload.PreparedBlockHash == proposal.BlockHash;
        }

        if (!backed)
        {
            reason = $"the highest prepared round is {highest}, and no ROUND-CHANGE of that round names this block {proposal.BlockHash}";
            return false;
        }

        if (header.Round > highest || !height.Validators.Contains(header.Proposer))
        {
            code = ConsensusRejectionCode.BlockMismatch;
            reason = $"the re-proposed block names round {header.Round} (prepared in {highest}) and proposer {header.Proposer}";
            return false;
        }

        return IsPrepareQuorum(proposal.Prepares, highest, proposal.BlockHash, out reason);
    }

    /// <summary>A fresh block (nothing prepared to re-propose) carries this round and names the proposer that signed it.</summary>
    private static bool IsFresh(ProposalMessage proposal, out string reason)
    {
        var header = proposal.Block.Header;
        reason = header.Round != proposal.Round ? $"a fresh block carries its round {proposal.Round}, this one says {header.Round}"
            : header.Proposer != proposal.Sender ? $"a fresh block names its proposer {proposal.Sender}, this one names {header.Proposer}"
            : string.Empty;
        return reason.Length == 0;
    }

    private static bool IsConsistent(in QbftRoundChange payload, out string reason)
    {
        reason = payload.Prepared
            ? payload.PreparedRound < 0 || payload.PreparedRound >= payload.Round ? $"prepared round {payload.PreparedRound} is not below the round {payload.Round}" : string.Empty
            : payload.PreparedRound != 0 || !payload.PreparedBlockHash.IsZero ? "not prepared, yet names a prepared round or block" : string.Empty;
        return reason.Length == 0;
    }

    private void OnRoundChange(RoundChangeMessage roundChange)
    {
        var height = _height!;
        var round = roundChange.Round;
        var payload = roundChange.Payload;
        if (round == 0)
        {
            Reject(roundChange, ConsensusRejectionCode.BadRoundChange, "a ROUND-CHANGE targets round 1 or higher");
            return;
        }

        if (round < _round)
        {
            Reject(roundChange, ConsensusRejectionCode.StaleRound, $"round {_round} is current");
            return;
        }

        if (!IsConsistent(payload, out var inconsistency))
        {
            Reject(roundChange, ConsensusRejectionCode.BadRoundChange, inconsistency);
            return;
        }

        var checks = new SignedDigest[1 + roundChange.PreparedCertificate.Length];
        checks[0] = Signed(roundChange);
        for (var i = 0; i < roundChange.PreparedCertificate.Length; i++)
        {
            checks[1 + i] = Signed(roundChange.PreparedCertificate[i]);
        }

        if (_roundChanges.TryGetValue(roundChange.Sender, out var bySender) && bySender.TryGetValue(round, out var first))
        {
            RejectRepeat(roundChange, first.Payload == payload, [checks[0]]);
            return;
        }

        if (!HasPreparedEvidence(roundChange, out var problem))
        {
            Reject(roundChange, ConsensusRejectionCode.BadRoundChange, problem);
            return;
        }

        if (!VerifyAll(checks, out var failure))
        {
            Reject(roundChange, ConsensusRejectionCode.BadSignature, failure);
            return;
        }

        StoreRoundChange(roundChange);
        Wake();
        CheckRoundChangeJump();
        MarkRoundSharedIfQuorum();
        CheckProposerDuty();
    }

    /// <summary>A prepared ROUND-CHANGE carries the block it names (proposed by the prepared round) and a PREPARE quorum for it.</summary>
    private bool HasPreparedEvidence(RoundChangeMessage roundChange, out string reason)
    {
        var payload = roundChange.Payload;
        if (!payload.Prepared)
        {
            reason = roundChange.PreparedBlock is not null || roundChange.PreparedCertificate.Length != 0 ? "not prepared, yet carries a block or PREPAREs" : string.Empty;
            return reason.Length == 0;
        }

        var height = _height!;
        if (roundChange.PreparedBlock is not { } block)
        {
            reason = "prepared, but carries no block";
            return false;
        }

        var header = block.Header;
        reason = block.Hash != payload.PreparedBlockHash ? $"the block hashes to {block.Hash}, the ROUND-CHANGE names {payload.PreparedBlockHash}"
            : header.Height != height.Height || header.Round > payload.PreparedRound ? $"the block is for {header.Height}/{header.Round}, not height {height.Height} by round {payload.PreparedRound}"
            : header.PreviousHash != height.ParentHash || header.ValidatorSetHash != height.Validators.Hash ? "the block names another parent or validator set"
            : string.Empty;
        return reason.Length == 0 && IsPrepareQuorum(roundChange.PreparedCertificate, payload.PreparedRound, payload.PreparedBlockHash, out reason);
    }

    /// <summary>Keeps a sender's ROUND-CHANGEs for rounds at or above the current one, its highest few only.</summary>
    private void StoreRoundChange(RoundChangeMessage roundChange)
    {
        if (!_roundChanges.TryGetValue(roundChange.Sender, out var bySender))
        {
            bySender = [];
            _roundChanges[roundChange.Sender] = bySender;
        }

        bySender[roundChange.Round] = roundChange;
        while (bySender.Count > _parameters.MaxRoundChangesPerSender)
        {
            bySender.Remove(bySender.Keys.First());
        }
    }

    /// <summary>
    /// f+1 validators announced rounds above ours, so at least one honest validator is there: move to the highest round
    /// that f+1 of them reached (the smallest round of the f+1 highest announcements) and announce it too [Moniz, Dafny].
    /// </summary>
    private void CheckRoundChangeJump()
    {
        if (_decided)
        {
            return;
        }

        var higher = new List<int>(_roundChanges.Count);
        foreach (var bySender in _roundChanges.Values)
        {
            if (bySender.Count > 0 && bySender.Keys.Last() is var latest && latest > _round)
            {
                higher.Add(latest);
            }
        }

        var needed = _height!.MaxFaulty + 1;
        if (higher.Count < needed)
        {
            return;
        }

        higher.Sort();
        EnterRound(higher[^needed], broadcastRoundChange: true);
    }

    /// <summary>
    /// The round's timer ran out: move to the next round and announce it — unless this validator is ahead of the rest.
    /// With capped timers a validator that got ahead (after a partition, say) would keep the same lead for ever and
    /// never share a round with the others. So the timer of a round r &gt; 0 runs only once a quorum is known to have
    /// reached r (a quorum of validators announced r or later, or a justified proposal of r was accepted) and restarts
    /// at that moment (<see cref="MarkRoundSharedIfQuorum"/>); until then the validator announces r again at each
    /// timeout and stays. The others catch up by their own timers or the f+1 jump. Round 0 is everyone's start.
    /// </summary>
    private void OnRoundTimeout()
    {
        if (_round < _parameters.MaxRound && _roundShared)
        {
            EnterRound(_round + 1, broadcastRoundChange: true);
            return;
        }

        // Wait for the others in this round (or, at the cap, for ever): announce it again, another (capped) timeout.
        _roundDeadline = _now + _parameters.RoundTimeout(_round);
        if (_sentRoundChange is { } again)
        {
            _output.Send(again);
        }
        else if (_isValidator)
        {
            SendRoundChange();
        }
    }

    /// <summary>The first time a quorum is known to be in the current round, its timer starts again from now.</summary>
    private void MarkRoundSharedIfQuorum()
    {
        if (!_roundShared && !_decided && IsRoundShared(_round))
        {
            _roundShared = true;
            _roundDeadline = _now + _parameters.RoundTimeout(_round);
        }
    }

    /// <summary>True when a quorum is known to have reached <paramref name="round"/>.</summary>
    private bool IsRoundShared(int round)
    {
        if (round == 0 || (_rounds.TryGetValue(round, out var state) && state.Proposal is not null))
        {
            return true;
        }

        var reached = 0;
        foreach (var bySender in _roundChanges.Values)
        {
            if (bySender.Count > 0 && bySender.Keys.Last() >= round)
            {
                reached++;
            }
        }

        return reached >= _height!.Quorum;
    }

    private void EnterRound(int round, bool broadcastRoundChange)
    {
        _round = round;
        _roundDeadline = _now + _parameters.RoundTimeout(round);
        _roundShared = false;
        _buildAt = null;
        _sentRoundChange = null;
        _journalDirty = true;

        var oldest = round - _parameters.RetainedPastRounds;
        while (_rounds.Count > 0 && _rounds.Keys.First() is var first && first < oldest)
        {
            _rounds.Remove(first);
        }

        foreach (var bySender in _roundChanges.Values)
        {
            while (bySender.Count > 0 && bySender.Keys.First() is var low && low < round)
            {
                bySender.Remove(low);
            }
        }

        while (_validating.Count > 0 && _validating.Keys.First() is var stale && stale < round)
        {
            _validating.Remove(stale);
        }

        if (broadcastRoundChange && _isValidator)
        {
            SendRoundChange();
        }

        _roundShared = IsRoundShared(round);
        CheckPrepared();
        TryDecide(round);
        CheckProposerDuty();
    }

    private void SendRoundChange()
    {
        var roundChange = ConsensusSigning.RoundChange(_crypto, _signer, _height!.Height, _round, _lastPrepared);
        _sentRoundChange = roundChange;
        _journalDirty = true;
        StoreRoundChange(roundChange);
        _output.Send(roundChange);
    }

    /// <summary>
    /// The proposer of the current round proposes once: in round 0 a fresh block (after the block period); in a later
    /// round once it holds a quorum of ROUND-CHANGEs for it: the highest prepared block they report, else a fresh one.
    /// A fresh block is asked of the node (<see cref="ConsensusOutput.BuildRequest"/>) and proposed when it arrives.
    /// </summary>
    private void CheckProposerDuty()
    {
        if (!MustPropose())
        {
            return;
        }

        if (_round == 0)
        {
            if (_buildAt is not { } at || at <= _now)
            {
                RequestBuild();
            }

            return;
        }

        if (Justification() is not { } justification)
        {
            return;
        }

        if (justification.Highest is { PreparedBlock: { } prepared } highest)
        {
            Propose(prepared, justification.RoundChanges, highest.PreparedCertificate);
        }
        else
        {
            RequestBuild();
        }
    }

    private bool MustPropose()
    {
        if (_decided || _idle || !_isValidator || _height!.ProposerFor(_round) != Self)
        {
            return false;
        }

        return _rounds.GetValueOrDefault(_round) is not { } state || (state.SentProposal is null && state.Proposal is null);
    }

    private void RequestBuild()
    {
        if (_buildRequested != _round)
        {
            _buildRequested = _round;
            _output.BuildRequest = new ProposalRequest(_height!, _round, Self, _now);
        }
    }

    /// <summary>A block the node built for the current round: proposed, unless a prepared block must be re-proposed instead.</summary>
    private void ProposeForCurrentRound(ProposedBlock fresh)
    {
        if (!MustPropose())
        {
            return;
        }

        if (_round == 0)
        {
            Propose(fresh, [], []);
            return;
        }

        if (Justification() is not { } justification)
        {
            return;
        }

        if (justification.Highest is { PreparedBlock: { } prepared } highest)
        {
            Propose(prepared, justification.RoundChanges, highest.PreparedCertificate);
        }
        else
        {
            Propose(fresh, justification.RoundChanges, []);
        }
    }

    /// <summary>The stored ROUND-CHANGEs for the current round if they are a quorum, and the one with the highest prepared round.</summary>
    private (ImmutableArray<SignedRoundChange> RoundChanges, RoundChangeMessage? Highest)? Justification()
    {
        var roundChanges = new List<RoundChangeMessage>(_height!.ValidatorCount);
        foreach (var bySender in _roundChanges.Values)
        {
            if (bySender.TryGetValue(_round, out var roundChange))
            {
                roundChanges.Add(roundChange);
            }
        }

        if (roundChanges.Count < _height.Quorum)
        {
            return null;
        }

        roundChanges.Sort((a, b) => a.Sender.CompareTo(b.Sender));
        RoundChangeMessage? highest = null;
        foreach (var roundChange in roundChanges)
        {
            if (roundChange.Payload.Prepared && (highest is null || roundChange.Payload.PreparedRound > highest.Payload.PreparedRound))
            {
                highest = roundChange;
            }
        }

        return ([.. roundChanges.Select(r => r.Signed)], highest);
    }

    /// <summary>The node must build what was asked: anything else is a bug in the node, not a fault to tolerate.</summary>
    private void CheckBuilt(ProposedBlock block)
    {
        var height = _height!;
        var header = block.Header;
        if (header.Height != height.Height || header.Round != _round || header.Proposer != Self || header.PreviousHash != height.ParentHash || header.ValidatorSetHash != height.Validators.Hash)
        {
            throw new InvalidOperationException(
                $"the node built {block} with proposer {header.Proposer}, parent {header.PreviousHash}, set {header.ValidatorSetHash}; "
                + $"expected height {height.Height}, round {_round}, proposer {Self}, parent {height.ParentHash}, set {height.Validators.Hash}");
        }
    }

    private void Propose(ProposedBlock block, ImmutableArray<SignedRoundChange> roundChanges, ImmutableArray<PrepareMessage> prepares)
    {
        var proposal = ConsensusSigning.Proposal(_crypto, _signer, _round, block, roundChanges, prepares);
        var state = RoundAt(_round);
        state.SentProposal = proposal;
        _journalDirty = true;
        _output.Send(proposal);
        AcceptProposal(proposal);
    }
}
