using System.Diagnostics;
using Quartz;

namespace SmartCity.Ledger.Jobs.Scheduling;

/// <summary>
/// What every ledger job shares: it runs only while the ledger is open, honours the cancellation token (the host
/// stopping), records its run (Status), its outcome and duration (metrics) and one log line; an unexpected failure is
/// logged and recorded, never thrown into the scheduler (the next fire runs as planned).
/// </summary>
public abstract class LedgerJob(IJobLedger ledger, JobRuns runs, JobMetrics metrics, ILogger logger, TimeProvider time) : IJob
{
    protected abstract string Name { get; }

    protected ILogger Logger => logger;

    protected JobMetrics Metrics => metrics;

    protected TimeProvider Time => time;

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = time.GetUtcNow();
        var clock = Stopwatch.StartNew();
        string outcome, summary;
        if (ledger.Current is not { } view)
        {
            JobsLog.LedgerNotOpen(logger, Name);
            (outcome, summary) = (JobOutcomes.Skipped, "the ledger is not open");
        }
        else
        {
            try
            {
                (outcome, summary) = await RunAsync(view, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                JobsLog.Cancelled(logger, Name);
                (outcome, summary) = (JobOutcomes.Cancelled, "cancelled: the node is stopping");
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                JobsLog.Failed(logger, Name, e.Message, e);
                (outcome, summary) = (JobOutcomes.Failed, e.Message);
            }
        }

        metrics.Run(Name, outcome, clock.Elapsed);
        JobsLog.Finished(logger, Name, outcome, clock.ElapsedMilliseconds, summary);
        runs.Record(new JobRun(Name, outcome, started, clock.Elapsed, summary, context.Scheduler.SchedulerInstanceId));
    }

    /// <summary>One run; returns the outcome (<see cref="JobOutcomes"/>) and a one-line summary.</summary>
    protected abstract Task<(string Outcome, string Summary)> RunAsync(JobLedgerView ledger, CancellationToken cancellationToken);
}
