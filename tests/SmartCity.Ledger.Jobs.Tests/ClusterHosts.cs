using System.Collections.Concurrent;
using System.Diagnostics;
using SmartCity.Ledger.Storage.Postgres;
using static SmartCity.Ledger.Jobs.Tests.JobKit;

namespace SmartCity.Ledger.Jobs.Tests;

/// <summary>
/// The cluster-host processes of one clustered-scheduling test (tests/SmartCity.Jobs.ClusterHost): starts them on one
/// PostgreSQL schema and scheduler name, collects the lines they print (in arrival order, as split words) and kills
/// whatever is still running when disposed.
/// </summary>
internal sealed class ClusterHosts : IDisposable
{
    private readonly List<Process> _children = [];
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly string _connectionString;
    private readonly string _schema;
    private readonly string _directory = TempDirectory();

    public ClusterHosts(string connectionString, string schema)
    {
        (_connectionString, _schema) = (connectionString, schema);
        HangToken = Path.Combine(_directory, "hang.token");
    }

    /// <summary>The hold token: <c>.armed</c> next to it lets an instance hold a firing, <c>.release</c> ends the hold.</summary>
    public string HangToken { get; }

    public string SchedulerName { get; } = $"smartcity-cluster-test-{Guid.NewGuid():N}";

    /// <summary>Index of the last line received so far.</summary>
    public int LastIndex => _lines.Count - 1;

    public IReadOnlyList<string> Lines => [.. _lines];

    public IReadOnlyList<string[]> Parts => [.. _lines.Select(l => l.Split(' '))];

    public void Arm() => File.WriteAllText(HangToken + ".armed", "armed");

    public void Release() => File.WriteAllText(HangToken + ".release", "released");

    /// <summary>Starts one instance (chain audit every second) and returns its process and its instance id once it is ready.</summary>
    public async Task<(Process Process, string InstanceId)> StartAsync()
    {
        var readyBefore = _lines.Count(l => l.StartsWith("ready ", StringComparison.Ordinal));
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])[ClusterHostPath(), _connectionString, _schema, SchedulerName, "1000", HangToken])
        {
            start.ArgumentList.Add(argument);
        }

        var child = Process.Start(start)!;
        _children.Add(child);
        child.OutputDataReceived += (_, e) => Receive(e.Data, string.Empty);
        child.ErrorDataReceived += (_, e) => Receive(e.Data, "stderr ");
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        var ready = await WaitForAsync(l => l[0] == "ready", count: readyBefore + 1);
        return (child, ready.Parts[1]);
    }

    /// <summary>Waits for the <paramref name="count"/>-th line after index <paramref name="after"/> that matches.</summary>
    public async Task<(string[] Parts, int Index)> WaitForAsync(Func<string[], bool> match, int after = -1, int count = 1, int timeoutSeconds = 90)
    {
        var deadline = Deadline(timeoutSeconds);
        while (true)
        {
            var seen = 0;
            var index = 0;
            foreach (var line in _lines)
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
                await _arrived.WaitAsync(deadline);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"no matching line within {timeoutSeconds} s; the cluster hosts wrote:\n{string.Join('\n', _lines)}");
            }
        }
    }

    /// <summary>Commits two credit records to the PostgreSQL ledger store in <paramref name="schema"/>, for the chain audit to check.</summary>
    public static async Task FillStoreAsync(string connectionString, string schema)
    {
        await using var store = await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = connectionString, Schema = schema }, CancellationToken.None);
        await using var node = await SoloNodeAsync(store);
        await CommitRecordsAsync(node, 2);
    }

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

        _arrived.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private void Receive(string? data, string prefix)
    {
        if (data is { Length: > 0 } line)
        {
            _lines.Enqueue(prefix + line);
            _arrived.Release();
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
