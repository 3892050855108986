using System.Diagnostics;
using SmartCity.Ledger.Tests.Consensus.Simulation;
using Xunit.Abstractions;

namespace SmartCity.Ledger.Tests.Consensus;

/// <summary>
/// The deterministic simulator (docs/consensus.md, "Simulator"). CI runs <see cref="CiSeeds"/> seeds on the simulated
/// curve and a smaller set on real secp256k1; a failing seed prints the one command that replays it.
/// <c>SMARTCITY_SIM_SEEDS=N</c> (and <c>SMARTCITY_SIM_FIRST_SEED</c>) turns the soak test into an N-seed run:
/// <c>bash scripts/consensus-soak.sh 100000</c>.
/// </summary>
public sealed class ConsensusSimulationTests(ITestOutputHelper output)
{
    private const int CiSeeds = 2_000;
    private const int RealCryptoSeeds = 40;

    [Fact]
    public void Two_thousand_seeded_runs_keep_agreement_validity_and_liveness()
        => RunSeeds(1, CiSeeds, new SimulationOptions());

    [Fact]
    public void Seeded_runs_on_real_secp256k1_keep_agreement_validity_and_liveness()
        => RunSeeds(1_000_001, RealCryptoSeeds, new SimulationOptions { RealCrypto = true });

    [Fact]
    public void Same_seed_gives_the_same_run()
    {
        for (var seed = 7; seed < 12; seed++)
        {
            var first = SimulationWorld.Run(seed);
            var second = SimulationWorld.Run(seed);
            Assert.Equal((first.VirtualMs, first.Events, first.Deliveries, first.MinHonestHeight), (second.VirtualMs, second.Events, second.Deliveries, second.MinHonestHeight));
        }
    }

    [Fact]
    public void Checker_catches_validators_that_forget_their_votes_on_restart()
    {
        // Amnesia planted on purpose: restarted nodes ignore their journal. The double-vote check must notice.
        var caught = Enumerable.Range(1, 2_000)
            .Select(seed => SimulationWorld.Run(seed, new SimulationOptions { ForgetJournalOnRestart = true }))
            .FirstOrDefault(r => !r.Passed);
        Assert.NotNull(caught);
        output.WriteLine($"{caught.Scenario.Describe()}: {caught.Violations[0]}");
        Assert.Contains(caught.Violations, v => v.Contains("double vote", StringComparison.Ordinal) || v.Contains("agreement", StringComparison.Ordinal));
    }

    /// <summary>Replays one seed with a trace: <c>SMARTCITY_SIM_SEED=N dotnet test tests/SmartCity.Ledger.Tests --filter "FullyQualifiedName~Replay_one_seed"</c>.</summary>
    [Fact]
    public void Replay_one_seed_from_the_environment()
    {
        if (Environment.GetEnvironmentVariable("SMARTCITY_SIM_SEED") is not { } text)
        {
            return;
        }

        var seed = int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        var real = Environment.GetEnvironmentVariable("SMARTCITY_SIM_REAL_CRYPTO") == "1";
        var result = SimulationWorld.Run(seed, new SimulationOptions { RealCrypto = real, Trace = true });
        output.WriteLine(result.Scenario.Describe());
        foreach (var line in result.Trace)
        {
            output.WriteLine(line);
        }

        Assert.True(result.Passed, string.Join(Environment.NewLine, result.Violations));
    }

    [Fact]
    public void Soak_runs_the_number_of_seeds_in_the_environment()
    {
        if (Environment.GetEnvironmentVariable("SMARTCITY_SIM_SEEDS") is not { } text)
        {
            return;
        }

        var count = int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        var first = int.Parse(Environment.GetEnvironmentVariable("SMARTCITY_SIM_FIRST_SEED") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        RunSeeds(first, count, new SimulationOptions { RealCrypto = Environment.GetEnvironmentVariable("SMARTCITY_SIM_REAL_CRYPTO") == "1" });
    }

    private void RunSeeds(int first, int count, SimulationOptions options)
    {
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var results = new SimulationResult[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i => results[i] = SimulationWorld.Run(first + i, options));
        clock.Stop();
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;

        var failed = results.Where(r => !r.Passed).ToList();
        var liveness = results.Where(r => r.LivenessMs is not null).Select(r => r.LivenessMs!.Value).Order().ToList();
        output.WriteLine($"{count} seeds from {first} ({(options.RealCrypto ? "secp256k1" : "simulated curve")}): {count - failed.Count} passed, {failed.Count} failed "
            + $"in {clock.Elapsed.TotalSeconds:F1} s ({cpu.TotalSeconds:F1} CPU s); {results.Sum(r => r.Events):N0} events, {results.Sum(r => r.Deliveries):N0} deliveries, "
            + $"{results.Sum(r => r.VirtualMs) / 1000:N0} virtual s; heights at heal up to {results.Max(r => r.HeightAtHeal)}; "
            + $"progress after healing: median {Percentile(liveness, 0.5)} ms, p99 {Percentile(liveness, 0.99)} ms, max {liveness.LastOrDefault()} ms");
        foreach (var failure in failed.Take(10))
        {
            output.WriteLine($"FAILED {failure.Scenario.Describe()}");
            output.WriteLine($"  {failure.Violations[0]}");
            output.WriteLine($"  replay: {ReplayCommand(failure.Scenario)}");
        }

        Assert.True(failed.Count == 0, failed.Count == 0 ? string.Empty
            : $"{failed.Count} of {count} seeds failed; first: {failed[0].Scenario.Describe()}: {failed[0].Violations[0]}{Environment.NewLine}replay: {ReplayCommand(failed[0].Scenario)}");
    }

    private static string ReplayCommand(SimulationScenario scenario)
        => $"SMARTCITY_SIM_SEED={scenario.Seed}{(scenario.Options.RealCrypto ? " SMARTCITY_SIM_REAL_CRYPTO=1" : string.Empty)} "
            + "dotnet test tests/SmartCity.Ledger.Tests --filter \"FullyQualifiedName~Replay_one_seed\" --logger \"console;verbosity=detailed\"";

    private static long Percentile(List<long> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
}
