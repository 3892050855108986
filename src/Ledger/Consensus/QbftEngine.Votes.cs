using System.Collections.Immutable;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Consensus;

/// <summary>Receiving messages: checks in order of cost, PREPARE and COMMIT quorums, decisions.</summary>
public sealed partial class QbftEngine
{
    private void Dispatch(ConsensusMessage message)
    {
        var height = _height!;
        if (message.Height < height.Height)
        {
            Reject(message, ConsensusRejectionCode.OldHeight, $"height {height.Height} is current");
            return;
        }

        if (message.Round < 0 || message.Round > _parameters.MaxRound)
        {
            Reject(message, ConsensusRejectionCode.RoundTooHigh, $"rounds go from 0 to {_parameters.MaxRound}");
            return;
        }

        if (!height.Validators.Contains(message.Sender))
        {
            Reject(message, ConsensusRejectionCode.NotAValidator, $"{message.Sender} is not a validator of height {height.Height}");
            return;
        }

        if (message.Height > height.Height)
        {
            BufferFutureMessage(message);
            return;
        }

        if (_decided)
        {
            Reject(message, ConsensusRejectionCode.HeightDecided, "this height is decided");
            return;
        }

        switch (message)
        {
            case ProposalMessage proposal:
                OnProposal(proposal);
                break;
            case PrepareMessage prepare:
                OnPrepare(prepare);
                break;
            case CommitMessage commit:
                OnCommit(commit);
                break;
            case RoundChangeMessage roundChange:
                OnRoundChange(roundChange);
                break;
            default:
                throw new ArgumentException($"unknown consensus message {message.GetType().Name}", nameof(message));
        }
    }

    private void OnPrepare(PrepareMessage prepare)
    {
        var round = prepare.Round;
        if (round < _round)
        {
            Reject(prepare, ConsensusRejectionCode.StaleRound, $"round {_round} is current");
            return;
        }

        if (round > _round + _parameters.FutureRoundWindow)
        {
            Reject(prepare, ConsensusRejectionCode.RoundTooFarAhead, $"round {_round} is current; PREPAREs are kept up to {_parameters.FutureRoundWindow} rounds ahead");
            return;
        }

        var state = RoundAt(round);
        if (state.Prepares.TryGetValue(prepare.Sender, out var first))
        {
            RejectRepeat(prepare, first.BlockHash == prepare.BlockHash, [Signed(prepare)]);
            return;
        }

        if (!VerifyAll([Signed(prepare)], out var failure))
        {
            Reject(prepare, ConsensusRejectionCode.BadSignature, failure);
            return;
        }

        state.Prepares[prepare.Sender] = prepare;
        Wake();
        if (round == _round)
        {
            CheckPrepared();
        }
    }

    private void OnCommit(CommitMessage commit)
    {
        var round = commit.Round;
        if (round < _round - _parameters.RetainedPastRounds)
        {
            Reject(commit, ConsensusRejectionCode.StaleRound, $"round {_round} is current; COMMITs are kept {_parameters.RetainedPastRounds} rounds back");
            return;
        }

        if (round > _round + _parameters.FutureRoundWindow)
        {
            Reject(commit, ConsensusRejectionCode.RoundTooFarAhead, $"round {_round} is current; COMMITs are kept up to {_parameters.FutureRoundWindow} rounds ahead");
            return;
        }

        if (commit.Seal.Suite == CryptoSuiteId.Eth && commit.Seal.V is not (27 or 28))
        {
            // The seal goes into the block's certificate, whose encoding allows v = 27 or 28 only (docs/receipts.md);
            // a gm seal has no v (SM2 carries the public key instead).
            Reject(commit, ConsensusRejectionCode.BadSeal, $"the seal has v = {commit.Seal.V}; seals carry v = 27 or 28");
            return;
        }

        var state = RoundAt(round);
        SignedDigest[] checks = [Signed(commit), new(_crypto.SealDigest(commit.BlockHash, commit.Height, round), commit.Seal, commit.Sender)];
        if (state.Commits.TryGetValue(commit.Sender, out var first))
        {
            RejectRepeat(commit, first.Payload == commit.Payload, checks);
            return;
        }

        if (!VerifyAll(checks, out var failure, out var failed))
        {
            Reject(commit, failed == 1 ? ConsensusRejectionCode.BadSeal : ConsensusRejectionCode.BadSignature, failure);
            return;
        }

        state.Commits[commit.Sender] = commit;
        Wake();
        TryDecide(round);
    }

    /// <summary>A second message of one kind from one sender in one round: a harmless copy, or (once verified) equivocation.</summary>
    private void RejectRepeat(ConsensusMessage message, bool same, SignedDigest[] checks)
    {
        if (same)
        {
            Reject(message, ConsensusRejectionCode.Duplicate, "already have it");
        }
        else if (VerifyAll(checks, out var failure))
        {
            Reject(message, ConsensusRejectionCode.Equivocation, $"{message.Sender} already sent a different {message.Kind} in round {message.Round}");
        }
        else
        {
            Reject(message, ConsensusRejectionCode.BadSignature, failure);
        }
    }

    /// <summary>A quorum of PREPAREs for the accepted proposal of the current round: prepared; COMMIT once.</summary>
    private void CheckPrepared()
    {
        if (_decided || !_rounds.TryGetValue(_round, out var state) || state.Proposal is not { } proposal || state.Commits.ContainsKey(Self))
        {
            return;
        }

        var matching = state.Prepares.Values.Where(p => p.BlockHash == proposal.BlockHash).ToList();
        if (matching.Count < _height!.Quorum)
        {
            return;
        }

        if (_lastPrepared is null || _lastPrepared.Round < _round)
        {
            matching.Sort((a, b) => a.Sender.CompareTo(b.Sender));
            _lastPrepared = new PreparedCertificate(_round, proposal.Block, [.. matching]);
            _journalDirty = true;
        }

        if (!_isValidator)
        {
            return;
        }

        var commit = ConsensusSigning.Commit(_crypto, _signer, _height.Height, _round, proposal.BlockHash);
        state.Commits[Self] = commit;
        _journalDirty = true;
        _output.Send(commit);
        TryDecide(_round);
    }

