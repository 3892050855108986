using SmartCity.CreditApi.Bench;

namespace SmartCity.CreditApi.Tests.Cluster;

/// <summary>The cluster benchmark's split of a node's CPU by kind of thread (<c>/proc/PID/task</c>).</summary>
public sealed class BenchThreadCpuTests
{
    [Theory]
    [InlineData(".NET TP Worker", ".NET TP Worker")]
    [InlineData(".NET Server GC", ".NET Server GC")]
    [InlineData("smartcity", "main")]
    [InlineData("dotnet", "main")]
    [InlineData("1234", "other")]
    public void A_threads_kind_is_its_name_without_digits(string name, string kind)
        => Assert.Equal(kind, BenchNodeProcess.ThreadKind(name));

    [Fact]
    public void This_process_threads_are_grouped_by_kind_and_their_cpu_adds_up_to_at_most_the_process_cpu()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // /proc only
        }

        var before = BenchNodeProcess.ProcessCpu(Environment.ProcessId);
        var kinds = BenchNodeProcess.ThreadCpu(Environment.ProcessId);
        var after = BenchNodeProcess.ProcessCpu(Environment.ProcessId);
        Assert.NotEmpty(kinds);
        Assert.All(kinds.Keys, k => Assert.DoesNotContain(k, c => char.IsAsciiDigit(c)));
        Assert.True(kinds.Values.All(v => v >= TimeSpan.Zero));
        Assert.True(kinds.Values.Aggregate(TimeSpan.Zero, (a, b) => a + b) <= after + TimeSpan.FromSeconds(0.02), $"threads {string.Join(", ", kinds)}; process {before}..{after}");
    }
}
