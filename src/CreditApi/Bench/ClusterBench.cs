using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Node;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;

namespace SmartCity.CreditApi.Bench;

/// <summary>What <c>smartcity bench cluster</c> was asked to do.</summary>
internal sealed record ClusterBenchOptions
{
    public int Clients { get; init; } = 64;

    public int InFlightPerClient { get; init; } = 32;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Where the setup lives (an existing one is reused); null: a temporary directory, deleted at the end.</summary>
    public string? Directory { get; init; }

    /// <summary>Running nodes to load (their setup in <see cref="Directory"/>); null: the benchmark starts four.</summary>
    public IReadOnlyList<Uri>? Nodes { get; init; }

    public bool Keep { get; init; }

    public int CeilingTransactions { get; init; } = 8_000;

    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The started nodes' round-0 timeout (QBFT <c>baseRoundTimeout</c>): long enough to build and re-execute a full block on a loaded machine.</summary>
    public TimeSpan RoundTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The started nodes' QBFT <c>blockPeriod</c>: the least time between blocks, so transactions gather into full blocks.</summary>
    public TimeSpan BlockPeriod { get; init; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>
/// <c>smartcity bench cluster</c> (issue 12, "Targets"): N signing clients against a local four-validator consortium
/// for a set time. The benchmark writes an <c>init --regions BJ,TJ,HE,XA</c> setup with one credit designator per
/// client added to the genesis, starts the four <c>smartcity node</c> processes itself (or loads nodes already
/// running from such a setup), and each client signs credit records in nonce order and submits them to one node
/// (client i to node i mod 4; gossip carries them to the others) with at most <c>--in-flight</c> uncommitted.
/// Commits are seen on one node's <c>WatchBlocks</c> stream: submit-to-commit latency is from just before the
/// submit to that block's arrival. Measured after a warm-up: committed tx/s, latency percentiles, and CPU per
/// committed transaction of each node (<c>/proc</c>) and of each node's pipeline stages (its <c>/metrics</c>), beside
/// the ceiling measured in the same run: cores ÷ validators × the CPU one node spends to verify and apply one
/// transaction (<see cref="VerifyApplyCost"/>).
/// </summary>
internal sealed class ClusterBench(ClusterBenchOptions options, TextWriter output)
{
    private static readonly string[] Regions = ["BJ", "TJ", "HE", "XA"];
    // Generous: without tiered compilation a node compiles more before it listens, and the machine may be shared.
    private static readonly TimeSpan NodeStartTimeout = TimeSpan.FromSeconds(300);

    private readonly ConcurrentDictionary<Hash256, (int Client, long At)> _inFlight = new();
    private readonly List<double> _latenciesMs = [];
    private SemaphoreSlim[] _windows = [];
    private long _committed;
    private long _blocks;
    private long _height;
    private long _submitted;
    private long _retries;
    private long _refused;
    private string? _firstRefusal;
    private volatile bool _measuring;

    public async Task<ClusterBenchReport> RunAsync(CancellationToken cancellationToken)
    {
        var temporary = options.Directory is null;
        var directory = options.Directory is null
            ? System.IO.Directory.CreateTempSubdirectory("smartcity-bench-cluster-").FullName
            : Path.GetFullPath(options.Directory);
        var nodes = new List<BenchNodeProcess>();
        try
        {
            var (genesis, configs) = await PrepareSetupAsync(directory, cancellationToken).ConfigureAwait(false);
            using var load = new BenchLoad(genesis, options.Clients);

            await Say($"measuring the ceiling: one node verifying and applying {options.CeilingTransactions:N0} transactions in this process…").ConfigureAwait(false);
            var cost = await VerifyApplyCost.MeasureAsync(genesis, load, options.CeilingTransactions, cancellationToken).ConfigureAwait(false);
            var cores = Environment.ProcessorCount;
            await Say(string.Create(CultureInfo.InvariantCulture, $"  verify {cost.VerifyMicroseconds:F0} µs + apply {cost.ApplyMicroseconds:F0} µs per transaction → ceiling {cores} cores ÷ {Regions.Length} validators = {cost.Ceiling(cores, Regions.Length):F0} tx/s")).ConfigureAwait(false);

            IReadOnlyList<Uri> addresses;
            List<Uri?> metrics;
            if (options.Nodes is { } given)
            {
                addresses = given;
                metrics = [.. given.Select(_ => (Uri?)null)];
            }
            else
            {
                await Say($"starting 4 validators (smartcity node) in {directory}…").ConfigureAwait(false);
                var started = await Task.WhenAll(configs.Select(c => BenchNodeProcess.StartAsync(c.Path, NodeStartTimeout, cancellationToken))).ConfigureAwait(false);
                nodes.AddRange(started);
                addresses = [.. started.Select(n => n.Address)];
                metrics = [.. configs.Select(c => (Uri?)c.Metrics)];
            }

            var channels = addresses.Select(a => GrpcChannel.ForAddress(a)).ToList();
            try
            {
                return await DriveAsync(load, channels, nodes, metrics, cost, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                channels.ForEach(c => c.Dispose());
            }
        }
        finally
        {
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask())).ConfigureAwait(false);
            if (temporary && !options.Keep)
            {
                try
                {
                    System.IO.Directory.Delete(directory, recursive: true);
                }
                catch (IOException)
                {
                }
            }
            else
            {
                await Say($"setup kept in {directory}").ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes (or reuses) the setup; with nodes to start, gives each config fresh ports for its listener, peers and metrics.</summary>
    private async Task<(GenesisDocument Genesis, List<(string Path, Uri Metrics)> Configs)> PrepareSetupAsync(string directory, CancellationToken cancellationToken)
    {
        var genesisPath = Path.Combine(directory, "genesis.json");
        if (!File.Exists(genesisPath))
        {
            if (options.Nodes is not null)
            {
                throw new BenchSetupException($"--nodes needs the nodes' setup in --dir (a directory an earlier 'bench cluster --keep --dir DIR' wrote); '{genesisPath}' does not exist");
            }

            System.IO.Directory.CreateDirectory(directory);
            var sample = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "genesis", "sample-genesis.json"), cancellationToken).ConfigureAwait(false);
            await LocalSetup.WriteAsync(directory, sample, Regions, 40_000, null, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            var text = BenchLoad.WithMembers(await File.ReadAllTextAsync(genesisPath, cancellationToken).ConfigureAwait(false), options.Clients);
            await File.WriteAllTextAsync(genesisPath, text, cancellationToken).ConfigureAwait(false);
        }

        var loaded = GenesisLoader.Load(await File.ReadAllTextAsync(genesisPath, cancellationToken).ConfigureAwait(false));
        var genesis = loaded.Document ?? throw new BenchSetupException($"'{genesisPath}' does not load: {loaded.Errors[0]}");
        var configs = new List<(string, Uri)>();
        if (options.Nodes is not null)
        {
            return (genesis, configs);
        }

        var ports = FreePorts(Regions.Length * 2);
        for (var i = 0; i < Regions.Length; i++)
        {
            var path = Path.Combine(directory, $"node-{Regions[i].ToLowerInvariant()}.json");
            if (!File.Exists(path))
            {
                throw new BenchSetupException($"'{path}' does not exist: --dir must hold a four-region setup (BJ, TJ, HE, XA)");
            }

            var config = JsonNode.Parse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false))!.AsObject();
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
            var metrics = $"127.0.0.1:{ports[Regions.Length + i]}";
            config["metrics"] = new JsonObject { ["listen"] = metrics };
            config["consensus"] = new JsonObject
            {
                ["baseRoundTimeout"] = options.RoundTimeout.ToString("c", CultureInfo.InvariantCulture),
                ["maxRoundTimeout"] = (options.RoundTimeout * 8).ToString("c", CultureInfo.InvariantCulture),
                ["blockPeriod"] = options.BlockPeriod.ToString("c", CultureInfo.InvariantCulture),
            };
            config["limits"] = new JsonObject { ["mempoolCapacity"] = 50_000, ["maxNonceGap"] = Math.Max(64, options.InFlightPerClient * 2) };
            await File.WriteAllTextAsync(path, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", cancellationToken).ConfigureAwait(false);
            configs.Add((path, new Uri($"http://{metrics}/metrics")));
        }

        return (genesis, configs);
    }

    /// <summary>Loopback ports free at this moment, distinct: all are bound at once before any is released.</summary>
    internal static int[] FreePorts(int count)
    {
        var sockets = Enumerable.Range(0, count).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)).ToList();
        try
        {
            foreach (var socket in sockets)
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            }

            return [.. sockets.Select(s => ((IPEndPoint)s.LocalEndPoint!).Port)];
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    private async Task<ClusterBenchReport> DriveAsync(BenchLoad load, List<GrpcChannel> channels, List<BenchNodeProcess> processes, List<Uri?> metrics, VerifyApplyResult cost, CancellationToken cancellationToken)
    {
        var clients = channels.Select(c => new NodeService.NodeServiceClient(c)).ToList();
        await WaitForConsortiumAsync(clients[0], cancellationToken).ConfigureAwait(false);

        await Say($"finding each client's next nonce ({load.Clients} clients)…").ConfigureAwait(false);
        var nonces = await Task.WhenAll(Enumerable.Range(0, load.Clients).Select(c => NextNonceAsync(clients[c % clients.Count], load, c, cancellationToken))).ConfigureAwait(false);

        // One transaction committed before the clock starts: every peer link is up and the validators have agreed once.
        await Say("waiting for the first block (peer links up, one transaction committed)…").ConfigureAwait(false);
        var opening = load.Transaction(0, nonces[0]);
        var first = await clients[0].SubmitTransactionAsync(new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(opening.Bytes), WaitForCommit = true }, deadline: DateTime.UtcNow.Add(NodeStartTimeout), cancellationToken: cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _height, first.Height);
        nonces[0]++;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _windows = [.. Enumerable.Range(0, load.Clients).Select(_ => new SemaphoreSlim(options.InFlightPerClient, options.InFlightPerClient))];
        var watcher = Task.Run(() => WatchAsync(clients[0], stop.Token), CancellationToken.None);
        var started = Stopwatch.GetTimestamp();
        var senders = Enumerable.Range(0, load.Clients)
            .Select(c => Task.Run(() => ClientAsync(clients[c % clients.Count], load, c, nonces[c], stop.Token), CancellationToken.None))
            .ToList();

        await Say(string.Create(CultureInfo.InvariantCulture, $"{load.Clients} clients × {options.InFlightPerClient} in flight; warm-up {options.Warmup.TotalSeconds:F0} s, then {options.Duration.TotalSeconds:F0} s measured")).ConfigureAwait(false);
        Snapshot? start = null;
        Snapshot? last = null;
        var nextProgress = options.ProgressInterval;
        var previousCommitted = Interlocked.Read(ref _committed);
        var previousAt = TimeSpan.Zero;
        try
        {
            while (true)
            {
                var elapsed = Stopwatch.GetElapsedTime(started);
                if (start is null && elapsed >= options.Warmup)
                {
                    start = await TakeAsync(processes, metrics, cancellationToken).ConfigureAwait(false);
                    lock (_latenciesMs)
                    {
                        _latenciesMs.Clear();
                    }

                    _measuring = true;
                }

                if (start is not null && elapsed >= options.Warmup + options.Duration)
                {
                    _measuring = false;
                    last = await TakeAsync(processes, metrics, cancellationToken).ConfigureAwait(false);
                    break;
                }

                if (elapsed >= nextProgress)
                {
                    var committed = Interlocked.Read(ref _committed);
                    var rate = (committed - previousCommitted) / (elapsed - previousAt).TotalSeconds;
                    await Say(string.Create(CultureInfo.InvariantCulture, $"[{elapsed.TotalSeconds,4:F0} s] {(start is null ? "warm-up  " : "measuring")} committed {committed,9:N0}  {rate,7:F0} tx/s  height {Interlocked.Read(ref _height),6}  in flight {_inFlight.Count,6:N0}  refused {Interlocked.Read(ref _refused)}")).ConfigureAwait(false);
                    previousCommitted = committed;
                    previousAt = elapsed;
                    nextProgress += options.ProgressInterval;
                }

                if (senders.FirstOrDefault(s => s.IsFaulted) is { } failed)
                {
                    await failed.ConfigureAwait(false);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(senders.Append(watcher).Select(t => t.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default))).ConfigureAwait(false);
        }

        List<double> latencies;
        lock (_latenciesMs)
        {
            latencies = [.. _latenciesMs.Order()];
        }

        return ClusterBenchReport.From(options, load.Clients, cost, start, last, latencies, Interlocked.Read(ref _retries), Interlocked.Read(ref _refused), _firstRefusal);
    }

    private async Task WaitForConsortiumAsync(NodeService.NodeServiceClient client, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                var status = (await client.StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(20), cancellationToken: cancellationToken).ConfigureAwait(false)).Ledger;
                if (status.Committing && status.Validators.Count >= 4)
                {
                    Interlocked.Exchange(ref _height, status.Height);
                    return;
                }

                if (status.Validators.Count < 4)
                {
                    throw new BenchSetupException($"the node has {status.Validators.Count} validator(s); bench cluster loads a consortium of four or more");
                }
            }
            catch (RpcException) when (Stopwatch.GetElapsedTime(deadline) < NodeStartTimeout)
            {
            }

