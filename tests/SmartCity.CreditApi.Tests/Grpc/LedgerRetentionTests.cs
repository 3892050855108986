using System.Net;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Hosting;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;

namespace SmartCity.CreditApi.Tests.Grpc;

/// <summary>
/// A node configured with <c>retention.stateVersions</c> (issue 9 item 3): Status says which state versions it keeps
/// and what its store's recovery did; GetReceipt proves against any retained height and refuses a pruned one with a
/// precise status (FAILED_PRECONDITION, STATE_PRUNED), never a wrong answer; history is never pruned.
/// </summary>
public sealed class LedgerRetentionTests : IAsyncLifetime
{
    private readonly RetentionNode _node = new();
    private GenesisDocument _genesis = null!;
    private Eip712Domain _domain = null!;

    private NodeService.NodeServiceClient Client => _node.Client;

    public async Task InitializeAsync()
    {
        await _node.InitializeAsync();
        _genesis = (await _node.Ledger.StartupAsync()).Genesis;
        _domain = _genesis.Eip712Domain.ToDomain();
    }

    public Task DisposeAsync() => _node.DisposeAsync();

    private async Task<string> CommitAsync(ulong nonce)
    {
        var body = new CreditRecordSubmit(Keccak256.Hash(BitConverter.GetBytes(nonce)), "uscc:91350100M000100Y43", RecordCategory.AdministrativePenalty, Severity.Moderate, "120101",
            LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(-1)), 6, "Administrative Penalty Law, art. 28", "", Keccak256.Hash("payload"u8));
        var tx = SignedTransaction.Sign(_node.Ledger.MemberKey(1), _domain, _genesis.ChainId, nonce, body);
        var response = await Client.SubmitTransactionAsync(new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(TransactionCodec.Encode(tx)), WaitForCommit = true });
        Assert.Equal(TransactionStatus.Committed, response.Status);
        return response.TransactionId;
    }

    private static string Reason(RpcException error) => error.GetRpcStatus()!.GetDetail<ErrorInfo>()!.Reason;

    [Fact]
    public async Task A_state_receipt_below_the_retention_window_is_failed_precondition_state_pruned_and_one_inside_it_verifies()
    {
        var first = await CommitAsync(0);
        for (var nonce = 1UL; nonce < 4; nonce++)
        {
            await CommitAsync(nonce);
        }

        var status = (await Client.StatusAsync(new StatusRequest())).Ledger;
        var key = StateKeys.Nonce(_node.Ledger.MemberKey(1).Address).Text;

        var pruned = await Assert.ThrowsAsync<RpcException>(() => Client.GetReceiptAsync(new GetReceiptRequest { StateKey = key, At = new ReceiptHeight { Height = 1 } }).ResponseAsync);
        var kept = await Client.GetReceiptAsync(new GetReceiptRequest { StateKey = key, At = new ReceiptHeight { Height = 3 } });
        var above = await Assert.ThrowsAsync<RpcException>(() => Client.GetReceiptAsync(new GetReceiptRequest { StateKey = key, At = new ReceiptHeight { Height = 99 } }).ResponseAsync);
        var negative = await Assert.ThrowsAsync<RpcException>(() => Client.GetReceiptAsync(new GetReceiptRequest { StateKey = key, At = new ReceiptHeight { Height = -1 } }).ResponseAsync);
        var early = await Client.GetReceiptAsync(new GetReceiptRequest { TransactionId = first, At = new ReceiptHeight { Height = 1 } });
        var beforeIt = await Assert.ThrowsAsync<RpcException>(() => Client.GetReceiptAsync(new GetReceiptRequest { TransactionId = first, At = new ReceiptHeight { Height = 0 } }).ResponseAsync);

        Assert.Equal((4L, 3L, 2L), (status.Height, status.StateRetainedFrom, status.StateRetentionBlocks));
        Assert.Equal(("genesis", true, false), (status.OpenedFrom, status.Recovery.Clean, status.StoreUnavailable));
        Assert.Equal((StatusCode.FailedPrecondition, "STATE_PRUNED"), (pruned.StatusCode, Reason(pruned)));
        Assert.Contains("from height 3", pruned.Status.Detail, StringComparison.Ordinal);
        Assert.Equal((StatusCode.OutOfRange, "UNKNOWN_HEIGHT"), (above.StatusCode, Reason(above)));
        Assert.Equal(StatusCode.InvalidArgument, negative.StatusCode);
        Assert.Equal((StatusCode.FailedPrecondition, "TRANSACTION_NOT_YET_COMMITTED"), (beforeIt.StatusCode, Reason(beforeIt)));
        Assert.Equal((3L, 1L), (kept.Height, early.Height));
        foreach (var json in new[] { kept.ReceiptJson, early.ReceiptJson })
        {
            Assert.True(ReceiptJson.TryParse(json, out var receipt, out var error), error);
            var verdict = ReceiptVerifier.Verify(receipt, TrustAnchor.FromGenesis(_genesis), Secp256k1.Default);
            Assert.True(verdict.IsValid, verdict.Reason);
        }

        Assert.True(ReceiptJson.TryParse(kept.ReceiptJson, out var state, out _));
        Assert.Equal(3UL, StateValue.Decode(((StateReceipt)state).Value!, CounterState.Read).Value); // nonces 0-2 committed by block 3
    }

    private sealed class RetentionNode : InProcessNode
    {
        protected override void ConfigureLedger(System.Text.Json.Nodes.JsonObject config)
            => config["retention"] = new System.Text.Json.Nodes.JsonObject { ["stateVersions"] = 2, ["pruneEveryBlocks"] = 1 };
    }
}

