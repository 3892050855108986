using System.Diagnostics;
using System.Text;
using Grpc.Net.Client;
using SmartCity.Contracts.Node.V1;

namespace SmartCity.CreditApi.Tests.Grpc.Infrastructure;

/// <summary>
/// The real <c>smartcity node</c> executable as a child process on 127.0.0.1 port 0; its address is read from
/// the <c>listening on</c> line it prints. Stopped with SIGTERM (by PID), killed by PID if it does not exit.
/// </summary>
public sealed class NodeProcess : IAsyncLifetime, IAsyncDisposable
{
    public const string Region = "XA";
    public const string NodeId = "xa-process";
    public const int MaxReceiveMessageSize = 64 * 1024;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120); // a deadline for the "listening on" line, generous for a loaded machine
    private readonly StringBuilder _error = new();
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string? _configPath;
    private readonly string[] _extraArguments;
    private Process? _process;
    private GrpcChannel? _channel;
    private LedgerSetup? _ownSetup;

    /// <summary>A node of its own single-validator setup (region <see cref="Region"/>), made at start and deleted at the end.</summary>
    public NodeProcess()
        : this(null)
    {
    }

    /// <summary>A node of an existing config (e.g. restarted on the same data directory); options override the file.</summary>
    internal NodeProcess(string? configPath, params string[] extraArguments)
    {
        _configPath = configPath;
        _extraArguments = extraArguments;
    }

    public Uri Address { get; private set; } = null!;

    public string Target => $"{Address.Host}:{Address.Port}";

    public NodeService.NodeServiceClient Client => new(_channel ?? throw new InvalidOperationException("Not started."));

    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    /// <summary>Listen where the config says and keep its node id (a consortium's nodes dial each other at fixed ports).</summary>
    internal bool UseConfigListen { get; init; }

    /// <summary>The setup this process made for itself (the parameterless constructor).</summary>
    public LedgerSetup Ledger => _ownSetup ?? throw new InvalidOperationException("this node runs a config it was given");

    /// <summary>What the process printed on standard output so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    public async Task InitializeAsync()
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (_configPath is null)
        {
            _ownSetup = await LedgerSetup.CreateAsync(Region);
        }

        string[] arguments = UseConfigListen
            ? [Path.Combine(AppContext.BaseDirectory, "smartcity.dll"), "node", "--config", _configPath!]
            : [Path.Combine(AppContext.BaseDirectory, "smartcity.dll"), "node", "--config", _configPath ?? _ownSetup!.ConfigPath, "--listen", "127.0.0.1:0", "--node-id", NodeId, "--max-message-bytes", $"{MaxReceiveMessageSize}"];
        foreach (var argument in arguments.Concat(_extraArguments))
        {
            start.ArgumentList.Add(argument);
        }

        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) =>
        {
            const string prefix = "listening on ";
            if (e.Data is { } printed)
            {
                lock (_output)
                {
                    _output.AppendLine(printed);
                }
            }

            if (e.Data is { } line && line.StartsWith(prefix, StringComparison.Ordinal))
            {
                _listening.TrySetResult(new Uri(line[prefix.Length..]));
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_error)
            {
                _error.AppendLine(e.Data);
            }
        };
        _process.Exited += (_, _) => _listening.TrySetException(new InvalidOperationException($"smartcity node exited before listening: {Error}"));
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        Address = await _listening.Task.WaitAsync(StartTimeout);
        _channel = GrpcChannel.ForAddress(Address);
    }

    /// <summary>Sends a signal (by PID) to the process.</summary>
    public async Task SendSignalAsync(string signal)
    {
        var process = _process ?? throw new InvalidOperationException("Not started.");
        var kill = await ChildProcess.RunAsync("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], AppContext.BaseDirectory, TimeSpan.FromSeconds(10));
        Assert.True(kill.ExitCode == 0, $"kill -{signal} {process.Id} failed: {kill}");
    }

    /// <summary>Sends SIGTERM (or <paramref name="signal"/>) to the process and waits for it to exit; returns its exit code.</summary>
    public async Task<int> StopAsync(string signal = "TERM")
    {
        var process = _process ?? throw new InvalidOperationException("Not started.");
        if (!process.HasExited)
        {
            await SendSignalAsync(signal);
        }

        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"smartcity node (PID {process.Id}) did not stop within 15 s of SIG{signal}: {Error}");
        }

        return process.ExitCode;
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_process is null)
        {
            if (_ownSetup is not null)
            {
                await _ownSetup.DisposeAsync();
            }

            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                await StopAsync();
            }
        }
        finally
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
            if (_ownSetup is not null)
            {
                await _ownSetup.DisposeAsync();
            }
        }
    }
}