            if (Stopwatch.GetElapsedTime(deadline) > NodeStartTimeout)
            {
                throw new BenchSetupException($"the first node did not report committing within {NodeStartTimeout.TotalSeconds:F0} s");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The client's next nonce on the running chain: its transactions are deterministic, so the first nonce whose
    /// transaction the node does not know (doubling, then bisecting) is the next one.
    /// </summary>
    private static async Task<ulong> NextNonceAsync(NodeService.NodeServiceClient client, BenchLoad load, int c, CancellationToken cancellationToken)
    {
        async Task<bool> Known(ulong nonce)
        {
            var id = load.Transaction(c, nonce).Id;
            var answer = await client.GetTransactionAsync(new GetTransactionRequest { TransactionId = id.ToString() }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken).ConfigureAwait(false);
            return answer.Status is TransactionStatus.Committed or TransactionStatus.Pending;
        }

        if (!await Known(0).ConfigureAwait(false))
        {
            return 0;
        }

        ulong low = 0, high = 1;
        while (await Known(high).ConfigureAwait(false))
        {
            low = high;
            high *= 2;
        }

        while (high - low > 1)
        {
            var middle = low + ((high - low) / 2);
            if (await Known(middle).ConfigureAwait(false))
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return high;
    }

    private async Task ClientAsync(NodeService.NodeServiceClient client, BenchLoad load, int c, ulong nonce, CancellationToken cancellationToken)
    {
        try
        {
            var window = _windows[c];
            while (!cancellationToken.IsCancellationRequested)
            {
                await window.WaitAsync(cancellationToken).ConfigureAwait(false);
                var (id, bytes) = load.Transaction(c, nonce);
                var request = new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(bytes) };
                _inFlight[id] = (c, Stopwatch.GetTimestamp());
                while (true)
                {
                    try
                    {
                        await client.SubmitTransactionAsync(request, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken).ConfigureAwait(false);
                        Interlocked.Increment(ref _submitted);
                        break;
                    }
                    catch (RpcException e) when (e.StatusCode is StatusCode.ResourceExhausted or StatusCode.Unavailable or StatusCode.DeadlineExceeded && !cancellationToken.IsCancellationRequested)
                    {
                        Interlocked.Increment(ref _retries);
                        await Task.Delay(20, cancellationToken).ConfigureAwait(false);
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
                    {
                        break; // a retried submission the node had admitted after all
                    }
                    catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
                    {
                        // A refusal leaves a gap in this client's nonces: the client stops and the report says why.
                        _inFlight.TryRemove(id, out _);
                        Interlocked.Increment(ref _refused);
                        Interlocked.CompareExchange(ref _firstRefusal, $"client {c} nonce {nonce}: {e.StatusCode} {e.Status.Detail}", null);
                        return;
                    }
                }

                nonce++;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Follows one node's committed blocks (resuming after a broken stream): commit times, latencies, windows.</summary>
    private async Task WatchAsync(NodeService.NodeServiceClient client, CancellationToken cancellationToken)
    {
        var from = Interlocked.Read(ref _height) + 1;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var call = client.WatchBlocks(new WatchBlocksRequest { FromHeight = from }, cancellationToken: cancellationToken);
                await foreach (var block in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    var now = Stopwatch.GetTimestamp();
                    var measuring = _measuring;
                    foreach (var text in block.TransactionIds)
                    {
                        if (Hash256.TryParse(text, out var id) && _inFlight.TryRemove(id, out var sent))
                        {
                            if (measuring)
                            {
                                lock (_latenciesMs)
                                {
                                    _latenciesMs.Add(Stopwatch.GetElapsedTime(sent.At, now).TotalMilliseconds);
                                }
                            }

                            _windows[sent.Client].Release();
                        }
                    }

                    Interlocked.Add(ref _committed, block.TransactionIds.Count);
                    Interlocked.Increment(ref _blocks);
                    Interlocked.Exchange(ref _height, block.Height);
                    from = block.Height + 1;
                }
            }
            catch (RpcException) when (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            catch (RpcException) when (cancellationToken.IsCancellationRequested)
            {
            }
        }
    }

    private async Task<Snapshot> TakeAsync(List<BenchNodeProcess> processes, List<Uri?> metrics, CancellationToken cancellationToken)
    {
        var stages = await Task.WhenAll(metrics.Select(m => m is null ? Task.FromResult(new Dictionary<string, double>()) : ScrapeStagesAsync(m, cancellationToken))).ConfigureAwait(false);
        return new Snapshot(
            Stopwatch.GetTimestamp(),
            Interlocked.Read(ref _committed),
            Interlocked.Read(ref _blocks),
            Interlocked.Read(ref _height),
            [.. processes.Select(p => p.Cpu())],
            BenchNodeProcess.ProcessCpu(Environment.ProcessId),
            stages,
            LoadAverage(),
            [.. processes.Select(p => p.ThreadCpu())]);
    }

    /// <summary>The node's stage CPU counters (<c>smartcity_ledger_node_stage_cpu…{stage="…"}</c>) from its Prometheus scrape.</summary>
    private static async Task<Dictionary<string, double>> ScrapeStagesAsync(Uri metrics, CancellationToken cancellationToken)
    {
        var stages = new Dictionary<string, double>(StringComparer.Ordinal);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            var text = await http.GetStringAsync(metrics, cancellationToken).ConfigureAwait(false);
            foreach (var line in text.Split('\n'))
            {
                if (!line.StartsWith("smartcity_ledger_node_stage_cpu", StringComparison.Ordinal))
                {
                    continue;
                }

                var label = line.IndexOf("stage=\"", StringComparison.Ordinal);
                var space = line.LastIndexOf(' ');
                if (label < 0 || space < 0)
                {
                    continue;
                }

                var name = line[(label + 7)..line.IndexOf('"', label + 7)];
                if (double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
                {
                    stages[name] = seconds;
                }
            }
        }
        catch (HttpRequestException)
        {
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }

        return stages;
    }

    internal static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    private Task Say(string line) => output.WriteLineAsync(line);
}

/// <summary>Counters at one moment of the run.</summary>
internal sealed record Snapshot(long Timestamp, long Committed, long Blocks, long Height, TimeSpan[] NodeCpu, TimeSpan BenchCpu, Dictionary<string, double>[] Stages, string LoadAverage, Dictionary<string, TimeSpan>[] Threads);

/// <summary>The benchmark's result: a Markdown table and a JSON document of the same numbers.</summary>
internal sealed record ClusterBenchReport(string Markdown, string Json, double Throughput, double P99Ms)
{
    /// <summary>A run with no commit in its measured part has no latencies (NaN): written as "NaN", not a crash.</summary>
    private static readonly JsonSerializerOptions JsonNumbers = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public const double TargetThroughput = 3_000;
    public const double TargetP99Ms = 1_000;

    private static readonly string[] StageOrder = ["decode", "verify", "admit", "build", "validate", "certify", "commit", "publish"];

    public static ClusterBenchReport From(ClusterBenchOptions options, int clients, VerifyApplyResult cost, Snapshot? first, Snapshot? last, List<double> latencies, long retries, long refused, string? firstRefusal)
    {
        if (first is null || last is null)
        {
            throw new BenchSetupException("the run ended before its measured part");
        }

        var c = CultureInfo.InvariantCulture;
        var seconds = Stopwatch.GetElapsedTime(first.Timestamp, last.Timestamp).TotalSeconds;
        var committed = last.Committed - first.Committed;
        var throughput = committed / seconds;
        double Percentile(double p) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(latencies.Count * p))];
        var cores = Environment.ProcessorCount;
        var validators = 4;
        var ceiling = cost.Ceiling(cores, validators);
        var blocks = last.Blocks - first.Blocks;
        var perTx = Math.Max(1, committed);
        var nodeCpu = first.NodeCpu.Zip(last.NodeCpu, (a, b) => (b - a).TotalMicroseconds / perTx).ToArray();
        var benchCpu = (last.BenchCpu - first.BenchCpu).TotalMicroseconds / perTx;
        string[] regions = ["BJ", "TJ", "HE", "XA"];

        var md = new StringBuilder();
        md.AppendLine(c, $"`smartcity bench cluster --clients {clients} --in-flight {options.InFlightPerClient} --warmup {options.Warmup.TotalSeconds:F0} --duration {options.Duration.TotalSeconds:F0} --round-timeout-ms {options.RoundTimeout.TotalMilliseconds:F0} --block-period-ms {options.BlockPeriod.TotalMilliseconds:F0}`: 4 validators (QBFT, embedded store, fsync per block; nodes started with {BenchNodeProcess.TieredCompilationVariable}={Environment.GetEnvironmentVariable(BenchNodeProcess.TieredCompilationVariable) ?? "0"}), {cores} cores, load average {first.LoadAverage} → {last.LoadAverage}");
        md.AppendLine();
        md.AppendLine("| measurement | result | target |");
        md.AppendLine("| --- | ---: | ---: |");
        md.AppendLine(c, $"| committed throughput, sustained over {seconds:F0} s | **{throughput:F0} tx/s** | ≥ {TargetThroughput:F0} tx/s ({(throughput >= TargetThroughput ? "met" : "not met")}) |");
        md.AppendLine(c, $"| submit-to-commit latency p50 / p99 / max | {Percentile(0.5):F0} / **{Percentile(0.99):F0}** / {Percentile(1.0):F0} ms | p99 < {TargetP99Ms:F0} ms ({(Percentile(0.99) < TargetP99Ms ? "met" : "not met")}) |");
        md.AppendLine(c, $"| ceiling: {cores} cores ÷ {validators} validators ÷ (verify {cost.VerifyMicroseconds:F0} µs + apply {cost.ApplyMicroseconds:F0} µs per tx, one node, same run) | {ceiling:F0} tx/s | |");
        md.AppendLine(c, $"| fraction of the ceiling reached | {throughput / ceiling:P0} | |");
        md.AppendLine(c, $"| blocks / transactions per block | {blocks} / {committed / (double)Math.Max(1, blocks):F0} | |");
        md.AppendLine(c, $"| retries (mempool full, node busy) / refused | {retries} / {refused}{(firstRefusal is null ? string.Empty : $" (first: {firstRefusal})")} | |");
        md.AppendLine();
        if (nodeCpu.Length > 0)
        {
            md.AppendLine("Where the CPU goes, per committed transaction (process CPU from /proc; stages from each node's /metrics):");
            md.AppendLine();
            md.AppendLine("| process | total CPU per tx | " + string.Join(" | ", StageOrder) + " | rest (gRPC, peer network, consensus messages, GC, runtime) |");
            md.AppendLine("| --- | ---: |" + string.Concat(StageOrder.Select(_ => " ---: |")) + " ---: |");
            for (var i = 0; i < nodeCpu.Length; i++)
            {
                var stages = StageOrder.Select(s => (last.Stages[i].GetValueOrDefault(s) - first.Stages[i].GetValueOrDefault(s)) * 1_000_000 / perTx).ToArray();
                md.AppendLine(c, $"| node {regions[i]} | {nodeCpu[i]:F0} µs | {string.Join(" | ", stages.Select(v => v.ToString("F0", c) + " µs"))} | {nodeCpu[i] - stages.Sum():F0} µs |");
            }

            md.AppendLine(c, $"| bench (clients: signing, gRPC) | {benchCpu:F0} µs |{string.Concat(StageOrder.Select(_ => " |"))} |");
            md.AppendLine(c, $"| **all** | **{nodeCpu.Sum() + benchCpu:F0} µs** = {(nodeCpu.Sum() + benchCpu) * throughput / 1_000_000 / cores:P0} of {cores} cores at this rate |{string.Concat(StageOrder.Select(_ => " |"))} |");
        }

        var threadKinds = ThreadKinds(first, last, perTx);
        if (threadKinds.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("The same CPU by kind of thread, per committed transaction (/proc/PID/task; the stages above run on the writer and thread-pool threads):");
            md.AppendLine();
            md.AppendLine("| thread kind | " + string.Join(" | ", regions.Take(threadKinds[0].PerNode.Length).Select(r => $"node {r}")) + " |");
            md.AppendLine("| --- |" + string.Concat(threadKinds[0].PerNode.Select(_ => " ---: |")));
            foreach (var (kind, perNode) in threadKinds)
            {
                md.AppendLine(c, $"| {kind} | {string.Join(" | ", perNode.Select(v => v.ToString("F0", c) + " µs"))} |");
            }

            // Thread-pool threads retire when idle and take their CPU time with them: the process total tells what they used.
            var ended = nodeCpu.Select((total, i) => total - threadKinds.Sum(k => i < k.PerNode.Length ? k.PerNode[i] : 0)).ToArray();
            md.AppendLine(c, $"| threads that ended during the measurement | {string.Join(" | ", ended.Select(v => v.ToString("F0", c) + " µs"))} |");
        }

        var json = JsonSerializer.Serialize(new
        {
            clients,
            inFlightPerClient = options.InFlightPerClient,
            warmupSeconds = options.Warmup.TotalSeconds,
            seconds,
            committed,
            throughput,
            p50Ms = Percentile(0.5),
            p99Ms = Percentile(0.99),
            maxMs = Percentile(1.0),
            ceiling,
            cores,
            validators,
            verifyMicroseconds = cost.VerifyMicroseconds,
            applyMicroseconds = cost.ApplyMicroseconds,
            fractionOfCeiling = throughput / ceiling,
            blocks,
            retries,
            refused,
            nodeCpuMicrosecondsPerTx = nodeCpu,
            nodeThreadCpuMicrosecondsPerTx = threadKinds.ToDictionary(k => k.Kind, k => k.PerNode),
            benchCpuMicrosecondsPerTx = benchCpu,
            loadAverage = new[] { first.LoadAverage, last.LoadAverage },
        }, JsonNumbers);
        return new ClusterBenchReport(md.ToString(), json, throughput, Percentile(0.99));
    }

    /// <summary>Each thread kind's CPU per committed transaction on each node, the largest first (kinds under 1 µs everywhere left out).</summary>
    private static List<(string Kind, double[] PerNode)> ThreadKinds(Snapshot first, Snapshot last, long perTx)
    {
        var kinds = last.Threads.SelectMany(t => t.Keys).Distinct(StringComparer.Ordinal).ToList();
        return [.. kinds
            .Select(kind => (Kind: kind, PerNode: last.Threads.Select((t, i) => (t.GetValueOrDefault(kind) - (i < first.Threads.Length ? first.Threads[i].GetValueOrDefault(kind) : TimeSpan.Zero)).TotalMicroseconds / perTx).ToArray()))
            .Where(k => k.PerNode.Any(v => v >= 1))
            .OrderByDescending(k => k.PerNode.Sum())];
    }
}
