using System.Text.Json;
using SmartCity.Contracts.Node.V1;
using Ending = SmartCity.Contracts.Node.V1.WatchOutcome.Types.Ending;

namespace SmartCity.CreditApi.Tests.Grpc.Infrastructure;

/// <summary>
/// The scenarios every foreign client runs against a node, with what the node must be seen to do. The scripts
/// under tests/interop print the same JSON shape, so each assertion is written once.
/// </summary>
internal static class InteropScenarios
{
    public static async Task UnaryCallCarriesFieldsAndMetadataBothWaysAsync(InteropClient client, string target, string region, string nodeId)
    {
        var result = await client.RunAsync(target, "unary");

        Assert.Equal("OK", Text(result, "code"));
        Assert.Equal((region, nodeId, "0.1.0", $"hello from {client.Language}"), (Text(result, "region"), Text(result, "node_id"), Text(result, "version"), Text(result, "echo")));
        var headers = result.GetProperty("headers");
        var trailers = result.GetProperty("trailers");
        Assert.Equal(region, Text(headers, "x-node-region"));
        Assert.Equal($"{client.Language}-42", Text(headers, "x-request-id"));
        Assert.Equal(nodeId, Text(trailers, "x-node-id"));
        Assert.Equal("0001feff", Text(trailers, "x-trace-bin"));
    }

    public static async Task DeadlineThatExpiresIsSeenByTheClientAndCancelsTheServerAsync(InteropClient client, string target, NodeService.NodeServiceClient probe)
    {
        var watchId = WatchJournalProbe.NewWatchId($"{client.Language}-deadline");

        var result = await client.RunAsync(target, "deadline", "--watch-id", watchId);

        Assert.Equal("DEADLINE_EXCEEDED", Text(result, "code"));
        Assert.InRange(result.GetProperty("received").GetInt32(), 1, 60); // 50 ms heartbeats for a 2 s deadline: it ended near the deadline, not later
        WatchJournalProbe.AssertCutShortByTheClientOrTheDeadline(await WatchJournalProbe.WaitForOutcomeAsync(probe, watchId));
    }

    public static async Task OversizedMessageIsRejectedWithResourceExhaustedAsync(InteropClient client, string target, int maxReceiveMessageSize)
    {
        var result = await client.RunAsync(target, "oversized", "--size", maxReceiveMessageSize.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal("RESOURCE_EXHAUSTED", Text(result, "code"));
        Assert.Equal("Received message exceeds the maximum configured message size.", Text(result, "details"));
    }

    public static async Task UnknownMethodAnswersUnimplementedAsync(InteropClient client, string target)
    {
        var result = await client.RunAsync(target, "unimplemented");

        Assert.Equal("UNIMPLEMENTED", Text(result, "code"));
        Assert.Equal("Method is unimplemented.", Text(result, "details"));
    }

    public static async Task StreamCancelledMidwayIsObservedByTheServerAsync(InteropClient client, string target, NodeService.NodeServiceClient probe)
    {
        var watchId = WatchJournalProbe.NewWatchId($"{client.Language}-cancel");

        var result = await client.RunAsync(target, "cancel", "--watch-id", watchId);

        Assert.Equal("CANCELLED", Text(result, "code"));
        Assert.Equal(3, result.GetProperty("received").GetInt32());
        var outcome = await WatchJournalProbe.WaitForOutcomeAsync(probe, watchId);
        Assert.Equal(Ending.Cancelled, outcome.Ending);
        // Heartbeats every 20 ms under a 30 s deadline: a server that ignored the cancellation would send ~1,500.
        // Allow a loaded machine seconds of lag before the server observes the reset.
        Assert.InRange(outcome.HeartbeatsSent, 3, 250);
    }

    /// <summary>grpc.health.v1.Health/Check through the standard health.proto: SERVING for the whole node ("") and for NodeService.</summary>
    public static async Task HealthAnswersServingForTheNodeAndItsServiceAsync(InteropClient client, string target)
    {
        foreach (var service in new[] { "", "smartcity.node.v1.NodeService" })
        {
            var result = await client.RunAsync(target, "health", "--service", service);

            Assert.Equal(("OK", "SERVING"), (Text(result, "code"), Text(result, "status")));
        }
    }

    public static async Task HealthOfAnUnknownServiceIsNotFoundAsync(InteropClient client, string target)
    {
        var result = await client.RunAsync(target, "health", "--service", "smartcity.nowhere.v1.Nothing");

        Assert.Equal("NOT_FOUND", Text(result, "code"));
    }

    /// <summary>
    /// A readiness condition the node runtime has not met yet turns the health answer to NOT_SERVING, and back to
    /// SERVING once it is met.
    /// </summary>
    public static async Task HealthFollowsTheNodesReadinessAsync(InteropClient client, string target, Node.NodeReadiness readiness)
    {
        var condition = $"test-{client.Language}-{Guid.NewGuid():N}";
        readiness.Require(condition, "opening");
        try
        {
            var waiting = await client.RunAsync(target, "health", "--service", "");
            Assert.Equal(("OK", "NOT_SERVING"), (Text(waiting, "code"), Text(waiting, "status")));
        }
        finally
        {
            readiness.Ready(condition);
        }

        var ready = await client.RunAsync(target, "health", "--service", "");
        Assert.Equal(("OK", "SERVING"), (Text(ready, "code"), Text(ready, "status")));
    }

    /// <summary>
    /// Server reflection (grpc.reflection.v1) lists every service, and the file it returns for NodeService is enough
    /// for a client holding no .proto of the node to call Status.
    /// </summary>
    public static async Task ReflectionListsTheServicesAndDescribesNodeServiceWellEnoughToCallItAsync(InteropClient client, string target, string region)
    {
        var result = await client.RunAsync(target, "reflection");

        Assert.Equal("OK", Text(result, "code"));
        var services = result.GetProperty("services").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("smartcity.node.v1.NodeService", services);
        Assert.Contains("grpc.health.v1.Health", services);
        Assert.Contains("grpc.reflection.v1.ServerReflection", services);
        Assert.Equal(["GetReceipt", "GetTransaction", "Health", "Status", "SubmitTransaction", "Watch", "WatchBlocks"], result.GetProperty("methods").EnumerateArray().Select(e => e.GetString()).Order(StringComparer.Ordinal));
        Assert.Equal(("found by reflection", region), (Text(result, "echo"), Text(result, "region")));
    }

    /// <summary>
    /// The client submits a signed transaction (bytes made here), waits until it is committed, fetches its inclusion
    /// receipt and the block from WatchBlocks; the receipt verifies offline against the genesis alone and the block's
    /// header hashes to its block hash. The same bytes again are refused (FAILED_PRECONDITION, NonceReused), and bytes
    /// that are not a transaction are INVALID_ARGUMENT (Malformed); neither changes the head.
    /// </summary>
    public static async Task SubmitsWaitsForTheCommitAndGetsAReceiptThatVerifiesOfflineAsync(InteropClient client, string target, LedgerSetup ledger)
    {
        var genesis = (await ledger.StartupAsync()).Genesis;
        var domain = genesis.Eip712Domain.ToDomain();
        var body = new Ledger.Domain.Transactions.CreditRecordSubmit(
            Ledger.Crypto.Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes($"{client.Language} record")), "uscc:91350100M000100Y43", Ledger.Domain.Transactions.RecordCategory.AdministrativePenalty,
            Ledger.Domain.Transactions.Severity.Moderate, "110105", Ledger.State.LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(-1)), 6, "Administrative Penalty Law, art. 28", "", default);
        var tx = Ledger.Domain.Transactions.SignedTransaction.Sign(ledger.MemberKey(0), domain, genesis.ChainId, 0, body);
        var hex = Convert.ToHexStringLower(Ledger.Domain.Transactions.TransactionCodec.Encode(tx));

