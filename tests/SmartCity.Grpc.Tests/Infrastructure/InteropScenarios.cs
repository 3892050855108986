using System.Text.Json;
using SmartCity.Contracts.Node.V1;
using Ending = SmartCity.Contracts.Node.V1.WatchOutcome.Types.Ending;

namespace SmartCity.Grpc.Tests.Infrastructure;

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
        var encodedSize = maxReceiveMessageSize + 1 + VarintLength(maxReceiveMessageSize);
        Assert.Equal($"Received message of {encodedSize} bytes exceeds the maximum message size of {maxReceiveMessageSize} bytes.", Text(result, "details"));
    }

    public static async Task UnknownMethodAnswersUnimplementedAsync(InteropClient client, string target)
    {
        var result = await client.RunAsync(target, "unimplemented");

        Assert.Equal("UNIMPLEMENTED", Text(result, "code"));
        Assert.Equal("Method 'Missing' is not implemented by service 'smartcity.node.v1.NodeService'.", Text(result, "details"));
    }

    public static async Task StreamCancelledMidwayIsObservedByTheServerAsync(InteropClient client, string target, NodeService.NodeServiceClient probe)
    {
        var watchId = WatchJournalProbe.NewWatchId($"{client.Language}-cancel");

        var result = await client.RunAsync(target, "cancel", "--watch-id", watchId);

        Assert.Equal("CANCELLED", Text(result, "code"));
        Assert.Equal(3, result.GetProperty("received").GetInt32());
        var outcome = await WatchJournalProbe.WaitForOutcomeAsync(probe, watchId);
        Assert.Equal(Ending.Cancelled, outcome.Ending);
        Assert.InRange(outcome.HeartbeatsSent, 3, 10);
    }

    private static string? Text(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) ? value.GetString() : null;

    private static int VarintLength(int value)
    {
        var length = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            length++;
        }

        return length;
    }
}
