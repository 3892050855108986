using System.Globalization;
using SmartCity.Testing;
using Xunit.Abstractions;

namespace SmartCity.Ledger.Jobs.Tests;

/// <summary>
/// An instance joining a region's cluster (tests/SmartCity.Jobs.ClusterHost, as in <see cref="ClusteredSchedulerTests"/>)
/// while the other instance runs the job (docs/jobs.md, "Clustered scheduling").
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterJoinTests(PostgresFixture postgres, ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    /// <summary>
    /// An instance joining the cluster (its start-up registers the job and trigger again, replacing the stored ones)
    /// while the other runs the job: no instance starts the job beside the running one, and every scheduled fire runs
    /// once. Lines: "start|done INSTANCE JOB SCHEDULED-TICKS FIRE-ID RECOVERING|OUTCOME CLOCK-TICKS".
    /// </summary>
    [PostgresFact]
    public async Task An_instance_joining_while_the_other_runs_the_job_never_runs_it_beside_the_running_one()
    {
        var connectionString = PostgresFixture.ConnectionString!;
        await ClusterHosts.FillStoreAsync(connectionString, postgres.Schema);
        using var hosts = new ClusterHosts(connectionString, postgres.Schema);

        // The first instance alone: it finishes a run, then holds its next one.
        hosts.Arm();
        var (_, firstId) = await hosts.StartAsync();
        var hang = await hosts.WaitForAsync(l => l[0] == "hang");
        Assert.Equal(firstId, hang.Parts[1]);

        // The second instance joins while the first holds the job; a fire is due every second, so the joiner has
        // several chances to start the job while the hold lasts.
        var (_, secondId) = await hosts.StartAsync();
        var joined = hosts.LastIndex;
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.DoesNotContain(hosts.Parts.Skip(hang.Index + 1), p => p[0] == "start");

        // Released: the held run completes, and the cluster runs the next fires.
        hosts.Release();
        var released = await hosts.WaitForAsync(l => l[0] == "done" && l[1] == firstId, after: joined);
        await hosts.WaitForAsync(l => l[0] == "done", after: released.Index, count: 8);

        var all = hosts.Parts;
        foreach (var line in hosts.Lines)
        {
            output.WriteLine(line);
        }

        // The join did re-register the trigger while the job was held: the fires after the hold follow the joiner's
        // new schedule, off the first instance's one-second grid.
        var firstAfter = all.Skip(released.Index + 1).First(p => p[0] == "start");
        Assert.NotEqual(0, (long.Parse(firstAfter[3], CultureInfo.InvariantCulture) - long.Parse(hang.Parts[3], CultureInfo.InvariantCulture)) % TimeSpan.TicksPerSecond);

        var done = all.Where(p => p[0] == "done").ToList();
        Assert.All(done, p => Assert.Equal("ok", p[5]));
        Assert.DoesNotContain(all, p => p[0] == "start" && p[5] != "False");
        // Every scheduled fire ran once in the cluster: no scheduled fire time and no firing ran twice.
        Assert.Equal(done.Count, done.Select(p => p[3]).Distinct().Count());
        Assert.Equal(done.Count, done.Select(p => p[4]).Distinct().Count());
        // No two runs overlapped, on either instance: ordered by their start on this machine's clock, each starts after
        // the previous one ended.
        var runs = all.Where(p => p[0] == "start")
            .Select(s => (Instance: s[1], Fire: s[4], Start: long.Parse(s[6], CultureInfo.InvariantCulture), End: done.Where(d => d[4] == s[4]).Select(d => long.Parse(d[6], CultureInfo.InvariantCulture)).DefaultIfEmpty(long.MaxValue).Single()))
            .OrderBy(r => r.Start)
            .ToList();
        foreach (var (previous, next) in runs.Zip(runs.Skip(1)))
        {
            Assert.True(next.Start >= previous.End, $"firing {next.Fire} on {next.Instance} started while {previous.Fire} on {previous.Instance} ran");
        }

        output.WriteLine($"runs: {runs.Count}, on the joiner {secondId}: {runs.Count(r => r.Instance == secondId)}");
    }
}
