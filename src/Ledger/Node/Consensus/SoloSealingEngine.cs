using SmartCity.Ledger.Blocks;

namespace SmartCity.Ledger.Node.Consensus;

/// <summary>
/// The development mode (as Besu's dev mode or Ganache): a chain whose genesis names exactly one validator, and this
/// node holds its key. As soon as the mempool has work the node builds a block, seals it and commits it with a
/// one-seal certificate (the quorum of one); with no work it idles, so there are no empty blocks.
/// </summary>
public sealed class SoloSealingEngine(IBlockSealer sealer) : IConsensusEngine
{
    /// <summary>Why <paramref name="validators"/> cannot be certified by this engine with <paramref name="sealer"/>, or null.</summary>
    public static string? Misfit(ValidatorSet validators, IBlockSealer sealer)
    {
        ArgumentNullException.ThrowIfNull(validators);
        ArgumentNullException.ThrowIfNull(sealer);
        return validators.Count != 1
            ? $"a node seals its own blocks only when the genesis has exactly one validator; this one has {validators.Count} (they need the consensus engine)"
            : !validators.Contains(sealer.Validator)
                ? $"the validator key is {sealer.Validator}, but the genesis validator is {validators.Members[0]}"
                : null;
    }

    public async Task RunAsync(IConsensusHost host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (Misfit(host.Head.Validators, sealer) is { } misfit)
        {
            throw new InvalidOperationException(misfit);
        }

        while (true)
        {
            await host.WaitForWorkAsync(cancellationToken).ConfigureAwait(false);
            var proposal = await host.BuildProposalAsync(host.Head.Height + 1, 0, cancellationToken).ConfigureAwait(false);
            if (proposal is null)
            {
                continue; // everything ready was rejected by the rules, or the head moved
            }

            var started = NodeTimers.Start();
            var header = proposal.Header;
            var seal = await sealer.SealAsync(header, cancellationToken).ConfigureAwait(false);
            var certificate = new CommitCertificate(header.Height, header.Round, header.Hash, [seal]);
            (host as ITimedHost)?.Timers.Add(NodeStage.Certify, started);
            var result = await host.CommitAsync(proposal, certificate, CancellationToken.None).ConfigureAwait(false);
            if (!result.IsCommitted)
            {
                throw new InvalidOperationException($"own block {header.Height} was not committed: {result.Check}: {result.Reason}");
            }
        }
    }
}

/// <summary>A host whose pipeline timers an engine may add its own stage to.</summary>
internal interface ITimedHost
{
    NodeTimers Timers { get; }
}
