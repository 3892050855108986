using Microsoft.Extensions.Logging;
using SmartCity.CreditApi.Node;
using SmartCity.Testing.TestKit;

namespace SmartCity.CreditApi.Tests.Grpc;

/// <summary>One Warning line per reason per interval; the next line says how many were suppressed.</summary>
public sealed class TrafficWarningsTests
{
    [Fact]
    public void A_flood_writes_one_line_per_interval_and_the_next_line_counts_what_was_suppressed()
    {
        var time = new ManualTime();
        using var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        var warnings = new TrafficWarnings(factory.CreateLogger<TrafficWarnings>(), time, TimeSpan.FromSeconds(10));

        for (var i = 0; i < 1000; i++)
        {
            warnings.Report(TrafficReason.ConnectionLimit, "127.0.0.1:1", "full");
        }

        time.Advance(TimeSpan.FromSeconds(9));
        warnings.Report(TrafficReason.ConnectionLimit, "127.0.0.1:1", "full");
        var afterNineSeconds = logs.Entries.Count();
        time.Advance(TimeSpan.FromSeconds(1));
        warnings.Report(TrafficReason.ConnectionLimit, "127.0.0.1:2", "full");

        var lines = logs.Entries.ToList();
        Assert.Equal(1, afterNineSeconds);
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Equal((3200, LogLevel.Warning), (l.EventId, l.Level)));
        Assert.Equal("Connection from 127.0.0.1:1 refused: full", lines[0].Message);
        Assert.Equal("Connection from 127.0.0.1:2 refused: full (1000 more suppressed in the last 10 s)", lines[1].Message);
        Assert.Equal(1002, warnings.Count(TrafficReason.ConnectionLimit));
    }

    [Fact]
    public void Each_reason_has_its_own_interval_and_event_id()
    {
        var time = new ManualTime();
        using var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        var warnings = new TrafficWarnings(factory.CreateLogger<TrafficWarnings>(), time, TimeSpan.FromMinutes(1));

        foreach (var reason in Enum.GetValues<TrafficReason>())
        {
            warnings.Report(reason, null, "x");
            warnings.Report(reason, null, "x");
        }

        Assert.Equal([3200, 3201, 3202, 3203, 3204], logs.Entries.Select(e => e.EventId));
    }
}
