using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Hosting;
using SmartCity.CreditApi.Node;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Jobs;
using SmartCity.Ledger.Jobs.Anchor;
using SmartCity.Ledger.Keys;
using SmartCity.Ledger.State;
using SmartCity.Testing;
using SmartCity.Testing.Evm;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Anchoring.Tests;

/// <summary>
/// The AnchorJob end to end: a real node host (<see cref="NodeHost"/>, what <c>smartcity node --config</c> runs, on
/// port 0) set up as <c>smartcity init</c> writes it, with <c>jobs.anchor</c> in its config file (the submitter key
/// from an encrypted keystore) and its /metrics listener on; transactions commit blocks over gRPC, Quartz fires the
/// job, and the contract on a real ganache, Status, the scrape and DATA/jobs/anchoring.json all name the same
/// certified header. And with the EVM node unreachable, the run is reported failed while the node keeps committing.
/// </summary>
public sealed class NodeAnchoringTests(LocalEvmFixture evm) : IClassFixture<LocalEvmFixture>, IAsyncLifetime
{
    private const string Region = "TJ";
    private const int TianjinRegulator = 1;
    private const string KeystorePassword = "anchor submitter test password";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private string _directory = null!;
    private LocalSetupResult _setup = null!;
    private WebApplication? _host;
    private GrpcChannel? _channel;
    private KeySigner? _member;

