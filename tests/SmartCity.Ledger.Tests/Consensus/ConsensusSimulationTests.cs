using System.Diagnostics;
using SmartCity.Ledger.Tests.Consensus.Simulation;
using Xunit.Abstractions;

namespace SmartCity.Ledger.Tests.Consensus;

/// <summary>
/// The deterministic simulator (docs/consensus.md, "Simulator"). CI runs <see cref="CiSeeds"/> seeds with a fixed
/// validator set and <see cref="SetChangeSeeds"/> seeds whose chain changes the set, on the simulated curve, and a
/// smaller set on real secp256k1; a failing seed prints the one command that replays it.
/// <c>SMARTCITY_SIM_SEEDS=N</c> (and <c>SMARTCITY_SIM_FIRST_SEED</c>, <c>SMARTCITY_SIM_SET_CHANGES=0|1</c>) turns the
/// soak test into an N-seed run of each kind (or of one): <c>bash scripts/consensus-soak.sh 100000</c>.
/// </summary>
public sealed class ConsensusSimulationTests(ITestOutputHelper output)
{
    private const int CiSeeds = 2_000;
    private const int RealCryptoSeeds = 40;
    private const int SetChangeSeeds = 600;

    [Fact]
    public void Two_thousand_seeded_runs_keep_agreement_validity_and_liveness()
        => RunSeeds(1, CiSeeds, new SimulationOptions());

    [Fact]
    public void Seeded_runs_on_real_secp256k1_keep_agreement_validity_and_liveness()
        => RunSeeds(1_000_001, RealCryptoSeeds, new SimulationOptions { RealCrypto = true });

    [Fact]
    public void Seeded_runs_with_validator_set_changes_keep_agreement_validity_and_liveness()
    {
        var results = RunSeeds(1, SetChangeSeeds, new SimulationOptions { SetChanges = true });

        // The seeds do what they claim: every change reached the chain, and each kind of change happened.
        var changes = results.SelectMany(r => r.Scenario.SetChanges.Select(c => (r.Scenario, Change: c))).ToList();
        var coverage = new Dictionary<string, int>
        {
            ["runs with 2-3 changes"] = results.Count(r => r.Scenario.SetChanges.Count >= 2),
            ["validators added"] = changes.Count(c => c.Change.Kind == SetChangeKind.Add),
            ["added while not yet running"] = results.Sum(r => r.Scenario.InstanceStartMs.Count(t => t > 0)),
            ["honest validators removed"] = changes.Count(c => c.Change.Kind == SetChangeKind.Remove && c.Scenario.IsHonestKey(c.Change.Validator)),
            ["Byzantine or Twins validators removed"] = changes.Count(c => c.Change.Kind == SetChangeKind.Remove && !c.Scenario.IsHonestKey(c.Change.Validator)),
            ["proposers removed by their own block"] = changes.Count(c => c.Change.Kind == SetChangeKind.RemoveProposer),
            ["runs where non-members keep voting"] = results.Count(r => r.Scenario.NonMembersVote),
            ["blocks decided by a voted-in proposer"] = results.Sum(r => r.BlocksByAddedValidators),
        };
        output.WriteLine(string.Join("; ", coverage.Select(c => $"{c.Key}: {c.Value}")));
        Assert.All(results, r => Assert.Equal(r.Scenario.SetChanges.Count, r.SetChangesApplied));
        Assert.All(coverage, c => Assert.True(c.Value > 0, $"no seed covered: {c.Key}"));
    }

    [Fact]
    public void Same_seed_gives_the_same_run()
    {
        foreach (var options in new[] { new SimulationOptions(), new SimulationOptions { SetChanges = true } })
        {
            for (var seed = 7; seed < 12; seed++)
            {
                var first = SimulationWorld.Run(seed, options);
                var second = SimulationWorld.Run(seed, options);
                Assert.Equal((first.VirtualMs, first.Events, first.Deliveries, first.MinHonestHeight), (second.VirtualMs, second.Events, second.Deliveries, second.MinHonestHeight));
            }
        }
    }

