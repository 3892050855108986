using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.Storage.Embedded;

namespace SmartCity.CreditApi.Bench;

/// <summary>CPU per transaction one node spends to verify (decode, EIP-712 id, signature) and apply (rules, state and history roots) it.</summary>
internal sealed record VerifyApplyResult(int Transactions, TimeSpan Decode, TimeSpan Verify, TimeSpan Build)
{
    public double VerifyMicroseconds => (Decode + Verify).TotalMicroseconds / Transactions;

    public double ApplyMicroseconds => Build.TotalMicroseconds / Transactions;

    public double PerTransactionMicroseconds => VerifyMicroseconds + ApplyMicroseconds;

    /// <summary>
    /// The cluster's ceiling: every validator verifies and applies every transaction, so <paramref name="validators"/>
    /// nodes sharing <paramref name="cores"/> cores commit at most cores ÷ validators ÷ (verify + apply) per second.
    /// </summary>
    public double Ceiling(int cores, int validators) => cores / (validators * PerTransactionMicroseconds / 1_000_000.0);
}

/// <summary>
/// Measures <see cref="VerifyApplyResult"/> in this process, on the benchmark's own genesis and load: a single-validator
/// node (it seals its own blocks) on a temporary embedded store, fed <c>count</c> fresh transactions, measured by the
/// node's stage timers (thread CPU time) after a warm-up quarter. Run before the cluster starts, so nothing else of
/// the benchmark competes with it.
/// </summary>
internal static class VerifyApplyCost
{
    public static async Task<VerifyApplyResult> MeasureAsync(GenesisDocument clusterGenesis, BenchLoad load, int count, CancellationToken cancellationToken)
    {
        using var validator = InMemorySigner.Generate();
        var genesis = clusterGenesis with { Validators = [new GenesisValidator(validator.Address, "bench-ceiling", "BJ")] };
        var directory = Directory.CreateTempSubdirectory("smartcity-bench-ceiling-").FullName;
        try
        {
            var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = directory }, cancellationToken).ConfigureAwait(false);
            var anchor = TrustAnchor.FromGenesis(genesis);
            await using var node = await LedgerNode.OpenAsync(
                new LedgerNodeSetup
                {
                    Genesis = genesis,
                    Store = store,
                    Consensus = new SoloSealingEngine(new SignerBlockSealer(validator, anchor.DomainSeparator)),
                    Options = new LedgerNodeOptions { MempoolCapacity = Math.Max(10_000, count * 2), MaxTransactionsPerSigner = Math.Max(10_000, count) },
                },
                cancellationToken).ConfigureAwait(false);

            // This node's chain is its own: each client's nonces start at 0 here, whatever the cluster has committed.
            var perClient = (count + load.Clients - 1) / load.Clients;
            var transactions = new List<byte[]>(perClient * load.Clients);
            for (var n = 0; n < perClient; n++)
            {
                for (var c = 0; c < load.Clients; c++)
                {
                    transactions.Add(load.Transaction(c, (ulong)n).Bytes);
                }
            }

            var warmup = transactions.Count / 4;
            await SubmitAndWaitAsync(node, transactions[..warmup], cancellationToken).ConfigureAwait(false);
            node.Timers.Reset();
            await SubmitAndWaitAsync(node, transactions[warmup..], cancellationToken).ConfigureAwait(false);
            var t = node.Timers;
            return new VerifyApplyResult(transactions.Count - warmup, t.Cpu(NodeStage.Decode), t.Cpu(NodeStage.Verify), t.Cpu(NodeStage.Build));
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task SubmitAndWaitAsync(LedgerNode node, List<byte[]> transactions, CancellationToken cancellationToken)
    {
        var target = node.Head.Header.HistorySize + transactions.Count;
        foreach (var bytes in transactions)
        {
            while (true)
            {
                var result = await node.SubmitAsync(bytes, waitForCommit: false, cancellationToken).ConfigureAwait(false);
                if (result.IsAccepted)
                {
                    break;
                }

                if (result.Code is not (AdmissionCode.MempoolFull or AdmissionCode.SignerQueueFull))
                {
                    throw new BenchSetupException($"the ceiling measurement's node refused a benchmark transaction: {result.Code} {result.Reason}");
                }

                await Task.Delay(5, cancellationToken).ConfigureAwait(false);
            }
        }

        var from = node.Head.Header.Height + 1;
        if (node.Head.Header.HistorySize >= target)
        {
            return;
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromMinutes(10));
        await foreach (var block in node.WatchAsync(from, limit.Token).ConfigureAwait(false))
        {
            if (block.Header.HistorySize >= target)
            {
                return;
            }
        }
    }
}
