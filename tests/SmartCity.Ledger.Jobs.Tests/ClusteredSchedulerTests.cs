using System.Collections.Concurrent;
using System.Diagnostics;
using SmartCity.Ledger.Storage.Postgres;
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
public sealed class ClusteredSchedulerTests(PostgresFixture postgres, ITestOutputHelper output) : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly string _directory = TempDirectory();
    private readonly List<Process> _children = [];

    public void Dispose()
    {
        foreach (var child in _children)
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
                child.WaitForExit();
            }

            child.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [PostgresFact]
    public async Task Each_fire_runs_once_in_the_cluster_and_when_the_instance_running_the_job_is_killed_the_other_takes_it_over()
    {
        var connectionString = PostgresFixture.ConnectionString!;
        await using (var store = await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = connectionString, Schema = postgres.Schema }, CancellationToken.None))
        {
            await using var node = await SoloNodeAsync(store);
            await CommitRecordsAsync(node, 2);
        }

        var lines = new ConcurrentQueue<string>();
        var arrived = new SemaphoreSlim(0);
        var schedulerName = $"smartcity-cluster-test-{Guid.NewGuid():N}";
        var token = Path.Combine(_directory, "hang.token");

        // One after the other: the first provisions Quartz's tables, both register the same job and trigger.
        var first = Start(connectionString, schemaName: postgres.Schema, schedulerName, token, lines, arrived);
        var firstId = (await WaitForAsync(lines, arrived, l => l[0] == "ready")).Parts[1];
        var second = Start(connectionString, schemaName: postgres.Schema, schedulerName, token, lines, arrived);
        var secondId = (await WaitForAsync(lines, arrived, l => l[0] == "ready" && l[1] != firstId)).Parts[1];
        var bothUp = (await WaitForAsync(lines, arrived, l => l[0] == "ready" && l[1] == secondId)).Index;

        // Both instances up: a few fires run in the cluster.
        await WaitForAsync(lines, arrived, l => l[0] == "done", after: bothUp, count: 3);
        await File.WriteAllTextAsync(token + ".armed", "both instances are up");

        // The first instance that starts a firing after finishing one of its own holds it until it is killed. While it
        // is alive and holds the job, the other instance does not run the job beside it.
        var hang = await WaitForAsync(lines, arrived, l => l[0] == "hang");
        var victimId = hang.Parts[1];
        var (victim, survivorId) = victimId == firstId ? (first, secondId) : (second, firstId);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.DoesNotContain(lines.Skip(hang.Index + 1), l => l.StartsWith($"start {survivorId} ", StringComparison.Ordinal));
        var killedAt = lines.Count - 1;
        victim.Kill(entireProcessTree: true);
        await victim.WaitForExitAsync(Deadline());

        // Killed (SIGKILL, holding the job): the survivor takes the job over and runs the next fires.
        await WaitForAsync(lines, arrived, l => l[0] == "done" && l[1] == survivorId, after: killedAt, count: 3, timeoutSeconds: 120);

        var all = lines.Select(l => l.Split(' ')).ToList();
        foreach (var line in lines)
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

    private Process Start(string connectionString, string schemaName, string schedulerName, string token, ConcurrentQueue<string> lines, SemaphoreSlim arrived)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])[ClusterHostPath(), connectionString, schemaName, schedulerName, "1000", token])
        {
            start.ArgumentList.Add(argument);
        }

        var child = Process.Start(start)!;
        _children.Add(child);
        child.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                lines.Enqueue(line);
                arrived.Release();
            }
        };
        child.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                lines.Enqueue("stderr " + line);
                arrived.Release();
            }
        };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for the <paramref name="count"/>-th line after index <paramref name="after"/> that matches.</summary>
    private static async Task<(string[] Parts, int Index)> WaitForAsync(ConcurrentQueue<string> lines, SemaphoreSlim arrived, Func<string[], bool> match, int after = -1, int count = 1, int timeoutSeconds = 90)
    {
        var deadline = Deadline(timeoutSeconds);
        while (true)
        {
            var seen = 0;
            var index = 0;
            foreach (var line in lines)
            {
                var parts = line.Split(' ');
                Assert.False(parts[0] == "stderr", $"a cluster host wrote to stderr: {line}");
                if (index > after && match(parts) && ++seen == count)
                {
                    return (parts, index);
                }

                index++;
            }

            try
            {
                await arrived.WaitAsync(deadline);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"no matching line within {timeoutSeconds} s; the cluster hosts wrote:\n{string.Join('\n', lines)}");
            }
        }
    }

    private static string ClusterHostPath()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var (framework, configuration, testsRoot) = (output.Name, output.Parent!.Name, output.Parent.Parent!.Parent!.Parent!.FullName);
        var path = Path.Combine(testsRoot, "SmartCity.Jobs.ClusterHost", "bin", configuration, framework, "SmartCity.Jobs.ClusterHost.dll");
        Assert.True(File.Exists(path), $"the cluster host is not built at {path}");
        return path;
    }
}