/// <summary>Issue 10 item 2: what the store repaired when the node opened it is in the node's Status, not only in its log.</summary>
public sealed class LedgerRecoveryStatusTests
{
    [Fact]
    public async Task Status_shows_the_torn_tail_the_store_cut_when_the_node_reopened_and_that_it_opened_from_the_stored_trees()
    {
        await using var setup = await LedgerSetup.CreateAsync("TJ");
        var startup = await setup.StartupAsync();
        var genesis = startup.Genesis;
        var domain = genesis.Eip712Domain.ToDomain();
        var body = new CreditRecordSubmit(Keccak256.Hash("recovery"u8), "uscc:91350100M000100Y43", RecordCategory.AdministrativePenalty, Severity.Moderate, "120101",
            LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(-1)), 6, "Administrative Penalty Law, art. 28", "", Keccak256.Hash("payload"u8));
        var tx = SignedTransaction.Sign(setup.MemberKey(1), domain, genesis.ChainId, 0, body);

        var first = await WithNodeAsync(startup, async client =>
        {
            await client.SubmitTransactionAsync(new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(TransactionCodec.Encode(tx)), WaitForCommit = true });
            return (await client.StatusAsync(new StatusRequest())).Ledger;
        });

        // The process died while writing the next block's record: its first bytes are at the end of the last segment.
        var segment = Directory.GetFiles(Path.Combine(startup.Embedded!.DataDirectory, "segments"), "*.seg").Max()!;
        await using (var file = new FileStream(segment, FileMode.Append))
        {
            await file.WriteAsync("SCB1"u8.ToArray().Concat(new byte[60]).ToArray());
        }

        var second = await WithNodeAsync(await setup.StartupAsync(), async client => (await client.StatusAsync(new StatusRequest())).Ledger);

        Assert.Equal(("genesis", true), (first.OpenedFrom, first.Recovery.Clean));
        Assert.Equal(("stored-trees", false), (second.OpenedFrom, second.Recovery.Clean));
        Assert.Equal((1L, first.StateRoot, 1L), (second.Height, second.StateRoot, second.Recovery.OpenedAtHeight));
        var cut = Assert.Single(second.Recovery.Actions, a => a.Kind == "TailTruncated");
        Assert.Contains("torn record of block 2", cut.Detail, StringComparison.Ordinal);
    }

    private static async Task<T> WithNodeAsync<T>(CreditApi.Node.NodeStartup startup, Func<NodeService.NodeServiceClient, Task<T>> use)
    {
        var app = NodeHost.Build(new CreditApi.Node.NodeSettings("TJ", "tj-recovery", new IPEndPoint(IPAddress.Loopback, 0)), startup);
        await app.StartAsync();
        try
        {
            using var channel = GrpcChannel.ForAddress(NodeHost.ListeningAddress(app));
            return await use(new NodeService.NodeServiceClient(channel));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
