using System.Diagnostics.Metrics;

namespace SmartCity.Ledger.Jobs;

/// <summary>
/// The jobs' instruments (meter <see cref="MeterName"/>; exported at <c>/metrics</c>, docs/jobs.md "Metrics"): runs by
/// job and outcome, run durations, blocks and signatures audited, divergences found, anchors sent.
/// </summary>
public sealed class JobMetrics : IDisposable
{
    public const string MeterName = "SmartCity.Ledger.Jobs";

    private readonly Meter _meter;
    private readonly Counter<long> _runs;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _auditedBlocks;
    private readonly Counter<long> _auditedSignatures;
    private readonly Counter<long> _divergences;
    private readonly Counter<long> _anchors;
    private readonly Counter<long> _notifications;
    private long _auditedHeight = -1;
    private long _anchoredHeight = -1;
    private long _anchorLag = -1;

    public JobMetrics(IMeterFactory? meters = null)
    {
        _meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        _runs = _meter.CreateCounter<long>("job.runs", "{run}", "Job runs by job and outcome (succeeded, found, failed, skipped, cancelled)");
        _duration = _meter.CreateHistogram<double>("job.duration", "s", "Job run duration by job");
        _auditedBlocks = _meter.CreateCounter<long>("audit.blocks", "{block}", "Blocks the chain audit found intact");
        _auditedSignatures = _meter.CreateCounter<long>("audit.signatures", "{signature}", "Transaction signatures the chain audit re-verified");
        _divergences = _meter.CreateCounter<long>("divergences", "{divergence}", "Divergences and damage found, by kind");
        _anchors = _meter.CreateCounter<long>("anchor.submissions", "{anchor}", "Checkpoint anchors by outcome (anchored, pending, refused, failed)");
        _notifications = _meter.CreateCounter<long>("lifecycle.notifications", "{notification}", "Credit lifecycle notifications written, by kind");
        _meter.CreateObservableGauge("audit.height", () => Interlocked.Read(ref _auditedHeight), "{block}", "Last block the chain audit found intact");
        _meter.CreateObservableGauge("anchor.height", () => Interlocked.Read(ref _anchoredHeight), "{block}", "Latest height anchored on the EVM chain");
        _meter.CreateObservableGauge("anchor.lag", () => Interlocked.Read(ref _anchorLag), "{block}", "Blocks certified since the latest anchored checkpoint, at the anchor job's last look");
    }

    public void Run(string job, string outcome, TimeSpan duration)
    {
        _runs.Add(1, new KeyValuePair<string, object?>("job", job), new KeyValuePair<string, object?>("outcome", outcome));
        _duration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("job", job));
    }

    public void Audited(long blocks, long signatures, long height)
    {
        _auditedBlocks.Add(blocks);
        _auditedSignatures.Add(signatures);
        Interlocked.Exchange(ref _auditedHeight, height);
    }

    public void Noted(string kind) => _notifications.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Diverged(string kind) => _divergences.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Anchor(string outcome, long? height = null)
    {
        _anchors.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        if (height is { } h)
        {
            Interlocked.Exchange(ref _anchoredHeight, h);
        }
    }

    /// <summary>The contract's latest checkpoint and this node's head, as the anchor job last saw them.</summary>
    public void AnchorHeights(long anchored, long head)
    {
        Interlocked.Exchange(ref _anchoredHeight, anchored);
        Interlocked.Exchange(ref _anchorLag, Math.Max(0, head - anchored));
    }

    public void Dispose() => _meter.Dispose();
}
