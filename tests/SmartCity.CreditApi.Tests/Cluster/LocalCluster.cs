using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Bench;
using SmartCity.CreditApi.Node;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Keys;
using SmartCity.Testing;

namespace SmartCity.CreditApi.Tests.Cluster;

/// <summary>
/// Four real <c>smartcity node</c> processes on 127.0.0.1 — BJ, TJ, HE and XA of one <c>smartcity init --regions
/// BJ,TJ,HE,XA</c> setup in a temporary directory — that dial each other and agree by QBFT. Ports are taken free from
/// the OS just before the configs are written (a consortium's nodes need each other's ports up front); if another
/// program takes one first, the whole cluster is set up again on new ports. Every process is stopped by its PID. The
/// chain's crypto suite is a parameter: eth (the default) or gm (<c>init --crypto gm</c>: SM2 keystores, SM3, 128-byte
/// seals and QBFT signatures).
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    public static readonly string[] Regions = ["BJ", "TJ", "HE", "XA"];

    private readonly NodeProcess?[] _nodes = new NodeProcess?[Regions.Length + 1];
    private readonly GrpcChannel?[] _channels = new GrpcChannel?[Regions.Length + 1];
    private readonly Dictionary<int, KeySigner> _keys = [];

    private LocalCluster(string directory, LocalSetupResult setup, GenesisDocument genesis, JoinedValidator? joined)
    {
        Directory = directory;
        Setup = setup;
        Genesis = genesis;
        Suite = genesis.Crypto.CreateSuite();
        Joined = joined;
    }

    /// <summary>A fifth validator, not in the genesis (<c>init --join</c>), node 4: none unless the cluster was started with one.</summary>
    public JoinedValidator? Joined { get; }

    /// <summary>Node <paramref name="node"/>'s name: its region, or the joined validator's name.</summary>
    public string Name(int node) => node < Regions.Length ? Regions[node] : Joined!.Name;

    public string Directory { get; }

    public LocalSetupResult Setup { get; }

    public GenesisDocument Genesis { get; }

    /// <summary>The chain's crypto suite (genesis <c>"crypto"</c>): its hash, signatures and seals.</summary>
    public CryptoSuite Suite { get; }

    /// <summary>The nodes: the four genesis validators, and the joined one (node 4) when there is one.</summary>
    public int Count => Regions.Length + (Joined is null ? 0 : 1);

    /// <summary>
    /// Writes the setup (of the crypto suite <paramref name="suite"/>, eth by default) and starts the nodes in
    /// <paramref name="start"/> (default: all four), retrying on a port taken meanwhile. With <paramref name="join"/>,
    /// a fifth validator of that region is added with <c>init --join</c> (not started; the four name it in their peers,
    /// and dial it once it is voted in).
    /// </summary>
    public static async Task<LocalCluster> StartAsync(IReadOnlyList<int>? start = null, CryptoSuiteId suite = CryptoSuiteId.Eth, string? join = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var cluster = await CreateAsync(suite, join);
            try
            {
                await Task.WhenAll((start ?? [0, 1, 2, 3]).Select(cluster.StartNodeAsync));
                return cluster;
            }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("cannot listen", StringComparison.Ordinal))
            {
                await cluster.DisposeAsync();
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }
    }

    private static async Task<LocalCluster> CreateAsync(CryptoSuiteId suite, string? join)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("smartcity-cluster-").FullName;
        var setup = await LocalSetup.WriteAsync(directory, RepositoryFiles.Read("contracts/genesis/sample-genesis.json"), Regions, 40_000, null, suite, TimeProvider.System, CancellationToken.None);
        var ports = ClusterBench.FreePorts(Regions.Length + 1);
        for (var i = 0; i < Regions.Length; i++)
        {
            var path = setup.Nodes[i].ConfigPath;
            var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            config["listen"] = $"127.0.0.1:{ports[i]}";
            var peers = new JsonObject();
            for (var j = 0; j < Regions.Length; j++)
            {
                if (j != i)
                {
                    peers[Regions[j]] = $"127.0.0.1:{ports[j]}";
                }
            }

            config["peers"] = peers;

            // Short rounds, so a dead proposer costs about a second; generous enough for a loaded machine.
            config["consensus"] = new JsonObject { ["baseRoundTimeout"] = "00:00:01", ["maxRoundTimeout"] = "00:00:08" };
            File.WriteAllText(path, config.ToJsonString());
        }

        JoinedValidator? joined = null;
        if (join is not null)
        {
            // The operator's steps (docs/consensus.md): init --join writes the key and config; each existing node's
            // peers get the new validator's entry (here before they start, so no restart is needed).
            joined = await LocalSetup.JoinAsync(directory, join, $"127.0.0.1:{ports[Regions.Length]}", CancellationToken.None);
            foreach (var path in joined.OtherConfigs)
            {
                var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
                config["peers"]![joined.PeerEntry.Key] = joined.PeerEntry.Value;
                File.WriteAllText(path, config.ToJsonString());
            }
        }

        var genesis = GenesisLoader.Load(File.ReadAllText(setup.GenesisPath)).Document!;
        return new LocalCluster(directory, setup, genesis, joined);
    }

    public bool IsUp(int node) => _nodes[node] is not null;

    /// <summary>Running nodes that are not paused.</summary>
    public IEnumerable<int> Up => Enumerable.Range(0, Count).Where(n => IsUp(n) && !_paused.ContainsKey(n));

    private readonly ConcurrentDictionary<int, bool> _paused = new();

    public NodeService.NodeServiceClient Client(int node) => new(_channels[node] ?? throw new InvalidOperationException($"node {Name(node)} is down"));

    public GrpcChannel Channel(int node) => _channels[node] ?? throw new InvalidOperationException($"node {Name(node)} is down");

    public string ConfigPath(int node) => node < Regions.Length ? Setup.Nodes[node].ConfigPath : Joined!.ConfigPath;

    /// <summary>The node's log so far (its standard error).</summary>
    public string Log(int node) => _nodes[node]?.Error ?? string.Empty;

    /// <summary>Starts (or restarts, on its data directory) node <paramref name="node"/> and waits until it listens.</summary>
    public async Task StartNodeAsync(int node)
    {
        var process = new NodeProcess(ConfigPath(node)) { UseConfigListen = true };
        try
        {
            await process.InitializeAsync();
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        _nodes[node] = process;
        _channels[node] = GrpcChannel.ForAddress(process.Address);
    }

    /// <summary>Stops node <paramref name="node"/> with SIGKILL (no shutdown code runs) or SIGTERM; returns its exit code.</summary>
    public async Task<int> StopNodeAsync(int node, string signal = "KILL")
    {
        var process = _nodes[node] ?? throw new InvalidOperationException($"node {Name(node)} is not running");
        _nodes[node] = null;
        _channels[node]?.Dispose();
        _channels[node] = null;
        try
        {
            return await process.StopAsync(signal);
        }
        finally
        {
            await process.DisposeAsync();
        }
    }

    /// <summary>Sends a signal to a running node without forgetting it (SIGSTOP pauses it: its links go silent; SIGCONT resumes).</summary>
    public async Task SignalAsync(int node, string signal)
    {
        await (_nodes[node] ?? throw new InvalidOperationException($"node {Name(node)} is not running")).SendSignalAsync(signal);
        if (signal == "STOP")
        {
            _paused[node] = true;
        }
        else if (signal == "CONT")
        {
            _paused.TryRemove(node, out _);
        }
    }

    public async Task<LedgerStatus> StatusAsync(int node) => (await Client(node).StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(20))).Ledger;

    /// <summary>Waits until every node in <paramref name="nodes"/> reports a height of at least <paramref name="height"/>.</summary>
    public async Task WaitForHeightAsync(IEnumerable<int> nodes, long height, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        foreach (var node in nodes.ToList())
        {
            while (true)
            {
                try
                {
                    if ((await StatusAsync(node)).Height >= height)
                    {
                        break;
                    }
                }
                catch (RpcException) when (DateTime.UtcNow < deadline)
                {
                }

                Assert.True(DateTime.UtcNow < deadline, $"node {Name(node)} did not reach height {height} within {limit}; log:\n{Tail(Log(node))}");
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Member <paramref name="index"/>'s key (0-3 the regions' market regulators), opened from its keystore.</summary>
    public KeySigner MemberKey(int index)
    {
        lock (_keys)
        {
            if (!_keys.TryGetValue(index, out var signer))
            {
                signer = KeySource.OpenSigner(
                    new KeySourceOptions { Keystore = new KeystoreKeyOptions { Path = Setup.Members[index].KeyPath, Password = new SecretSourceOptions { File = Setup.PasswordFile } } },
                    Setup.Members[index].Address,
                    chainScheme: Suite.Signatures);
                _keys[index] = signer;
            }

            return signer;
        }
    }

    /// <summary>The validator key of node <paramref name="node"/>, opened from the keystore init wrote (for handshake tests).</summary>
    public KeySigner ValidatorKey(int node)
    {
        var region = Regions[node].ToLowerInvariant();
        return KeySource.OpenSigner(
            new KeySourceOptions { Keystore = new KeystoreKeyOptions { Path = Path.Combine(Directory, "keys", $"validator-{region}.json"), Password = new SecretSourceOptions { File = Setup.PasswordFile } } },
            Genesis.Validators.Single(v => v.Region == Regions[node]).Address,
            chainScheme: Suite.Signatures);
    }

    /// <summary>
    /// Waits until every running node reports the same head (hash and state root) twice in a row with an empty
    /// mempool (nothing left in flight); returns its height.
    /// </summary>
    public async Task<long> ConvergeAsync(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        (long, string, string)? previous = null;
        while (true)
        {
            try
            {
                var statuses = await Task.WhenAll(Up.Select(StatusAsync));
                var heads = statuses.Select(s => (s.Height, s.HeadHash, s.StateRoot)).Distinct().ToList();
                if (heads.Count == 1 && heads[0] == previous && statuses.All(s => s.MempoolSize == 0))
                {
                    return heads[0].Height;
                }

                previous = heads.Count == 1 ? heads[0] : null;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, $"the nodes did not converge on one head within {limit}:\n{string.Join("\n", Up.Select(n => Name(n) + ":\n" + Tail(Log(n), 15)))}");
            await Task.Delay(300);
        }
    }

    /// <summary>The committed block at <paramref name="height"/> as node <paramref name="node"/> serves it (WatchBlocks).</summary>
    public async Task<WatchBlocksResponse> BlockAsync(int node, long height)
    {
        using var call = Client(node).WatchBlocks(new WatchBlocksRequest { FromHeight = height }, deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None), $"node {Name(node)} sent no block {height}");
        Assert.Equal(height, call.ResponseStream.Current.Height);
        return call.ResponseStream.Current;
    }

    public static string Tail(string log, int lines = 40) => string.Join('\n', log.Split('\n').TakeLast(lines));

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < _nodes.Length; i++)
        {
            if (_nodes[i] is not null)
            {
                try
                {
                    await StopNodeAsync(i, "TERM");
                }
                catch (TimeoutException)
                {
                    // killed by PID inside StopAsync
                }
            }
        }

        foreach (var key in _keys.Values)
        {
            key.Dispose();
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
