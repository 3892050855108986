using System.Diagnostics;

namespace SmartCity.Benchmarks.Crypto;

/// <summary>
/// `--batch-scaling`: times the 10,000-signature batch on 1 thread and on all cores in one ordinary-priority process,
/// alternating the two, and prints the median of each. BenchmarkDotNet raises the priority of its benchmark process,
/// which on Linux renices only the main thread; on a shared, busy machine that starves the extra worker and hides
/// the scaling this measures.
/// </summary>
internal static class BatchScaling
{
    public static int Run(TextWriter output)
    {
        var suite = new BatchVerificationBenchmarks();
        suite.Setup();
        suite.OneThread();
        suite.AllCores();
        var one = new List<double>();
        var all = new List<double>();
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        for (var round = 0; round < 7; round++)
        {
            one.Add(Time(suite.OneThread));
            all.Add(Time(suite.AllCores));
        }

        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds;

        var oneMedian = Median(one);
        var allMedian = Median(all);
        output.WriteLine($"10,000 signatures, 1 thread:  {oneMedian,8:F1} ms (median of 7)");
        output.WriteLine($"10,000 signatures, {Environment.ProcessorCount} cores:   {allMedian,8:F1} ms (median of 7)");
        output.WriteLine($"speed-up: {oneMedian / allMedian:F2}x");
        output.WriteLine($"CPU time per wall-clock second over both: {cpu / (one.Sum() + all.Sum()):F2} (1.5 would mean every thread always ran)");
        return 0;
    }

    private static double Time(Action action)
    {
        var stopwatch = Stopwatch.StartNew();
        action();
        return stopwatch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
