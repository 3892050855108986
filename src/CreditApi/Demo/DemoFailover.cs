using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node;

namespace SmartCity.CreditApi.Demo;

/// <summary>
/// The tour's failover step: one validator of the QBFT consortium stops (as a crash would: its node closes, its links
/// go silent), the other three — a quorum of 3 of 4 — commit the next block without it, then it starts again from its
/// store and consensus journal and catches up from its peers' certified blocks (each certificate checked against the
/// validator set, each block re-executed) before all four report one head and state root.
/// </summary>
internal static class DemoFailover
{
    private static readonly TimeSpan CatchUpLimit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Stops a validator that is not the round-0 proposer of the next height (so the tour needs no round change and
    /// prints the same blocks every run), commits <paramref name="transaction"/> with the other three, restarts it
    /// and waits until it has caught up. Returns the height committed without it.
    /// </summary>
    public static async Task<long> RunAsync(GenesisDocument genesis, InProcessConsortium consortium, SignedTransaction transaction, TextWriter o, CancellationToken cancellationToken)
    {
        var reference = consortium.Nodes[0].Node;
        var next = reference.Head.Height + 1;
        var proposer = reference.Head.Validators.ProposerFor(next, 0);
        var victim = consortium.Nodes.Select(n => n.Name).Reverse().First(name => genesis.Validators.First(v => v.Region == name).Address != proposer);

        await o.WriteLineAsync($"   the {victim} validator stops (as if its process were killed): three of four validators are still a quorum").ConfigureAwait(false);
        await consortium.StopAsync(victim).ConfigureAwait(false);
        var result = await consortium.SubmitAsync(TransactionCodec.Encode(transaction), waitForCommit: true, cancellationToken).ConfigureAwait(false);
        if (result.Outcome is not { State: TransactionState.Committed } outcome)
        {
            throw new InvalidOperationException($"the three remaining validators did not commit the transaction: {result.Code} {result.Reason} {result.Outcome?.Reason}");
        }

        await o.WriteLineAsync($"   {transaction.Kind} by {transaction.Signer.ToString()[..10]}… committed in block {outcome.Height} by {string.Join(", ", consortium.Nodes.Select(n => n.Name))} while {victim} is down").ConfigureAwait(false);

        var restarted = await consortium.RestartAsync(victim, cancellationToken).ConfigureAwait(false);
        await o.WriteLineAsync($"   {victim} starts again from its store and journal at head {restarted.Head.Height}; it fetches the certified block it missed from its peers, checks the certificate and re-executes it").ConfigureAwait(false);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(CatchUpLimit);
        var head = restarted.Head;
        try
        {
            while (head.Height < outcome.Height)
            {
                head = await head.NextAsync(limit.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"{victim} did not catch up to block {outcome.Height} within {CatchUpLimit.TotalSeconds:F0} s (head {restarted.Head.Height})");
        }

        await o.WriteLineAsync($"   {victim} caught up: head {head.Height} ({head.HeadHash})").ConfigureAwait(false);
        return outcome.Height;
    }

    /// <summary>The record the three validators commit while one is down (its ids through the chain's crypto suite).</summary>
    public static CreditRecordSubmit SecondRecord(CryptoSuite suite, string company, ulong decided) => new(
        suite.Hash("demo/penalty/3"u8),
        "uscc:" + company,
        RecordCategory.AdministrativePenalty,
        Severity.Minor,
        "110105",
        decided,
        3,
        "Administrative Penalty Law, art. 28",
        "",
        suite.Hash("demo/payload/3"u8));
}
