using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

namespace SmartCity.Benchmarks;

public static class BenchmarkEntry
{
    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "--batch-scaling")
        {
            return Crypto.BatchScaling.Run(Console.Out);
        }

        var quick = args.Length > 0 && args[0] == "--quick";
        // The generated benchmark project is built while other work shares the machine: allow more than the 2-minute default.
        var config = ManualConfig.Create(quick
            ? DefaultConfig.Instance.AddJob(Job.ShortRun.WithWarmupCount(2).WithIterationCount(5).WithLaunchCount(1))
            : DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(20));
        var rest = quick ? args[1..] : args;
        if (rest.Length == 0)
        {
            rest = ["--filter", "*"];
        }

        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkEntry).Assembly).Run(rest, config);
        return 0;
    }
}
