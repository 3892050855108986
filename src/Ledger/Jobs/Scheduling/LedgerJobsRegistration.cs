using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace SmartCity.Ledger.Jobs.Scheduling;

/// <summary>Where the scheduler keeps its jobs and triggers.</summary>
/// <param name="PostgresConnectionString">Null: Quartz's RAM store (embedded node). Else Quartz's ADO.NET store on this database, clustered.</param>
/// <param name="Schema">The node's schema; the Quartz tables (<c>qrtz_*</c>) are created there if missing.</param>
/// <param name="CheckinInterval">Clustered store: how often this instance records that it is alive (null: Quartz's default, 7.5 s).</param>
/// <param name="CheckinMisfireThreshold">
/// Clustered store: how long past a missed check-in the other instances wait before treating this one as dead and
/// taking over its triggers and recovering its interrupted chain audit (null: Quartz's default, 7.5 s).
/// </param>
public sealed record JobStoreSettings(string? PostgresConnectionString = null, string Schema = "ledger", TimeSpan? CheckinInterval = null, TimeSpan? CheckinMisfireThreshold = null);

/// <summary>Registers Quartz.NET with the node's jobs on their configured schedules (docs/jobs.md).</summary>
public static class LedgerJobsRegistration
{
    /// <summary>
    /// Adds the scheduler (hosted: starts after the host has started, interrupts running jobs through their
    /// cancellation token and waits for them when the host stops) and the jobs that <paramref name="options"/> enables.
    /// </summary>
    /// <param name="services">The host's services; <see cref="IJobLedger"/> and <see cref="ILedgerPeerSource"/> must be registered.</param>
    /// <param name="options">The validated schedules.</param>
    /// <param name="schedulerName">Unique in the process; instances of one region's cluster share it (one per process).</param>
    /// <param name="store">RAM or clustered PostgreSQL.</param>
    public static IServiceCollection AddLedgerJobs(this IServiceCollection services, JobsOptions options, string schedulerName, JobStoreSettings store)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        services.AddSingleton(options);
        services.AddSingleton(options.ChainAudit);
        services.AddSingleton(options.Reconciliation);
        services.AddSingleton(options.CreditLifecycle);
        services.AddSingleton(options.Anchor ?? new Anchor.AnchorJobOptions { Enabled = false });
        services.AddSingleton<JobRuns>();
        services.AddSingleton(provider => new JobMetrics(provider.GetService<IMeterFactory>()));
        services.AddQuartz(quartz =>
        {
            quartz.ConfigureScheduler(scheduler =>
            {
                scheduler.InstanceName = schedulerName;
                scheduler.ShutdownJobInterruption = ShutdownJobInterruption.Always;
            });
            if (store.PostgresConnectionString is { } connectionString)
            {
                var npgsql = new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { SearchPath = store.Schema }.ConnectionString;
                quartz.UsePersistentStore(persistent =>
                {
                    persistent.UsePostgres(npgsql);

                    persistent.UseClustering(cluster =>
                    {
                        if (store.CheckinInterval is { } interval)
                        {
                            cluster.CheckinInterval = interval;
                        }

                        if (store.CheckinMisfireThreshold is { } threshold)
                        {
                            cluster.CheckinMisfireThreshold = threshold;
                        }
                    });
                    // Trigger acquisition under the cluster's TRIGGER_ACCESS row lock too (Quartz acquires a round of one
                    // trigger without it by default and only fires under it), so instances acquire one after the other,
                    // also while one joins and registers the jobs again (docs/jobs.md, "Clustered scheduling").
                    persistent.ConfigureStore(jobStore => jobStore.AcquireTriggersWithinLock = true);
                    persistent.ProvisionSchema();
                });
            }
            else
            {
                quartz.UseInMemoryStore(_ => { });
            }

            if (options.ChainAudit.Enabled)
            {
                // A missed audit is made up once, at once: it resumes from its checkpoint, so one run covers every missed one.
                quartz.ScheduleJob<ChainAuditJob>(
                    trigger => Schedule(trigger.WithIdentity(ChainAuditJob.JobName), options.ChainAudit, catchUpOnce: true),
                    // An audit interrupted by its instance dying may be run again by Quartz's recovery (harmless: it resumes from the checkpoint).
                    job => job.WithIdentity(ChainAuditJob.JobName).RequestRecovery().WithDescription("re-verifies this node's store from the audit checkpoint"));
            }

            if (options.Reconciliation.Enabled)
            {
                // A missed reconciliation is skipped to the next fire: after an outage this node is itself catching up,
                // and a comparison at the next regular time sees the settled heights.
                quartz.ScheduleJob<ReconciliationJob>(
                    trigger => Schedule(trigger.WithIdentity(ReconciliationJob.JobName), options.Reconciliation, catchUpOnce: false),
                    job => job.WithIdentity(ReconciliationJob.JobName).WithDescription("compares this node with its peers and its projections with its state tree"));
            }

            if (options.CreditLifecycle.Enabled)
            {
                // A missed run is made up once, at once: it evaluates against the clock now, so one run covers every missed one.
                quartz.ScheduleJob<CreditLifecycleJob>(
                    trigger => Schedule(trigger.WithIdentity(CreditLifecycleJob.JobName), options.CreditLifecycle, catchUpOnce: true),
                    job => job.WithIdentity(CreditLifecycleJob.JobName).WithDescription("notifies overdue objections, publication periods ending and ended, repair becoming possible"));
            }

            if (options.Anchor is { Enabled: true } anchor)
            {
                // A missed look is made up once, at once: one run anchors the newest certified head, so it covers every
                // missed one (catching up each would only find nothing to anchor). Needs AnchorJobServices (the host's).
                quartz.ScheduleJob<Anchor.AnchorJob>(
                    trigger => Schedule(trigger.WithIdentity(Anchor.AnchorJob.JobName), anchor, catchUpOnce: true),
                    job => job.WithIdentity(Anchor.AnchorJob.JobName).WithDescription("anchors this node's certified head on an EVM chain every N blocks"));
            }
        });
        services.AddQuartzHostedService(hosted =>
        {
            hosted.WaitForJobsToComplete = true;
            hosted.AwaitApplicationStarted = true;
        });
        return services;
    }

    /// <summary>Interval or cron trigger with the misfire policy chosen for the job.</summary>
    public static ITriggerConfigurator<TJob> Schedule<TJob>(ITriggerConfigurator<TJob> trigger, JobScheduleOptions schedule, bool catchUpOnce)
        where TJob : IJob
    {
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(schedule);
        return schedule.Cron is { } cron
            ? trigger.WithCronSchedule(cron, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(catchUpOnce ? CronTriggerMisfireInstruction.FireAndProceed : CronTriggerMisfireInstruction.DoNothing))
            : trigger.StartAt(DateTimeOffset.UtcNow + schedule.Interval).WithSimpleSchedule(s => s.WithInterval(schedule.Interval).RepeatForever()
                .WithMisfireInstruction(catchUpOnce ? SimpleTriggerMisfireInstruction.NowWithRemainingCount : SimpleTriggerMisfireInstruction.NextWithRemainingCount));
    }
}
