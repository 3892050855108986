using SmartCity.Testing;
using Xunit.Abstractions;
using static SmartCity.Ledger.Jobs.Tests.JobKit;

namespace SmartCity.Ledger.Jobs.Tests;

/// <summary>
/// Two instances of one region's scheduler, each its own process running the node's job registration on Quartz's
/// clustered ADO.NET store in one PostgreSQL schema (tests/SmartCity.Jobs.ClusterHost): a scheduled fire runs on one
/// of them only, never beside a run on the other, and when the instance running a job is killed (SIGKILL) the other
/// takes the job over.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusteredSchedulerTests(PostgresFixture postgres, ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    [PostgresFact]
    public async Task Each_fire_runs_once_in_the_cluster_and_when_the_instance_running_the_job_is_killed_the_other_takes_it_over()
    {
        var connectionString = PostgresFixture.ConnectionString!;
        await ClusterHosts.FillStoreAsync(connectionString, postgres.Schema);
        using var hosts = new ClusterHosts(connectionString, postgres.Schema);

        // One after the other: the first provisions Quartz's tables, both register the same job and trigger.
        var (first, firstId) = await hosts.StartAsync();
        var (second, secondId) = await hosts.StartAsync();
        var bothUp = hosts.LastIndex;

        // Both instances up: a few fires run in the cluster.
        await hosts.WaitForAsync(l => l[0] == "done", after: bothUp, count: 3);
        hosts.Arm();

        // The first instance that starts a firing after finishing one of its own holds it until it is killed. While it
        // is alive and holds the job, the other instance does not run the job beside it.
        var hang = await hosts.WaitForAsync(l => l[0] == "hang");
        var victimId = hang.Parts[1];
        var (victim, survivorId) = victimId == firstId ? (first, secondId) : (second, firstId);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.DoesNotContain(hosts.Lines.Skip(hang.Index + 1), l => l.StartsWith($"start {survivorId} ", StringComparison.Ordinal));
        var killedAt = hosts.LastIndex;
        victim.Kill(entireProcessTree: true);
        await victim.WaitForExitAsync(Deadline());

        // Killed (SIGKILL, holding the job): the survivor takes the job over and runs the next fires.
        await hosts.WaitForAsync(l => l[0] == "done" && l[1] == survivorId, after: killedAt, count: 3, timeoutSeconds: 120);

        var all = hosts.Parts;
        foreach (var line in hosts.Lines)
        {
            output.WriteLine(line);
        }

        var done = all.Where(p => p[0] == "done").ToList();
        Assert.All(done, p => Assert.Equal("ok", p[5]));
        // Every scheduled fire ran to completion exactly once in the cluster (the killed one too, on the survivor).
        Assert.Equal(done.Count, done.Select(p => (p[2], p[3])).Distinct().Count());
        Assert.DoesNotContain(all.Skip(killedAt + 1), p => p[1] == victimId);
        Assert.Contains(all.Take(hang.Index), p => p[0] == "done" && p[1] == victimId);
    }
}

/// <summary>The clustered-scheduling tests run one at a time (each runs two scheduler processes).</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection
{
    public const string Name = "clustered scheduler processes";
}
