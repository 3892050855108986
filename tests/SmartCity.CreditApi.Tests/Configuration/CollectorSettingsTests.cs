using SmartCity.CreditApi.Node;

namespace SmartCity.CreditApi.Tests.Configuration;

public sealed class CollectorSettingsTests
{
    [Fact]
    public void The_runtime_s_variables_read_as_one_line_naming_each_setting_a_memory_measurement_depends_on()
    {
        // What GC.GetConfigurationVariables() returned under NodeProcess.props on this machine (2 cores).
        var server = new Dictionary<string, object>
        {
            ["ServerGC"] = true,
            ["ConcurrentGC"] = true,
            ["HeapCount"] = 2L,
            ["GCDynamicAdaptationMode"] = 1L,
            ["GCConserveMem"] = 9L,
            ["LOHThreshold"] = 4_194_216L,
            ["GCHeapHardLimit"] = 0L,
        };

        Assert.Equal(
            "collector: server GC (2 heaps, adaptive), concurrent, conserve memory 9, large objects from 4 MiB, no heap limit",
            CollectorSettings.Describe(server));
    }

    [Fact]
    public void Runtime_defaults_and_environment_overrides_read_as_such()
    {
        // DOTNET_gcServer=0 DOTNET_gcConcurrent=0 DOTNET_GCConserveMemory=0 DOTNET_GCHeapHardLimit=0x30000000, the
        // default threshold.
        var workstation = new Dictionary<string, object>
        {
            ["ServerGC"] = false,
            ["ConcurrentGC"] = false,
            ["HeapCount"] = 1L,
            ["GCConserveMem"] = 0L,
            ["LOHThreshold"] = 85_000L,
            ["GCHeapHardLimit"] = 768L << 20,
        };

        Assert.Equal(
            "collector: workstation GC, not concurrent, no memory conservation, large objects from 83 KiB, heap limit 768 MiB",
            CollectorSettings.Describe(workstation));
    }

    [Fact]
    public void This_process_s_own_collector_is_described_from_the_runtime()
    {
        var line = CollectorSettings.Describe();

        Assert.Equal(CollectorSettings.Describe(GC.GetConfigurationVariables()), line);
        Assert.StartsWith(System.Runtime.GCSettings.IsServerGC ? "collector: server GC (" : "collector: workstation GC, ", line, StringComparison.Ordinal);
    }
}