    public async Task InitializeAsync()
    {
        _directory = Directory.CreateTempSubdirectory("smartcity-node-anchor-").FullName;
        _setup = await LocalSetup.WriteAsync(_directory, RepositoryFiles.Read("contracts/genesis/sample-genesis.json"), [Region], 0, null, CryptoSuiteId.Eth, TimeProvider.System, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_host is not null)
        {
            await _host.StopAsync();
            await _host.DisposeAsync();
        }

        _member?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [EvmFact]
    public async Task A_node_configured_with_jobs_anchor_anchors_its_certified_head_and_Status_the_scrape_and_its_record_name_that_header()
    {
        var evmNode = await evm.NodeAsync();
        var genesis = GenesisLoader.Load(await File.ReadAllTextAsync(_setup.GenesisPath)).Document!;
        using var deployer = await AnchorTestKit.ConnectAsync(evmNode);
        var contract = await AnchorTestKit.DeployAsync(deployer, genesis);
        var keystore = WriteSubmitterKeystore(evmNode.Accounts[3]);

        // Every 3 blocks, and exactly 3 transactions: the only height the job can anchor is 3, whenever Quartz fires.
        var client = await StartNodeAsync(evmNode.RpcUrl.ToString(), contract.ContractAddress.ToString(), evmNode.ChainId, keystore);
        var anchoredRun = WaitForRun(run => run.Summary.StartsWith("anchored block", StringComparison.Ordinal));
        await CommitAsync(client, 3);
        var run = await anchoredRun.WaitAsync(Deadline);

        var certified = await _host!.Services.GetRequiredService<LedgerRuntime>().Node.GetBlockEventAsync(3, CancellationToken.None);
        var onChain = await contract.CheckpointAtAsync(3, CancellationToken.None);
        var status = await client.StatusAsync(new StatusRequest());
        var samples = await ScrapeAsync();
        var record = await new FileAnchorRecordStore(Path.Combine(DataDirectory, "jobs")).GetAsync(contract.ContractAddress.ToString(), CancellationToken.None);

        Assert.StartsWith($"anchored block 3 ({certified.Header.Hash})", run.Summary, StringComparison.Ordinal);
        Assert.Equal(JobOutcomes.Succeeded, run.Outcome);
        Assert.Equal(3L, await contract.LatestHeightAsync(CancellationToken.None));
        Assert.Equal(certified.Header.Hash, onChain!.HeaderHash);
        Assert.Equal(1L, await contract.CheckpointCountAsync(CancellationToken.None));
        var job = Assert.Single(status.Jobs, j => j.Job == AnchorJob.JobName);
        Assert.True(job.Outcome == JobOutcomes.Succeeded, job.Summary);
        Assert.Equal(3d, samples["smartcity_ledger_jobs_anchor_height"]);
        Assert.True(File.Exists(Path.Combine(DataDirectory, "jobs", "anchoring.json")));
        Assert.Equal((3L, certified.Header.Hash.ToString()), (record.Last!.Height, record.Last.HeaderHash));
        Assert.Null(record.Pending);
    }

    [Fact]
    public async Task A_node_whose_EVM_endpoint_is_closed_reports_the_anchor_run_failed_in_Status_and_keeps_committing_blocks()
    {
        // A port bound and never listened on: connections are refused, and no other process can take it meanwhile.
        using var reserved = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        reserved.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var closed = $"http://127.0.0.1:{((IPEndPoint)reserved.LocalEndPoint!).Port}";
        var keystore = WriteSubmitterKeystore(new LocalEvmAccount("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", Convert.FromHexString("0000000000000000000000000000000000000000000000000000000000000001")));
        var client = await StartNodeAsync(closed, "0x5FbDB2315678afecb367f032d93F642f64180aa3", null, keystore);
        var failed = WaitForRun(run => run.Outcome == JobOutcomes.Failed);

        await CommitAsync(client, 1);
        var run = await failed.WaitAsync(Deadline);
        var committed = await CommitAsync(client, 2, firstNonce: 1);
        var status = await client.StatusAsync(new StatusRequest());

        Assert.Contains("the EVM node cannot be used now", run.Summary, StringComparison.Ordinal);
        Assert.Equal([2L, 3L], committed);
        Assert.Equal(3L, status.Ledger.Height);
        var job = Assert.Single(status.Jobs, j => j.Job == AnchorJob.JobName);
        Assert.Equal(JobOutcomes.Failed, job.Outcome);
        Assert.Contains("the EVM node cannot be used now", job.Summary, StringComparison.Ordinal);
    }

    private string DataDirectory => Path.Combine(_directory, "data", Region.ToLowerInvariant());

    /// <summary>An encrypted keystore of <paramref name="account"/> (mode 0600) and its password file, as an operator would keep them.</summary>
    private (string Path, string PasswordFile) WriteSubmitterKeystore(LocalEvmAccount account)
    {
        var plain = Path.Combine(_directory, "submitter-plain.json");
        var keystore = Path.Combine(_directory, "submitter.keystore.json");
        var password = Path.Combine(_directory, "submitter.password");
        File.WriteAllText(plain, $$"""{"address":"{{account.Address}}","privateKey":"0x{{Convert.ToHexStringLower(account.PrivateKey)}}"}""");
        File.WriteAllText(password, KeystorePassword);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(plain, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.SetUnixFileMode(password, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        using (var key = PlaintextKeyFile.Read(plain, CryptoSuiteId.Eth))
        {
            KeystoreFile.Write(keystore, key, System.Text.Encoding.UTF8.GetBytes(KeystorePassword), ScryptParameters.Light);
        }

        File.Delete(plain);
        return (keystore, password);
    }

    /// <summary>Writes <c>jobs.anchor</c> (looking every second) and a metrics listener into the node's config, then starts the host.</summary>
    private async Task<NodeService.NodeServiceClient> StartNodeAsync(string rpcUrl, string contract, ulong? evmChainId, (string Path, string PasswordFile) keystore)
    {
        var configPath = _setup.Nodes[0].ConfigPath;
        var config = JsonNode.Parse(await File.ReadAllTextAsync(configPath))!.AsObject();
        var anchor = new JsonObject
        {
            ["interval"] = "00:00:01",
            ["rpcUrl"] = rpcUrl,
            ["contract"] = contract,
            ["everyBlocks"] = 3,
            ["confirmations"] = 1,
            ["receiptTimeout"] = "00:00:30",
            ["maxRetries"] = 1,
            ["submitterKey"] = new JsonObject
            {
                ["keystore"] = new JsonObject { ["path"] = keystore.Path, ["password"] = new JsonObject { ["file"] = keystore.PasswordFile } },
            },
        };
        if (evmChainId is { } chainId)
        {
            anchor["evmChainId"] = chainId;
        }

        config["jobs"] = new JsonObject { ["anchor"] = anchor, ["reconciliation"] = new JsonObject { ["enabled"] = false } };
        config["metrics"] = new JsonObject { ["listen"] = "127.0.0.1:0" };
        await File.WriteAllTextAsync(configPath, config.ToJsonString());

        var startup = await NodeConfigLoader.LoadAsync(configPath, CancellationToken.None);
        _host = NodeHost.Build(new NodeSettings(Region, "tj-anchor-test", new IPEndPoint(IPAddress.Loopback, 0)), startup);
        await _host.StartAsync();
        _channel = GrpcChannel.ForAddress(NodeHost.ListeningAddress(_host));
        return new NodeService.NodeServiceClient(_channel);
    }

    /// <summary>Submits <paramref name="count"/> credit records as the Tianjin regulator, each waited for until committed; their heights.</summary>
    private async Task<List<long>> CommitAsync(NodeService.NodeServiceClient client, int count, ulong firstNonce = 0)
    {
        var genesis = GenesisLoader.Load(await File.ReadAllTextAsync(_setup.GenesisPath)).Document!;
        _member ??= KeySource.OpenSigner(
            new KeySourceOptions { Keystore = new KeystoreKeyOptions { Path = _setup.Members[TianjinRegulator].KeyPath, Password = new SecretSourceOptions { File = _setup.PasswordFile } } },
            _setup.Members[TianjinRegulator].Address);
        var heights = new List<long>();
        for (var nonce = firstNonce; nonce < firstNonce + (ulong)count; nonce++)
        {
            var body = new CreditRecordSubmit(Build.Id($"anchored end to end {nonce}"), "uscc:91350100M000100Y43", RecordCategory.AdministrativePenalty, Severity.Moderate, "120101", LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(-1)), 6, "Administrative Penalty Law, art. 28", "", Build.Id("payload"));
            var transaction = SignedTransaction.Sign(_member, genesis.Eip712Domain.ToDomain(), genesis.ChainId, nonce, body);
            var response = await client.SubmitTransactionAsync(new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(TransactionCodec.Encode(transaction)), WaitForCommit = true });
            Assert.True(response.Status == TransactionStatus.Committed, response.ToString());
            heights.Add(response.Height);
        }

        return heights;
    }

    /// <summary>The first run of the anchor job (already recorded, or completed from now on) that <paramref name="matches"/>.</summary>
    private Task<JobRun> WaitForRun(Func<JobRun, bool> matches)
    {
        var runs = _host!.Services.GetRequiredService<JobRuns>();
        var found = new TaskCompletionSource<JobRun>(TaskCreationOptions.RunContinuationsAsynchronously);
        runs.Completed += run =>
        {
            if (run.Job == AnchorJob.JobName && matches(run))
            {
                found.TrySetResult(run);
            }
        };
        if (runs.Last.FirstOrDefault(r => r.Job == AnchorJob.JobName && matches(r)) is { } already)
        {
            found.TrySetResult(already);
        }

        return found.Task;
    }

    /// <summary>GET /metrics on the metrics listener over HTTP/1.1, parsed as the Prometheus text format: series → value.</summary>
    private async Task<Dictionary<string, double>> ScrapeAsync()
    {
        var addresses = _host!.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        using var http = new HttpClient();
        foreach (var address in addresses.Skip(1))
        {
            using var response = await http.GetAsync(new Uri(new Uri(address), "/metrics"));
            if (!response.IsSuccessStatusCode)
            {
                continue;
            }

            var samples = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
            {
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }

                var space = line.LastIndexOf(' ');
                samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            }

            return samples;
        }

        throw new InvalidOperationException($"no listener of {string.Join(", ", addresses)} serves /metrics");
    }
}
