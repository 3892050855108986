using System.Diagnostics.Metrics;

namespace SmartCity.CreditApi.Node;

/// <summary>
/// The ledger's gauges (meter <see cref="MeterName"/>, from the host's <see cref="IMeterFactory"/>): head height,
/// transactions committed (the history size), mempool size, whether the node commits, the bytes of its tables outside the GC heap, signatures the node has
/// verified (its signature cache's entries). Read from the running node at each scrape.
/// </summary>
public sealed class LedgerMetrics : IDisposable
{
    public const string MeterName = "SmartCity.Ledger.Node";

    private readonly Meter _meter;

    public LedgerMetrics(IMeterFactory meters, LedgerRuntime ledger)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(ledger);
        _meter = meters.Create(MeterName);
        _meter.CreateObservableGauge("height", () => Read(ledger, n => n.Head.Header.Height), "{block}", "Height of the head");
        _meter.CreateObservableGauge("transactions", () => Read(ledger, n => n.Head.Header.HistorySize), "{transaction}", "Transactions committed (history tree size at the head)");
        _meter.CreateObservableGauge("mempool", () => Read(ledger, n => n.MempoolSize), "{transaction}", "Transactions waiting in the mempool");
        _meter.CreateObservableGauge("committing", () => Read(ledger, n => n.Head.Health == Ledger.Node.NodeHealth.Running ? 1 : 0), "{bool}", "1 while the node commits, 0 when it paused or stopped");
        _meter.CreateObservableGauge("native_tables", () => Ledger.Memory.NativeTableMemory.Bytes, "By", "Bytes of the node's tables outside the GC heap (state-node cache, the store's state-node locator and its change log; docs/node.md, \"Memory\")");
        _meter.CreateObservableCounter("stage_cpu", () => Stages(ledger), "s", "CPU time of each pipeline stage since the node opened (docs/node.md, NodeStage): where a transaction's cost goes");
    }

    private static IEnumerable<Measurement<double>> Stages(LedgerRuntime ledger)
    {
        Ledger.Node.NodeTimers timers;
        try
        {
            timers = ledger.Node.Timers;
        }
        catch (InvalidOperationException)
        {
            return [];
        }

        return Enum.GetValues<Ledger.Node.NodeStage>()
            .Select(stage => new Measurement<double>(timers.Cpu(stage).TotalSeconds, new KeyValuePair<string, object?>("stage", stage.ToString().ToLowerInvariant())))
            .ToList();
    }

    private static IEnumerable<Measurement<long>> Read(LedgerRuntime ledger, Func<Ledger.Node.LedgerNode, long> read)
    {
        try
        {
            return [new Measurement<long>(read(ledger.Node))];
        }
        catch (InvalidOperationException)
        {
            return []; // not open (starting or stopped): no sample rather than a false zero
        }
    }

    public void Dispose() => _meter.Dispose();
}
