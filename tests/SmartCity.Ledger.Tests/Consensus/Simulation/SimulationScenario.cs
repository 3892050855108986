using System.Text;
using SmartCity.Ledger.Consensus;

namespace SmartCity.Ledger.Tests.Consensus.Simulation;

/// <summary>What a Byzantine validator does besides running the protocol (any combination).</summary>
[Flags]
internal enum Misbehaviour
{
    None = 0,

    /// <summary>Sends none of the messages its engine produces.</summary>
    Silent = 1,

    /// <summary>As proposer, sends one block to some peers and another to the rest.</summary>
    Equivocate = 2,

    /// <summary>Sends a PREPARE/COMMIT for its block to some peers and for another block to the rest.</summary>
    DoubleVote = 4,

    /// <summary>Proposes blocks with a forged state root and votes for blocks that do not exist.</summary>
    InvalidBlocks = 8,

    /// <summary>Re-sends old messages it received (other rounds, other heights) to random peers.</summary>
    Replay = 16,

    /// <summary>Sends messages with forged signatures: another validator's address, garbage bytes, wrong seals.</summary>
    Forge = 32,

    /// <summary>Answers catch-up requests with blocks whose certificates are tampered with.</summary>
    BadSync = 64,
}

/// <summary>A time the network is split: instance i is in group <c>Groups[i]</c>; only groups talk within themselves.</summary>
internal sealed record PartitionEpisode(long StartMs, long EndMs, int[] Groups);

/// <summary>
/// An instance that stops (losing its memory, keeping its chain and journal) and later restarts. With
/// <paramref name="MidSend"/> it dies at its first send after <paramref name="AtMs"/>: journal saved, messages lost.
/// </summary>
internal sealed record CrashEpisode(int Instance, long AtMs, long DownMs, bool MidSend);

/// <summary>What the simulator may do to one run; tests and the soak pick it.</summary>
internal sealed record SimulationOptions
{
    /// <summary>Sign and verify with real secp256k1 (slow) instead of the simulated curve.</summary>
    public bool RealCrypto { get; init; }

    /// <summary>Planted fault for the checker's own test: restarted nodes forget their journal (amnesia).</summary>
    public bool ForgetJournalOnRestart { get; init; }

    /// <summary>Keep a log of events for a replay.</summary>
    public bool Trace { get; init; }
}

/// <summary>
/// Everything random about one run, drawn from its seed: the validator count, who is Byzantine and how, twins, the
/// network's latency, loss and duplication, partitions and crashes during a chaos phase, and the protocol timers.
/// After the chaos phase the network heals (no loss, no partition, crashed nodes restart) and the run must make progress.
/// </summary>
internal sealed record SimulationScenario
{
    public required int Seed { get; init; }

    public required SimulationOptions Options { get; init; }

    public required int Validators { get; init; }

    /// <summary>Validator index → its misbehaviour; validators not listed are honest.</summary>
    public required IReadOnlyDictionary<int, Misbehaviour> Byzantine { get; init; }

    /// <summary>A validator whose key runs on two instances (Twins), or null.</summary>
    public required int? Twin { get; init; }

    /// <summary>Instance → validator index (instances 0..n−1 are the validators, instance n the twin).</summary>
    public required int[] InstanceValidator { get; init; }

    public required int MinLatencyMs { get; init; }

    public required int MaxLatencyMs { get; init; }

    public required double Loss { get; init; }

    public required double Duplication { get; init; }

    public required long ChaosMs { get; init; }

    public required IReadOnlyList<PartitionEpisode> Partitions { get; init; }

    public required IReadOnlyList<CrashEpisode> Crashes { get; init; }

    public required QbftParameters Parameters { get; init; }

    /// <summary>How long the node takes to build or re-execute a block (0 to this many ms); the engine goes on meanwhile.</summary>
    public required int ExecutionDelayMs { get; init; }

    /// <summary>Heights start waiting for work, which arrives 0-300 ms later (as transactions reach the mempool).</summary>
    public required bool AwaitWork { get; init; }

    /// <summary>After healing, every honest node must commit this many more heights...</summary>
    public int LivenessHeights => 3;

    /// <summary>...within this much virtual time: 20 capped round timeouts.</summary>
    public long LivenessBoundMs => 20 * (long)Parameters.MaxRoundTimeout.TotalMilliseconds;

    public int Instances => InstanceValidator.Length;

    public int MaxFaulty => (Validators - 1) / 3;

    public bool IsHonestInstance(int instance)
    {
        var validator = InstanceValidator[instance];
        return !Byzantine.ContainsKey(validator) && Twin != validator;
    }

