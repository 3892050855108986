using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Jobs.Reconciliation;
using SmartCity.Ledger.Jobs.Scheduling;
using SmartCity.Ledger.Jobs.State;
using SmartCity.Ledger.Storage;
using static SmartCity.Ledger.Jobs.Tests.JobKit;

namespace SmartCity.Ledger.Jobs.Tests;

/// <summary>The jobs on Quartz in a generic host: scheduled runs, progress kept across a restart, cancellation on stop.</summary>
public sealed class SchedulerTests : IDisposable
{
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task The_scheduled_chain_audit_runs_and_after_a_restart_resumes_from_its_persisted_checkpoint()
    {
        var store = await EmbeddedStoreAsync(Path.Combine(_directory, "store"));
        await using var node = await SoloNodeAsync(store);
        await CommitRecordsAsync(node, 3);
        var options = new JobsOptions { ChainAudit = { Interval = TimeSpan.FromMilliseconds(200) }, Reconciliation = { Enabled = false } };

        var first = await FirstRunAsync(store, options, ChainAuditJob.JobName, []);
        await CommitRecordsAsync(node, 2, firstNonce: 3);
        var second = await FirstRunAsync(store, options, ChainAuditJob.JobName, []);

        Assert.Equal((JobOutcomes.Succeeded, "blocks 0..3 intact, 3 signatures verified, head 3"), (first.Outcome, first.Summary));
        Assert.Equal((JobOutcomes.Succeeded, "blocks 4..5 intact, 2 signatures verified, head 5"), (second.Outcome, second.Summary));
    }

    [Fact]
    public async Task Stopping_the_host_cancels_a_running_job_through_its_token()
    {
        var store = await EmbeddedStoreAsync(Path.Combine(_directory, "store"));
        await using var node = await SoloNodeAsync(store);
        var peer = new HangingPeer();
        var options = new JobsOptions { ChainAudit = { Enabled = false }, Reconciliation = { Interval = TimeSpan.FromMilliseconds(200) } };
        var runs = new JobRuns();
        using var host = Host(store, options, [peer], runs);
        var finished = new TaskCompletionSource<JobRun>(TaskCreationOptions.RunContinuationsAsynchronously);
        runs.Completed += run => finished.TrySetResult(run);

        await host.StartAsync(Deadline());
        await peer.Entered.Task.WaitAsync(Deadline());
        await host.StopAsync(Deadline());
        var run = await finished.Task.WaitAsync(Deadline());

        Assert.Equal((ReconciliationJob.JobName, JobOutcomes.Cancelled), (run.Job, run.Outcome));
    }

    private async Task<JobRun> FirstRunAsync(ILedgerStore store, JobsOptions options, string job, IReadOnlyList<ILedgerPeer> peers)
    {
        var runs = new JobRuns();
        var first = new TaskCompletionSource<JobRun>(TaskCreationOptions.RunContinuationsAsynchronously);
        runs.Completed += run =>
        {
            if (run.Job == job)
            {
                first.TrySetResult(run);
            }
        };
        using var host = Host(store, options, peers, runs);
        await host.StartAsync(Deadline());
        var result = await first.Task.WaitAsync(Deadline());
        await host.StopAsync(Deadline());
        return result;
    }

    private IHost Host(ILedgerStore store, JobsOptions options, IReadOnlyList<ILedgerPeer> peers, JobRuns runs)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IJobLedger>(new FixedLedger(new JobLedgerView(store, SoloGenesis, Secp256k1.Default, new FileJobStateStore(Path.Combine(_directory, "jobs")))));
        builder.Services.AddSingleton<ILedgerPeerSource>(new FixedPeerSource(peers));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddLedgerJobs(options, $"test-{Guid.NewGuid():N}", new JobStoreSettings());
        builder.Services.AddSingleton(runs);
        return builder.Build();
    }

    private sealed class FixedLedger(JobLedgerView view) : IJobLedger
    {
        public JobLedgerView? Current => view;
    }

    /// <summary>A peer that answers nothing until the caller gives up.</summary>
    private sealed class HangingPeer : ILedgerPeer
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => "hanging";

        public async ValueTask<long> GetHeadHeightAsync(CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return -1;
        }

        public ValueTask<PeerHeader?> GetHeaderAsync(long height, CancellationToken cancellationToken) => ValueTask.FromResult<PeerHeader?>(null);
    }
}
