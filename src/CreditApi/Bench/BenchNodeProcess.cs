using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SmartCity.CreditApi.Bench;

/// <summary>
/// One <c>smartcity node --config FILE</c> child process of the cluster benchmark: started from this very executable,
/// its address read from the <c>listening on</c> line, its CPU time read from <c>/proc</c>, stopped by its PID
/// (SIGTERM, then SIGKILL if it does not exit). Its standard error (the log) goes to <c>node-REGION.log</c> beside its config.
/// </summary>
internal sealed class BenchNodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _error = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StreamWriter _log;

    private BenchNodeProcess(Process process, string logPath)
    {
        _process = process;
        _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
    }

    /// <summary>
    /// The nodes run without tiered compilation unless this variable is set for the benchmark itself (then it is
    /// inherited as given): each method is compiled once, optimized, on its first call. With tiering, the measured part
    /// of a run that starts minutes after the nodes still paid for the re-compilation of hot methods (the ".NET Tiered
    /// Com" thread: 40-77 % of the nodes' CPU on the shared machine) and ran unoptimized code meanwhile — a warm-up
    /// cost a validator pays once in its life, not per transaction (docs/consensus.md, "Cluster benchmark").
    /// </summary>
    public const string TieredCompilationVariable = "DOTNET_TieredCompilation";

    public Uri Address { get; private set; } = null!;

    public int Id => _process.Id;

    /// <summary>The last lines the node wrote on standard error.</summary>
    public string ErrorTail
    {
        get
        {
            lock (_error)
            {
                var text = _error.ToString();
                return text.Length <= 2_000 ? text : text[^2_000..];
            }
        }
    }

    public static async Task<BenchNodeProcess> StartAsync(string configPath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (file, prefix) = SelfCommand();
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(configPath)!,
        };
        if (Environment.GetEnvironmentVariable(TieredCompilationVariable) is null)
        {
            start.Environment[TieredCompilationVariable] = "0";
        }

        foreach (var argument in prefix.Concat(["node", "--config", configPath, "--verbose"]))
        {
            start.ArgumentList.Add(argument);
        }

        var node = new BenchNodeProcess(new Process { StartInfo = start, EnableRaisingEvents = true }, Path.ChangeExtension(configPath, ".log"));
        node._process.OutputDataReceived += (_, e) =>
        {
            const string Listening = "listening on ";
            if (e.Data is { } line && line.StartsWith(Listening, StringComparison.Ordinal))
            {
                node._listening.TrySetResult(new Uri(line[Listening.Length..]));
            }
        };
        node._process.ErrorDataReceived += (_, e) =>
        {
            lock (node._error)
            {
                node._error.AppendLine(e.Data);
                node._log.WriteLine(e.Data);
                if (node._error.Length > 64_000)
                {
                    node._error.Remove(0, node._error.Length - 16_000);
                }
            }
        };
        node._process.Exited += (_, _) => node._listening.TrySetException(new BenchSetupException($"smartcity node --config {configPath} exited before it listened: {node.ErrorTail}"));
        node._process.Start();
        node._process.BeginOutputReadLine();
        node._process.BeginErrorReadLine();
        try
        {
            node.Address = await node._listening.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw new BenchSetupException($"smartcity node --config {configPath} did not listen within {timeout.TotalSeconds:F0} s: {node.ErrorTail}");
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return node;
    }

    /// <summary>This executable: the <c>smartcity</c> app host, or <c>dotnet smartcity.dll</c>.</summary>
    private static (string File, string[] Prefix) SelfCommand()
    {
        var exe = Environment.ProcessPath;
        if (exe is not null && Path.GetFileNameWithoutExtension(exe) == "smartcity")
        {
            return (exe, []);
        }

        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH")
            ?? (exe is not null && Path.GetFileNameWithoutExtension(exe) == "dotnet" ? exe : "dotnet");
        return (host, [Path.Combine(AppContext.BaseDirectory, "smartcity.dll")]);
    }

    /// <summary>User + system CPU time the process has used (from <c>/proc/PID/stat</c>; zero where there is no /proc).</summary>
    public TimeSpan Cpu() => ProcessCpu(_process.Id);

    public static TimeSpan ProcessCpu(int pid)
    {
        var path = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat";
        try
        {
            var text = File.ReadAllText(path);
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');

            // Fields 14 and 15 of stat (utime, stime), counted from the state field (3) after the command name.
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
        }
        catch (IOException)
        {
            return TimeSpan.Zero;
        }
        catch (UnauthorizedAccessException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>
    /// CPU time by kind of thread (<c>/proc/PID/task/*/stat</c>, the thread names with their numbers dropped: ".NET TP
    /// Worker", ".NET Server GC", ".NET Tiered Com", ".NET SocketEng", …), so the part of a node's CPU outside its
    /// pipeline stages can be told apart: thread pool (gRPC, peer links, consensus), garbage collector, JIT, sockets.
    /// Threads that ended are not counted; empty where there is no /proc.
    /// </summary>
    public Dictionary<string, TimeSpan> ThreadCpu() => ThreadCpu(_process.Id);

    public static Dictionary<string, TimeSpan> ThreadCpu(int pid)
    {
        var kinds = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        try
        {
            foreach (var task in System.IO.Directory.EnumerateDirectories($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task"))
            {
                string text;
                try
                {
                    text = File.ReadAllText(Path.Combine(task, "stat"));
                }
                catch (IOException)
                {
                    continue; // the thread ended meanwhile
                }

                var open = text.IndexOf('(', StringComparison.Ordinal);
                var close = text.LastIndexOf(')');
                if (open < 0 || close < open)
                {
                    continue;
                }

                var kind = ThreadKind(text[(open + 1)..close]);
                var fields = text[(close + 2)..].Split(' ');
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                kinds[kind] = kinds.GetValueOrDefault(kind) + TimeSpan.FromSeconds(ticks / 100.0);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return kinds;
    }

    /// <summary>A thread's name without its digits (".NET TP Worker", ".NET Server GC"); the main thread is "main".</summary>
    internal static string ThreadKind(string name)
    {
        var kind = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            if (!char.IsAsciiDigit(c))
            {
                kind.Append(c);
            }
        }

        var trimmed = kind.ToString().Trim();
        return trimmed is "smartcity" or "dotnet" ? "main" : trimmed.Length == 0 ? "other" : trimmed;
    }

    /// <summary>SIGTERM by PID and wait up to <paramref name="grace"/>; then SIGKILL.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }

        try
        {
            using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false });
            if (kill is not null)
            {
                await kill.WaitForExitAsync().ConfigureAwait(false);
            }

            using var limit = new CancellationTokenSource(grace);
            await _process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        }
        finally
        {
            _process.Dispose();
            lock (_error)
            {
                _log.Dispose();
            }
        }
    }
}
