using System.Diagnostics;
using System.Text;

namespace SmartCity.CreditApi.Tests.Grpc.Infrastructure;

/// <summary>Runs a program to completion with a time limit; a program that overruns is killed by its PID.</summary>
internal static class ChildProcess
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit code {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
    }

    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (error) { error.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"{fileName} {string.Join(' ', start.ArgumentList)} did not finish within {timeout}.\nstdout:\n{output}\nstderr:\n{error}");
        }

        process.WaitForExit();
        lock (output)
        {
            lock (error)
            {
                return new Result(process.ExitCode, output.ToString(), error.ToString());
            }
        }
    }
}
