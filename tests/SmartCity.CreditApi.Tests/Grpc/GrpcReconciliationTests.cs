using System.Buffers.Binary;
using System.Net;
using System.Numerics;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Hosting;
using SmartCity.CreditApi.Node;
using SmartCity.CreditApi.Tests.Api;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Jobs;
using SmartCity.Ledger.Jobs.Scheduling;
using SmartCity.Ledger.Jobs.State;

namespace SmartCity.CreditApi.Tests.Grpc;

/// <summary>
/// Reconciliation over gRPC between two real node hosts (Kestrel on port 0): the reconciling node reads its configured
/// peer's certified headers through the peer's AuditService, signed with <c>jobs.reconciliation.memberKey</c>.
/// </summary>
public sealed class GrpcReconciliationTests : IAsyncLifetime
{
    private const int TianjinRegulator = 1;
    private LedgerSetup _setup = null!;
    private readonly List<WebApplication> _hosts = [];

    public async Task InitializeAsync() => _setup = await LedgerSetup.CreateAsync("TJ");

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.StopAsync();
            await host.DisposeAsync();
        }

        await _setup.DisposeAsync();
    }

    [Fact]
    public async Task A_peer_whose_store_was_tampered_with_is_reported_at_that_height_naming_the_state_root()
    {
        // Four blocks on the validator; then a copy of its store serves as a read-only peer, with block 2's state root changed.
        var validator = await StartAsync(await _setup.StartupAsync());
        var startup = await _setup.StartupAsync();
        var domain = startup.Genesis.Eip712Domain.ToDomain();
        var client = new NodeService.NodeServiceClient(GrpcChannel.ForAddress(NodeHost.ListeningAddress(validator)));
        for (var nonce = 0UL; nonce < 4; nonce++)
        {
            var transaction = SignedTransaction.Sign(_setup.MemberKey(TianjinRegulator), domain, startup.Genesis.ChainId, nonce, ApiNode.PenaltyBody($"reconciled over grpc {nonce}"));
            var response = await client.SubmitTransactionAsync(new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(TransactionCodec.Encode(transaction)), WaitForCommit = true });
            Assert.Equal(TransactionStatus.Committed, response.Status);
        }

        var header = validator.Services.GetRequiredService<LedgerRuntime>().Node.GetBlockEventAsync(2, CancellationToken.None).AsTask();
        var tampered = (await header).Header.Encode();
        await StopAsync(validator);
        startup.Dispose();
        var peerData = Path.Combine(_setup.Directory, "data", "tj-copy");
        CopyDirectory(Path.Combine(_setup.Directory, "data", "tj"), peerData);
        FlipAndReseal(Path.Combine(peerData, "segments"), tampered, offsetInHeader: 117 + 5); // a byte of the state root

        var peerConfig = Path.Combine(_setup.Directory, "node-tj-copy.json");
        var config = JsonNode.Parse(await File.ReadAllTextAsync(_setup.ConfigPath))!.AsObject();
        config.Remove("validatorKey");
        config["nodeId"] = "tj-copy";
        config["storage"] = new JsonObject { ["kind"] = "embedded", ["dataDirectory"] = "data/tj-copy" };
        config["listen"] = "127.0.0.1:0";
        await File.WriteAllTextAsync(peerConfig, config.ToJsonString());
        var peer = await StartAsync(await NodeConfigLoader.LoadAsync(peerConfig, CancellationToken.None));

        _setup.EditConfig(c => c["jobs"] = new JsonObject
        {
            ["chainAudit"] = new JsonObject { ["enabled"] = false },
            ["creditLifecycle"] = new JsonObject { ["enabled"] = false },
            ["reconciliation"] = new JsonObject
            {
                ["interval"] = "00:00:01",
                ["projections"] = false,
                ["peers"] = new JsonArray(new JsonObject { ["name"] = "tj-copy", ["address"] = NodeHost.ListeningAddress(peer).ToString().TrimEnd('/') }),
                ["memberKey"] = new JsonObject
                {
                    ["keystore"] = new JsonObject { ["path"] = _setup.Result.Members[TianjinRegulator].KeyPath, ["password"] = new JsonObject { ["file"] = _setup.Result.PasswordFile } },
                },
            },
        });
        var reconciling = await StartAsync(await _setup.StartupAsync(), waitFor: ReconciliationJob.JobName);
        var run = await _firstRun!.Task.WaitAsync(TimeSpan.FromSeconds(90));
        var reports = await reconciling.Services.GetRequiredService<LedgerRuntime>().JobState.ListReportsAsync(0, 10, CancellationToken.None);

        Assert.Equal(JobOutcomes.Found, run.Outcome);
        Assert.Contains("3 heights compared", run.Summary, StringComparison.Ordinal); // 0, 1 agree; 2 differs and stops the comparison
        var report = Assert.Single(reports);
        Assert.Equal((JobReportKinds.PeerDivergence, 2L, "tj-copy", "state root"), (report.Kind, report.Height, report.Peer, report.Subject));
        Assert.Contains("is not valid", report.Detail, StringComparison.Ordinal); // the seals do not cover the changed header
    }

    private TaskCompletionSource<JobRun>? _firstRun;

    private async Task<WebApplication> StartAsync(NodeStartup startup, string? waitFor = null)
    {
        var app = NodeHost.Build(new NodeSettings(startup.Config.Region, startup.NodeId, new IPEndPoint(IPAddress.Loopback, 0)), startup);
        if (waitFor is not null)
        {
            _firstRun = new TaskCompletionSource<JobRun>(TaskCreationOptions.RunContinuationsAsynchronously);
            app.Services.GetRequiredService<JobRuns>().Completed += run =>
            {
                if (run.Job == waitFor)
                {
                    _firstRun.TrySetResult(run);
                }
            };
        }

        await app.StartAsync();
        _hosts.Add(app);
        return app;
    }

    private async Task StopAsync(WebApplication app)
    {
        _hosts.Remove(app);
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>
    /// Flips one bit of <paramref name="header"/> where it is stored in a segment and reseals the record's CRC-32C
    /// (frame: magic u32 ‖ length u32 ‖ CRC-32C(length ‖ payload) u32 ‖ payload, little-endian; docs/storage.md), so the
    /// store reads the changed header back as intact: a tampered store, not a damaged one.
    /// </summary>
    private static void FlipAndReseal(string segments, byte[] header, int offsetInHeader)
    {
        foreach (var path in Directory.GetFiles(segments, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var content = File.ReadAllBytes(path);
            var at = content.AsSpan().IndexOf(header);
            if (at < 0)
            {
                continue;
            }

            var record = 16; // the segment file's own header (magic, version), then the records
            while (record + 12 + BinaryPrimitives.ReadInt32LittleEndian(content.AsSpan(record + 4)) <= at)
            {
                record += 12 + BinaryPrimitives.ReadInt32LittleEndian(content.AsSpan(record + 4));
            }

            content[at + offsetInHeader] ^= 0x01;
            var length = BinaryPrimitives.ReadInt32LittleEndian(content.AsSpan(record + 4));
            var crc = 0xFFFFFFFFu;
            foreach (var b in content.AsSpan(record + 4, 4))
            {
                crc = BitOperations.Crc32C(crc, b);
            }

            foreach (var b in content.AsSpan(record + 12, length))
            {
                crc = BitOperations.Crc32C(crc, b);
            }

            BinaryPrimitives.WriteUInt32LittleEndian(content.AsSpan(record + 8), ~crc);
            File.WriteAllBytes(path, content);
            return;
        }

        throw new InvalidOperationException("the header is in no segment of the store");
    }
}
