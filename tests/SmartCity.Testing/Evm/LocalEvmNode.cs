using System.Diagnostics;
using System.Text.Json;

namespace SmartCity.Testing.Evm;

/// <summary>
/// A local EVM node (ganache, pinned in <c>contracts/solidity/package-lock.json</c>) started for a test on a free
/// loopback port the OS hands out, with ganache's deterministic accounts, and stopped by its process id. It is
/// installed by <c>scripts/test.sh</c> (<c>npm ci</c> in <c>contracts/solidity</c>); nothing is downloaded at run time.
/// The node also exits by itself when its standard input closes, so it never outlives a crashed test host.
/// </summary>
public sealed class LocalEvmNode : IAsyncDisposable
{
    private readonly Process _process;

    private LocalEvmNode(Process process, Uri rpcUrl, ulong chainId, string hardfork, IReadOnlyList<LocalEvmAccount> accounts)
    {
        _process = process;
        RpcUrl = rpcUrl;
        ChainId = chainId;
        Hardfork = hardfork;
        Accounts = accounts;
    }

    public static string Script => RepositoryFiles.PathOf("contracts/solidity/local-evm.js");

    /// <summary>Why the node cannot start here (no node on PATH, ganache not installed), or null when it can.</summary>
    public static string? Unavailable
    {
        get
        {
            if (!Directory.Exists(RepositoryFiles.PathOf("contracts/solidity/node_modules/ganache")))
            {
                return "ganache is not installed: run `npm ci` in contracts/solidity (scripts/test.sh does)";
            }

            return FindNode() is null ? "node is not on PATH (scripts/test.sh installs it)" : null;
        }
    }

    public Uri RpcUrl { get; }

    public ulong ChainId { get; }

    public string Hardfork { get; }

    /// <summary>Funded accounts with public test keys (ganache's documented deterministic mnemonic).</summary>
    public IReadOnlyList<LocalEvmAccount> Accounts { get; }

    public int ProcessId => _process.Id;

    /// <summary>
    /// Starts a node; <paramref name="hardfork"/> <c>berlin</c> gives a chain without EIP-1559. Ganache cannot listen on
    /// port 0, so the port is one the OS just handed out as free (bound to port 0 and released); if another process
    /// takes it in between, the script exits with code 3 and the start is retried on a new port.
    /// </summary>
    public static async Task<LocalEvmNode> StartAsync(string hardfork = "shanghai", ulong chainId = 1337, CancellationToken cancellationToken = default)
    {
        if (Unavailable is { } reason)
        {
            throw new InvalidOperationException(reason);
        }

        const int attempts = 5;
        for (var attempt = 1; ; attempt++)
        {
            var started = await TryStartAsync(FreeLoopbackPort(), hardfork, chainId, cancellationToken).ConfigureAwait(false);
            if (started is not null || attempt == attempts)
            {
                return started ?? throw new InvalidOperationException($"the local EVM node found its port taken {attempts} times in a row");
            }
        }
    }

    /// <summary>A loopback TCP port that was free a moment ago: the OS picks it for a socket bound to port 0.</summary>
    public static int FreeLoopbackPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>The started node, or null when its port was taken meanwhile (exit code 3).</summary>
    private static async Task<LocalEvmNode?> TryStartAsync(int port, string hardfork, ulong chainId, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(FindNode()!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        foreach (var arg in new[] { Script, "--port", port.ToString(invariant), "--chain-id", chainId.ToString(invariant), "--hardfork", hardfork, "--accounts", "4" })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(120));
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            if (line is null)
            {
                var error = await process.StandardError.ReadToEndAsync(timeout.Token).ConfigureAwait(false);
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                if (process.ExitCode == 3)
                {
                    process.Dispose();
                    return null;
                }

                throw new InvalidOperationException($"the local EVM node exited ({process.ExitCode}) before listening: {error.Trim()}");
            }

            using var ready = JsonDocument.Parse(line);
            var root = ready.RootElement;
            var accounts = root.GetProperty("accounts").EnumerateArray()
                .Select(a => new LocalEvmAccount(a.GetProperty("address").GetString()!, Convert.FromHexString(a.GetProperty("privateKey").GetString()![2..])))
                .ToList();
            _ = DrainAsync(process.StandardError);
            return new LocalEvmNode(process, new Uri(root.GetProperty("rpc").GetString()!), root.GetProperty("chainId").GetUInt64(), root.GetProperty("hardfork").GetString()!, accounts);
        }
        catch
        {
            Stop(process);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Mines <paramref name="blocks"/> empty blocks (ganache's <c>evm_mine</c>), e.g. to bury a transaction.</summary>
    public async Task MineAsync(int blocks, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient();
        for (var i = 0; i < blocks; i++)
        {
            using var content = new StringContent("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"evm_mine\",\"params\":[]}", System.Text.Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(RpcUrl, content, cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            Stop(_process);
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>Ends the node by its process id (never by name: other engineers run ganache on this machine too).</summary>
    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static async Task DrainAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is not null)
            {
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
    }

    private static string? FindNode()
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "node"))
            .FirstOrDefault(File.Exists);
}

/// <summary>A funded account of the local node with its (public, test-only) private key.</summary>
public sealed record LocalEvmAccount(string Address, byte[] PrivateKey);

/// <summary>
/// A fact that needs the local EVM node. Outside CI a developer without node/ganache sees it skipped with the reason;
/// with <c>CI=true</c> it is never skipped, so a missing install fails the run instead of hiding the tests.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class EvmFactAttribute : FactAttribute
{
    public EvmFactAttribute()
    {
        if (LocalEvmNode.Unavailable is { } reason && !PostgresFixture.IsCi)
        {
            Skip = reason;
        }
    }
}

/// <summary>One local EVM node for a test class (<c>IClassFixture&lt;LocalEvmFixture&gt;</c>), started lazily by the first test.</summary>
public sealed class LocalEvmFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private LocalEvmNode? _node;

    public async Task<LocalEvmNode> NodeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            return _node ??= await LocalEvmNode.StartAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync().ConfigureAwait(false);
        }

        _gate.Dispose();
    }
}