    [Fact]
    public void Checker_catches_a_set_change_that_takes_effect_one_height_late()
    {
        // Planted on purpose: nodes hold the set of the state before the parent, so the change in block h binds at h+2.
        // The checker derives the set in force from the decided blocks itself and must notice the wrong certificate.
        var caught = Enumerable.Range(1, 200)
            .Select(seed => SimulationWorld.Run(seed, new SimulationOptions { SetChanges = true, PlantedBug = PlantedSetChangeBug.ActivateOneHeightLate }))
            .FirstOrDefault(r => !r.Passed);
        Assert.NotNull(caught);
        output.WriteLine($"{caught.Scenario.Describe()}: {caught.Violations[0]}");
        Assert.Contains(caught.Violations, v => v.Contains("validity", StringComparison.Ordinal) || v.Contains("cannot commit", StringComparison.Ordinal));
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
        var setChanges = Environment.GetEnvironmentVariable("SMARTCITY_SIM_SET_CHANGES") == "1";
        var result = SimulationWorld.Run(seed, new SimulationOptions { RealCrypto = real, SetChanges = setChanges, Trace = true });
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
        var real = Environment.GetEnvironmentVariable("SMARTCITY_SIM_REAL_CRYPTO") == "1";

        // Both kinds of seeds unless SMARTCITY_SIM_SET_CHANGES names one: 0 = fixed validator set, 1 = set changes.
        bool[] kinds = Environment.GetEnvironmentVariable("SMARTCITY_SIM_SET_CHANGES") switch
        {
            "0" => [false],
            "1" => [true],
            _ => [false, true],
        };
        var failures = new List<string>();
        foreach (var setChanges in kinds)
        {
            try
            {
                RunSeeds(first, count, new SimulationOptions { RealCrypto = real, SetChanges = setChanges });
            }
            catch (Xunit.Sdk.XunitException failure)
            {
                failures.Add(failure.Message);
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private SimulationResult[] RunSeeds(int first, int count, SimulationOptions options)
    {
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var results = new SimulationResult[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i => results[i] = SimulationWorld.Run(first + i, options));
        clock.Stop();
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;

        var failed = results.Where(r => !r.Passed).ToList();
        var liveness = results.Where(r => r.LivenessMs is not null).Select(r => r.LivenessMs!.Value).Order().ToList();
        output.WriteLine($"{count} seeds from {first} ({(options.RealCrypto ? "secp256k1" : "simulated curve")}{(options.SetChanges ? ", validator-set changes" : string.Empty)}): {count - failed.Count} passed, {failed.Count} failed "
            + $"in {clock.Elapsed.TotalSeconds:F1} s ({cpu.TotalSeconds:F1} CPU s); {results.Sum(r => r.Events):N0} events, {results.Sum(r => r.Deliveries):N0} deliveries, "
            + $"{results.Sum(r => r.VirtualMs) / 1000:N0} virtual s; heights at heal up to {results.Max(r => r.HeightAtHeal)}; "
            + $"progress after healing: median {Percentile(liveness, 0.5)} ms, p99 {Percentile(liveness, 0.99)} ms, max {liveness.LastOrDefault()} ms"
            + (options.SetChanges ? $"; {results.Sum(r => r.SetChangesApplied):N0} set changes applied" : string.Empty));
        foreach (var failure in failed.Take(10))
        {
            output.WriteLine($"FAILED {failure.Scenario.Describe()}");
            output.WriteLine($"  {failure.Violations[0]}");
            output.WriteLine($"  replay: {ReplayCommand(failure.Scenario)}");
        }

        Assert.True(failed.Count == 0, failed.Count == 0 ? string.Empty
            : $"{failed.Count} of {count} seeds failed; first: {failed[0].Scenario.Describe()}: {failed[0].Violations[0]}{Environment.NewLine}replay: {ReplayCommand(failed[0].Scenario)}");
        return results;
    }

    private static string ReplayCommand(SimulationScenario scenario)
        => $"SMARTCITY_SIM_SEED={scenario.Seed}{(scenario.Options.RealCrypto ? " SMARTCITY_SIM_REAL_CRYPTO=1" : string.Empty)}{(scenario.Options.SetChanges ? " SMARTCITY_SIM_SET_CHANGES=1" : string.Empty)} "
            + "dotnet test tests/SmartCity.Ledger.Tests --filter \"FullyQualifiedName~Replay_one_seed\" --logger \"console;verbosity=detailed\"";

    private static long Percentile(List<long> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
}