    public static SimulationScenario FromSeed(int seed, SimulationOptions options)
    {
        var random = new Random(seed);
        var n = random.Next(100) switch
        {
            < 60 => 4,
            < 75 => 5,
            < 85 => 6,
            _ => 7,
        };
        var f = (n - 1) / 3;

        // Twins: one key (of at most f faulty) runs twice; the other faulty keys, if any, are Byzantine.
        int? twin = random.NextDouble() < 0.2 ? random.Next(n) : null;
        var faultyLeft = f - (twin is null ? 0 : 1);
        var byzantineCount = faultyLeft == 0 ? 0 : random.Next(faultyLeft + 1);
        var byzantine = new Dictionary<int, Misbehaviour>();
        while (byzantine.Count < byzantineCount)
        {
            var validator = random.Next(n);
            if (validator == twin || byzantine.ContainsKey(validator))
            {
                continue;
            }

            var behaviour = Misbehaviour.None;
            while (behaviour == Misbehaviour.None)
            {
                foreach (var flag in Enum.GetValues<Misbehaviour>().Where(b => b != Misbehaviour.None))
                {
                    // Silence makes the other behaviours moot; keep it rarer.
                    if (random.NextDouble() < (flag == Misbehaviour.Silent ? 0.15 : 0.4))
                    {
                        behaviour |= flag;
                    }
                }
            }

            byzantine[validator] = behaviour;
        }

        int[] instanceValidator = twin is { } t ? [.. Enumerable.Range(0, n), t] : [.. Enumerable.Range(0, n)];
        var instances = instanceValidator.Length;

        var chaos = random.Next(3_000, 30_000);
        var partitions = new List<PartitionEpisode>();
        for (int i = 0, count = random.Next(twin is null ? 0 : 1, 4); i < count; i++)
        {
            var start = random.Next(chaos);
            var groupCount = random.Next(2, 4);
            var groups = new int[instances];
            for (var k = 0; k < instances; k++)
            {
                groups[k] = random.Next(groupCount);
            }

            if (twin is { } twinned)
            {
                // Twins run apart, each with some of the others: the equivocation Twins is after.
                groups[instances - 1] = (groups[twinned] + 1 + random.Next(groupCount - 1)) % groupCount;
            }

            partitions.Add(new PartitionEpisode(start, Math.Min(chaos, start + random.Next(500, 12_000)), groups));
        }

        partitions.Sort((a, b) => a.StartMs.CompareTo(b.StartMs));
        var crashes = new List<CrashEpisode>();
        for (int i = 0, count = random.Next(4); i < count; i++)
        {
            var instance = random.Next(instances);
            if (crashes.Any(c => c.Instance == instance))
            {
                continue;
            }

            crashes.Add(new CrashEpisode(instance, random.Next(chaos), random.Next(200, 8_000), random.Next(2) == 0));
        }

        var minLatency = random.Next(1, 30);
        int[] executionDelays = [0, 5, 60];
        var baseTimeout = random.Next(400, 1_200);
        return new SimulationScenario
        {
            Seed = seed,
            Options = options,
            Validators = n,
            Byzantine = byzantine,
            Twin = twin,
            InstanceValidator = instanceValidator,
            MinLatencyMs = minLatency,
            MaxLatencyMs = minLatency + random.Next(0, 250),
            Loss = random.NextDouble() < 0.3 ? 0 : random.NextDouble() * 0.15,
            Duplication = random.NextDouble() < 0.5 ? 0 : random.NextDouble() * 0.1,
            ChaosMs = chaos,
            Partitions = partitions,
            Crashes = crashes,
            ExecutionDelayMs = executionDelays[random.Next(executionDelays.Length)],
            AwaitWork = random.NextDouble() < 0.2,
            Parameters = new QbftParameters
            {
                BaseRoundTimeout = TimeSpan.FromMilliseconds(baseTimeout),
                MaxRoundTimeout = TimeSpan.FromMilliseconds(baseTimeout * random.Next(4, 9)),
                BlockPeriod = TimeSpan.FromMilliseconds((1 + random.Next(4)) * 250),
                MaxRound = 1_000,
                FutureRoundWindow = random.Next(2, 11),
                RetainedPastRounds = random.Next(0, 5),
                FutureHeightWindow = random.Next(2, 11),
                MaxFutureMessages = random.Next(20, 200),
                MaxRoundChangesPerSender = random.Next(1, 5),
            },
        };
    }

    public string Describe()
    {
        var text = new StringBuilder()
            .Append($"seed {Seed}: n={Validators} f={MaxFaulty}")
            .Append(Twin is { } t ? $", twins of validator {t}" : string.Empty)
            .Append(Byzantine.Count == 0 ? string.Empty : ", byzantine " + string.Join(", ", Byzantine.Select(b => $"{b.Key}:{b.Value}")))
            .Append($", latency {MinLatencyMs}-{MaxLatencyMs} ms, loss {Loss:P0}, duplication {Duplication:P0}, chaos {ChaosMs} ms")
            .Append($", {Partitions.Count} partitions, {Crashes.Count} crashes")
            .Append($", timeouts {Parameters.BaseRoundTimeout.TotalMilliseconds}-{Parameters.MaxRoundTimeout.TotalMilliseconds} ms, block period {Parameters.BlockPeriod.TotalMilliseconds} ms")
            .Append($", execution up to {ExecutionDelayMs} ms{(AwaitWork ? ", heights wait for work" : string.Empty)}")
            .Append(Options.RealCrypto ? ", secp256k1" : ", simulated curve");
        return text.ToString();
    }
}
