// Usage: ClusterHost <connection-string> <schema> <scheduler-name> <interval-ms> <hang-token-path>
// One instance of a clustered job scheduler: the node's own registration (AddLedgerJobs) on Quartz's clustered ADO.NET
// store in <schema>, running the chain audit over the PostgreSQL ledger store of that schema every <interval-ms>.
// Prints "ready <instance-id>" once started, then for every firing "start <instance-id> <job> <scheduled-fire-ticks>
// <fire-instance-id> <recovering> <clock-ticks>" before the job runs and "done <instance-id> <job>
// <scheduled-fire-ticks> <fire-instance-id> <outcome> <clock-ticks>" after it (a recovering firing prints the scheduled
// fire time of the firing it recovers; <clock-ticks> is this machine's UTC clock when the line is written, so the
// parent can order the runs of both processes), until the parent kills the process. Once the parent has created
// "<hang-token-path>.armed", the first instance of the cluster that starts a firing after having finished one of its
// own takes <hang-token-path> (created once, atomically, across the processes), prints "hang <instance-id> <job>
// <scheduled-fire-ticks>" and holds that firing until it is killed or until the parent creates
// "<hang-token-path>.release" (then it prints "released <instance-id> <job> <scheduled-fire-ticks>" and runs the job).
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quartz;
using SmartCity.Jobs.ClusterHost;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Jobs;
using SmartCity.Ledger.Jobs.Scheduling;
using SmartCity.Ledger.Jobs.State;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing.TestKit;

var (connectionString, schema, schedulerName) = (args[0], args[1], args[2]);
var interval = TimeSpan.FromMilliseconds(int.Parse(args[3], CultureInfo.InvariantCulture));
var hangToken = args[4];

await using var store = await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = connectionString, Schema = schema, MigrateOnOpen = false }, CancellationToken.None);
await using var state = await PostgresJobStateStore.OpenAsync(connectionString, schema, CancellationToken.None);
var genesis = GenesisBuilder.Sample.Value with { Validators = [GenesisBuilder.Sample.Value.Validators[0]] };

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Services.AddSingleton<IJobLedger>(new FixedLedger(new JobLedgerView(store, genesis, Secp256k1.Default, state)));
builder.Services.AddSingleton<ILedgerPeerSource>(new FixedPeerSource([]));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddLedgerJobs(
    new JobsOptions { ChainAudit = { Interval = interval }, Reconciliation = { Enabled = false } },
    schedulerName,
    new JobStoreSettings(connectionString, schema, CheckinInterval: TimeSpan.FromSeconds(1), CheckinMisfireThreshold: TimeSpan.FromSeconds(8)));
using var host = builder.Build();
await host.StartAsync();
var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
var instance = scheduler.SchedulerInstanceId;
scheduler.ListenerManager.AddJobListener(new FiringPrinter(instance, hangToken));
Console.Out.WriteLine($"ready {instance}");
await host.WaitForShutdownAsync();

namespace SmartCity.Jobs.ClusterHost
{
    internal sealed class FixedLedger(JobLedgerView view) : IJobLedger
    {
        public JobLedgerView? Current => view;
    }

    internal sealed class FiringPrinter(string instance, string hangToken) : IJobListener
    {
        private int _done;

        public string Name => "cluster-host-printer";

        public async ValueTask JobToBeExecuted(IJobExecutionContext context, CancellationToken cancellationToken = default)
        {
            Console.Out.WriteLine($"start {instance} {context.JobDetail.Key.Name} {Ticks(context)} {context.FireInstanceId} {context.Recovering} {DateTime.UtcNow.Ticks}");
            if (Volatile.Read(ref _done) > 0 && File.Exists(hangToken + ".armed") && TakeToken())
            {
                Console.Out.WriteLine($"hang {instance} {context.JobDetail.Key.Name} {Ticks(context)}");
                while (!File.Exists(hangToken + ".release"))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None).ConfigureAwait(false);
                }

                Console.Out.WriteLine($"released {instance} {context.JobDetail.Key.Name} {Ticks(context)}");
            }
        }

        public ValueTask JobExecutionVetoed(IJobExecutionContext context, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException, CancellationToken cancellationToken = default)
        {
            Console.Out.WriteLine($"done {instance} {context.JobDetail.Key.Name} {Ticks(context)} {context.FireInstanceId} {(jobException is null ? "ok" : "error")} {DateTime.UtcNow.Ticks}");
            Interlocked.Increment(ref _done);
            return ValueTask.CompletedTask;
        }

        private bool TakeToken()
        {
            try
            {
                using var token = new FileStream(hangToken, FileMode.CreateNew, FileAccess.Write);
                return true;
            }
            catch (IOException) when (File.Exists(hangToken))
            {
                return false;
            }
        }

        private static long Ticks(IJobExecutionContext context)
            => context.Recovering && context.MergedJobDataMap.TryGetValue(SchedulerConstants.FailedJobOriginalTriggerScheduledFireTime, out var original)
                ? long.Parse(Convert.ToString(original, CultureInfo.InvariantCulture)!, CultureInfo.InvariantCulture)
                : (context.ScheduledFireTimeUtc ?? context.FireTimeUtc).UtcTicks;
    }
}
