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
        Assert.InRange(result.GetProperty("received").GetInt32(), 1, 20);
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
        Assert.Equal(["Health", "Status", "Watch"], result.GetProperty("methods").EnumerateArray().Select(e => e.GetString()).Order(StringComparer.Ordinal));
        Assert.Equal(("found by reflection", region), (Text(result, "echo"), Text(result, "region")));
    }

    private static string? Text(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) ? value.GetString() : null;
}
