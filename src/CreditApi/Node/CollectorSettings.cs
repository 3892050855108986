using System.Globalization;

namespace SmartCity.CreditApi.Node;

/// <summary>
/// The garbage collector this process runs with, as the runtime reports it (<see cref="GC.GetConfigurationVariables"/>:
/// the runtimeconfig that NodeProcess.props writes, overridden by any <c>DOTNET_GC…</c> environment variable). The node
/// prints it before it listens and <c>bench fill</c> with its first line, so a memory measurement names the collector
/// it was taken under (docs/node.md, "Memory").
/// </summary>
public static class CollectorSettings
{
    /// <summary>One line: <c>collector: server GC (2 heaps, adaptive), concurrent, conserve memory 9, large objects from 4 MiB, no heap limit</c>.</summary>
    public static string Describe() => Describe(GC.GetConfigurationVariables());

    /// <summary>The line for the runtime's GC configuration variables <paramref name="settings"/>.</summary>
    public static string Describe(IReadOnlyDictionary<string, object> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var server = Flag(settings, "ServerGC");
        var kind = server
            ? $"server GC ({Number(settings, "HeapCount")} heaps{(Number(settings, "GCDynamicAdaptationMode") == 1 ? ", adaptive" : string.Empty)})"
            : "workstation GC";
        var concurrent = Flag(settings, "ConcurrentGC") ? "concurrent" : "not concurrent";
        var conserve = Number(settings, "GCConserveMem") is var level and > 0 ? $"conserve memory {level}" : "no memory conservation";
        var limit = Number(settings, "GCHeapHardLimit") is var bytes and > 0 ? $"heap limit {Size(bytes)}" : "no heap limit";
        return $"collector: {kind}, {concurrent}, {conserve}, large objects from {Size(Number(settings, "LOHThreshold"))}, {limit}";
    }

    private static bool Flag(IReadOnlyDictionary<string, object> settings, string name) => settings.TryGetValue(name, out var value) && value is true;

    private static long Number(IReadOnlyDictionary<string, object> settings, string name) =>
        settings.TryGetValue(name, out var value) && value is IConvertible convertible ? convertible.ToInt64(CultureInfo.InvariantCulture) : 0;

    // The runtime keeps the large-object threshold a few bytes under what was asked (4,194,216 for 4 MiB): round to the
    // unit it was given in.
    private static string Size(long bytes) => bytes switch
    {
        >= 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{Math.Round(bytes / (double)(1 << 20), 1)} MiB"),
        >= 1 << 10 => string.Create(CultureInfo.InvariantCulture, $"{Math.Round(bytes / 1024.0, 1)} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
    };
}