    /// <summary>A quorum of COMMITs for one block in one round decides the height; their seals are its certificate.</summary>
    private void TryDecide(int round)
    {
        if (_decided || !_rounds.TryGetValue(round, out var state) || state.Commits.Count < _height!.Quorum)
        {
            return;
        }

        foreach (var group in state.Commits.Values.GroupBy(c => c.BlockHash))
        {
            var commits = group.ToList();
            if (commits.Count < _height.Quorum)
            {
                continue;
            }

            var block = FindBlock(group.Key, state);
            if (block is null)
            {
                // A quorum committed a block this node never saw: it is decided; fetch it from a peer.
                ReportSync(_height.Height);
                continue;
            }

            commits.Sort((a, b) => a.Sender.CompareTo(b.Sender));
            var certificate = new CommitCertificate(_height.Height, round, group.Key, [.. commits.Select(c => c.Seal)]);
            _decided = true;
            _buildAt = null;
            _output.Decision = new ConsensusDecision(block, certificate);
            return;
        }
    }

    private ProposedBlock? FindBlock(in Hash256 hash, RoundState state)
    {
        if (state.Proposal is { } proposal && proposal.BlockHash == hash)
        {
            return proposal.Block;
        }

        if (_lastPrepared is { } prepared && prepared.Block.Hash == hash)
        {
            return prepared.Block;
        }

        foreach (var bySender in _roundChanges.Values)
        {
            foreach (var roundChange in bySender.Values)
            {
                if (roundChange.PreparedBlock is { } block && block.Hash == hash)
                {
                    return block;
                }
            }
        }

        return null;
    }

    private void BufferFutureMessage(ConsensusMessage message)
    {
        if (message is RoundChangeMessage { Payload.PreparedRound: < 0 })
        {
            Reject(message, ConsensusRejectionCode.BadRoundChange, "negative prepared round");
            return;
        }

        if (!VerifyAll([Signed(message)], out var failure))
        {
            Reject(message, ConsensusRejectionCode.BadSignature, failure);
            return;
        }

        // A validator works on a later height, so the heights before it are decided: catch up to them.
        ReportSync(message.Height - 1);
        var height = _height!;
        if (message.Height > height.Height + _parameters.FutureHeightWindow)
        {
            Reject(message, ConsensusRejectionCode.FutureBufferFull, $"height {message.Height} is more than {_parameters.FutureHeightWindow} ahead of {height.Height}");
            return;
        }

        if (!_future.TryAdd(message, height.ValidatorCount))
        {
            Reject(message, ConsensusRejectionCode.FutureBufferFull, $"{message.Sender} has used its share of the future-message buffer");
        }
    }

    private void ReplayFutureMessages()
    {
        foreach (var message in _future.TakeHeight(_height!.Height))
        {
            if (_decided)
            {
                break;
            }

            Dispatch(message);
        }
    }

    private SignedDigest Signed(ConsensusMessage message) => new(message.Digest(_crypto), message.Signature, message.Sender);

    private SignedDigest Signed(SignedRoundChange roundChange) => new(roundChange.Digest(_crypto), roundChange.Signature, roundChange.Sender);

    private bool VerifyAll(ReadOnlySpan<SignedDigest> items, out string failure) => VerifyAll(items, out failure, out _);

    /// <summary>Verifies a batch through the crypto seam (the node's batch verifier and its cache); names the first failure.</summary>
    private bool VerifyAll(ReadOnlySpan<SignedDigest> items, out string failure, out int failed)
    {
        if (items.Length == 1)
        {
            var check = _crypto.Verify(items[0]);
            failed = check == SignatureCheck.Ok ? -1 : 0;
            failure = check == SignatureCheck.Ok ? string.Empty : $"{check}: the signature is not by {items[0].ExpectedSigner}";
            return check == SignatureCheck.Ok;
        }

        var results = new SignatureCheck[items.Length];
        _crypto.Verify(items, results);
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i] != SignatureCheck.Ok)
            {
                failed = i;
                failure = $"signature {i} of {items.Length}: {results[i]}: not by {items[i].ExpectedSigner}";
                return false;
            }
        }

        failed = -1;
        failure = string.Empty;
        return true;
    }

    /// <summary>True when <paramref name="prepares"/> are a quorum of PREPAREs for exactly (height, round, block) by distinct validators.</summary>
    private bool IsPrepareQuorum(ImmutableArray<PrepareMessage> prepares, int round, in Hash256 blockHash, out string reason)
    {
        var height = _height!;
        if (prepares.Length < height.Quorum || prepares.Length > height.ValidatorCount)
        {
            reason = $"{prepares.Length} PREPAREs; a prepared certificate has {height.Quorum} to {height.ValidatorCount}";
            return false;
        }

        var senders = new HashSet<Address>();
        foreach (var prepare in prepares)
        {
            if (prepare.Height != height.Height || prepare.Round != round || prepare.BlockHash != blockHash)
            {
                reason = $"a PREPARE is for {prepare.Height}/{prepare.Round} {prepare.BlockHash}, not {height.Height}/{round} {blockHash}";
                return false;
            }

            if (!height.Validators.Contains(prepare.Sender) || !senders.Add(prepare.Sender))
            {
                reason = $"PREPARE by {prepare.Sender}: not a validator, or twice";
                return false;
            }
        }

        reason = string.Empty;
        return true;
    }
}
