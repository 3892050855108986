using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace SmartCity.Benchmarks;

public static class BenchmarkEntry
{
    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "--batch-scaling")
        {
            return Crypto.BatchScaling.Run(Console.Out);
        }

        if (args.Length > 0 && args[0] == "--sm2-vs-openssl")
        {
            return Crypto.Sm2VersusOpenSsl.Run(Console.Out, args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5);
        }

        var quick = args.Length > 0 && args[0] == "--quick";
        var rest = quick ? args[1..] : args;

        // `--in-process` (after --quick) runs the quick job in this process: no generated project to build, which on
        // a loaded machine can exceed BenchmarkDotNet's 2-minute build timeout.
        var inProcess = quick && rest.Length > 0 && rest[0] == "--in-process";
        rest = inProcess ? rest[1..] : rest;
        var quickJob = Job.ShortRun.WithWarmupCount(2).WithIterationCount(5).WithLaunchCount(1);
        // The generated benchmark project is built while other work shares the machine: allow more than the 2-minute default.
        var config = ManualConfig.Create(quick
            ? DefaultConfig.Instance.AddJob(inProcess ? quickJob.WithToolchain(InProcessEmitToolchain.Instance) : quickJob)
            : DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(20));
        if (rest.Length == 0)
        {
            rest = ["--filter", "*"];
        }

        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkEntry).Assembly).Run(rest, config);
        return 0;
    }
}
