using System.Text.Json;
using System.Text.Json.Nodes;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;

namespace SmartCity.CreditApi.Tests.Grpc;

/// <summary>The node's <c>logging.format: json</c>: its stderr is one JSON object per line, each with its event id.</summary>
public sealed class NodeJsonLogTests
{
    [Fact]
    public async Task With_the_json_log_format_every_log_line_of_the_node_process_is_a_json_object_with_its_event_id()
    {
        await using var setup = await LedgerSetup.CreateAsync();
        setup.EditConfig(config =>
        {
            config["logging"] = new JsonObject { ["format"] = "json" };
            config["jobs"] = new JsonObject
            {
                ["chainAudit"] = new JsonObject { ["interval"] = "00:00:01" },
                ["reconciliation"] = new JsonObject { ["enabled"] = false },
            };
        });
        await using var node = new NodeProcess(setup.ConfigPath);
        await node.InitializeAsync();

        // Wait for the chain audit's "job finished" event (3300), written by the scheduled job.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        List<JsonObject> events;
        while (true)
        {
            events = [.. node.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseLine)];
            if (events.Any(e => (int?)e["EventId"] == 3300) || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        var finished = events.FirstOrDefault(e => (int?)e["EventId"] == 3300);
        Assert.True(finished is not null, $"no event 3300 within 90 s; the node wrote:\n{node.Error}");
        Assert.Equal("Information", (string?)finished["LogLevel"]);
        Assert.Equal("SmartCity.Ledger.Jobs.Scheduling.ChainAuditJob", (string?)finished["Category"]);
        Assert.Equal("chain-audit", (string?)finished["State"]?["Job"]);
        Assert.All(events, e => Assert.True(e["Timestamp"] is not null && e["Message"] is not null, e.ToJsonString()));
    }

    private static JsonObject ParseLine(string line)
    {
        try
        {
            return JsonNode.Parse(line) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"a log line is not a JSON object ({e.Message}): {line}");
        }
    }
}