        var submitted = await client.RunAsync(target, "submit", "--transaction", hex, "--wait");
        Assert.Equal(("OK", "TRANSACTION_STATUS_COMMITTED", tx.Hash(domain).ToString()), (Text(submitted, "code"), Text(submitted, "status"), Text(submitted, "transaction_id")));
        var height = submitted.GetProperty("height").GetInt64();

        var receipt = await client.RunAsync(target, "receipt", "--transaction-id", Text(submitted, "transaction_id")!);
        Assert.Equal("OK", Text(receipt, "code"));
        Assert.True(Ledger.Receipts.ReceiptJson.TryParse(Text(receipt, "receipt_json")!, out var parsed, out var error), error);
        var verdict = Ledger.Receipts.ReceiptVerifier.Verify(parsed, Ledger.Receipts.TrustAnchor.FromGenesis(genesis), Ledger.Crypto.Secp256k1.Default);
        Assert.True(verdict.IsValid, verdict.Reason);

        var watched = await client.RunAsync(target, "watch-blocks", "--from-height", height.ToString(System.Globalization.CultureInfo.InvariantCulture), "--count", "1");
        var block = Assert.Single(watched.GetProperty("blocks").EnumerateArray());
        Assert.True(Ledger.Blocks.BlockHeader.TryDecode(Convert.FromHexString(Text(block, "header")!), out var header, out _));
        Assert.Equal(Text(block, "block_hash"), header!.Hash.ToString());
        Assert.Contains(Text(submitted, "transaction_id"), block.GetProperty("transaction_ids").EnumerateArray().Select(e => e.GetString()));

        var replay = await client.RunAsync(target, "submit", "--transaction", hex, "--wait");
        Assert.Equal(("FAILED_PRECONDITION", "NonceReused"), (Text(replay, "code"), Text(replay, "rejection_code")));
        var malformed = await client.RunAsync(target, "submit", "--transaction", "010203");
        Assert.Equal(("INVALID_ARGUMENT", "Malformed"), (Text(malformed, "code"), Text(malformed, "rejection_code")));
    }

    private static string? Text(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) ? value.GetString() : null;
}
