using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Node.Consensus;

/// <summary>
/// Validators running in one process agree on each block the simple way, until QBFT replaces it: the proposer of the
/// height builds a block from its mempool, every other validator re-executes it and seals it only if it computes the
/// same header hash, and a quorum of seals is the certificate every node commits with. No rounds, timers or peers:
/// every member is honest and present, or the quorum counts the ones that are. Each node takes part through
/// <see cref="Member"/>, as it would with any <see cref="IConsensusEngine"/>; the first member to start coordinates.
/// </summary>
public sealed class InProcessQuorum(int members)
{
    private readonly List<(IConsensusHost Host, IBlockSealer Sealer)> _joined = [];
    private readonly TaskCompletionSource _allJoined = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();

    /// <summary>The engine for the node whose validator key <paramref name="sealer"/> holds.</summary>
    public IConsensusEngine Member(IBlockSealer sealer) => new MemberEngine(this, sealer);

    private async Task RunAsync(IConsensusHost host, IBlockSealer sealer, CancellationToken cancellationToken)
    {
        bool coordinator;
        lock (_gate)
        {
            coordinator = _joined.Count == 0;
            _joined.Add((host, sealer));
            if (_joined.Count == members)
            {
                _allJoined.TrySetResult();
            }
        }

        if (!coordinator)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            return;
        }

        await _allJoined.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            await AgreeOnNextBlockAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits until any member has work, then offers the height to the proposers of rounds 0, 1, … in turn until one of
    /// them builds a block (a proposer whose ready transactions all break the rules drops them and passes, as a round
    /// change would), and agrees on it. Rule-rejected transactions are dropped by each node when it builds, so every
    /// member gets its turn and none keeps them.
    /// </summary>
    private async Task AgreeOnNextBlockAsync(CancellationToken cancellationToken)
    {
        using (var anyWork = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var waits = _joined.Select(m => m.Host.WaitForWorkAsync(anyWork.Token)).ToList();
            await (await Task.WhenAny(waits).ConfigureAwait(false)).ConfigureAwait(false);
            await anyWork.CancelAsync().ConfigureAwait(false); // the other waits end here instead of piling up
            await Task.WhenAll(waits).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        }

        var head = _joined[0].Host.Head;
        var height = head.Height + 1;
        var validators = head.Validators;
        for (var round = 0; round < validators.Count; round++)
        {
            if (MemberProposing(validators, height, round) is not { } proposer)
            {
                continue; // that validator is not here: its round passes
            }

            var proposal = await proposer.Host.BuildProposalAsync(height, round, cancellationToken).ConfigureAwait(false);
            if (proposal is not null)
            {
                await AgreeAsync(proposer, proposal, validators, cancellationToken).ConfigureAwait(false);
                return;
            }
        }
    }

    private async Task AgreeAsync((IConsensusHost Host, IBlockSealer Sealer) proposer, BlockProposal proposal, ValidatorSet validators, CancellationToken cancellationToken)
    {
        var header = proposal.Header;
        var seals = await Task.WhenAll(_joined.Select(async member =>
        {
            if (member.Host != proposer.Host)
            {
                var validation = await member.Host.ValidateProposalAsync(proposal, cancellationToken).ConfigureAwait(false);
                if (!validation.IsValid || validation.ComputedHash != header.Hash)
                {
                    return (Signature?)null; // a validator seals only the header it computed itself
                }
            }

            return await member.Sealer.SealAsync(header, cancellationToken).ConfigureAwait(false);
        })).ConfigureAwait(false);

        var agreed = seals.OfType<Signature>().ToList();
        if (agreed.Count < validators.Quorum)
        {
            throw new InvalidOperationException($"block {header.Height}: only {agreed.Count} of {_joined.Count} validators computed header {header.Hash}; the quorum is {validators.Quorum}");
        }

        var certificate = CommitCertificate.FromSeals(proposer.Host.Curve, proposer.Host.DomainSeparator, header, agreed);
        var results = await Task.WhenAll(_joined.Select(m => m.Host.CommitAsync(proposal, certificate, CancellationToken.None))).ConfigureAwait(false);
        if (results.FirstOrDefault(r => !r.IsCommitted) is { } refused)
        {
            throw new InvalidOperationException($"block {header.Height} was refused by a validator: {refused}");
        }
    }

    /// <summary>The member that proposes (height, round), or null when that validator is not in this process.</summary>
    private (IConsensusHost Host, IBlockSealer Sealer)? MemberProposing(ValidatorSet validators, long height, int round)
    {
        var address = validators.ProposerFor(height, round);
        foreach (var member in _joined)
        {
            if (member.Sealer.Validator == address)
            {
                return member;
            }
        }

        return null;
    }

    private sealed class MemberEngine(InProcessQuorum quorum, IBlockSealer sealer) : IConsensusEngine
    {
        public Task RunAsync(IConsensusHost host, CancellationToken cancellationToken) => quorum.RunAsync(host, sealer, cancellationToken);
    }
}
