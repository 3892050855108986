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

/// <summary>A change of the validator set that governance decided; a block carries it and it takes effect at the next height.</summary>
internal enum SetChangeKind
{
    /// <summary>Add a key that was never a validator (its instance may not be running yet: it must catch up and join).</summary>
    Add,

    /// <summary>Remove a member (honest, Byzantine or the Twins key).</summary>
    Remove,

    /// <summary>Remove whichever validator built the block that carries the change: the proposer of that height.</summary>
    RemoveProposer,
}

/// <summary>
/// The <c>i</c>-th change of a run: <paramref name="Validator"/> is a key index (−1 for <see cref="SetChangeKind.RemoveProposer"/>);
/// honest proposers include it in the blocks they build from <paramref name="AvailableMs"/> on (as a passed governance
/// vote reaches the mempool), once the change before it is in the chain.
/// </summary>
internal sealed record SetChange(SetChangeKind Kind, int Validator, long AvailableMs);

/// <summary>Set-change bugs planted on purpose, to show the checker catches them (docs/consensus.md, "Planted bugs").</summary>
internal enum PlantedSetChangeBug
{
    None,

    /// <summary>Nodes use the set of the parent's parent: a change in block h takes effect at h+2, not h+1.</summary>
    ActivateOneHeightLate,
}

/// <summary>What the simulator may do to one run; tests and the soak pick it.</summary>
internal sealed record SimulationOptions
{
    /// <summary>Sign and verify with real secp256k1 (slow) instead of the simulated curve.</summary>
    public bool RealCrypto { get; init; }

    /// <summary>Planted fault for the checker's own test: restarted nodes forget their journal (amnesia).</summary>
    public bool ForgetJournalOnRestart { get; init; }

    /// <summary>Keep a log of events for a replay.</summary>
    public bool Trace { get; init; }

    /// <summary>The seed also draws validator-set changes, late-joining validators and non-members that keep voting.</summary>
    public bool SetChanges { get; init; }

    /// <summary>A set-change bug planted in the simulated node, for the checker's own test.</summary>
    public PlantedSetChangeBug PlantedBug { get; init; }
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

    /// <summary>n of the genesis set: keys 0..n−1.</summary>
    public required int Validators { get; init; }

    /// <summary>Keys in the run: the genesis validators and those <see cref="SetChanges"/> add.</summary>
    public required int KeyCount { get; init; }

    /// <summary>The validator-set changes, in the order the chain must apply them (empty: the set is fixed).</summary>
    public required IReadOnlyList<SetChange> SetChanges { get; init; }

    /// <summary>When each instance starts (0 for all but late joiners; a joiner not started by the heal starts then).</summary>
    public required long[] InstanceStartMs { get; init; }

    /// <summary>
    /// Instances whose key is not a member of the current height's set (removed, or not yet added) keep signing PREPAREs,
    /// COMMITs (with valid seals) and ROUND-CHANGEs for the proposals they see: every honest engine must ignore them.
    /// </summary>
    public required bool NonMembersVote { get; init; }

    /// <summary>Validator index → its misbehaviour; validators not listed are honest.</summary>
    public required IReadOnlyDictionary<int, Misbehaviour> Byzantine { get; init; }

    /// <summary>A validator whose key runs on two instances (Twins), or null.</summary>
    public required int? Twin { get; init; }

    /// <summary>Instance → validator (key) index: instances 0..n−1 are the genesis validators, then the twin, then joiners.</summary>
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

    public bool IsHonestInstance(int instance) => IsHonestKey(InstanceValidator[instance]);

    public bool IsHonestKey(int validator) => !Byzantine.ContainsKey(validator) && Twin != validator;

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
        IReadOnlyList<PartitionEpisode> partitions;
        var drawnPartitions = new List<PartitionEpisode>();
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

            drawnPartitions.Add(new PartitionEpisode(start, Math.Min(chaos, start + random.Next(500, 12_000)), groups));
        }

        drawnPartitions.Sort((a, b) => a.StartMs.CompareTo(b.StartMs));
        partitions = drawnPartitions;
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
        var maxLatency = minLatency + random.Next(0, 250);
        var loss = random.NextDouble() < 0.3 ? 0 : random.NextDouble() * 0.15;
        var duplication = random.NextDouble() < 0.5 ? 0 : random.NextDouble() * 0.1;
        var executionDelay = executionDelays[random.Next(executionDelays.Length)];
        var awaitWork = random.NextDouble() < 0.2;
        var parameters = new QbftParameters
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
        };

        // Everything above is drawn as it always was, so a seed without set changes replays as before.
        var changes = new List<SetChange>();
        var startMs = new List<long>(instanceValidator.Select(_ => 0L));
        var keyCount = n;
        var nonMembersVote = false;
        if (options.SetChanges)
        {
            var faulty = byzantine.Keys.ToHashSet();
            if (twin is { } twinKey)
            {
                faulty.Add(twinKey);
            }

            var joiners = DrawSetChanges(random, n, faulty, chaos, changes);
            var instanceList = instanceValidator.ToList();
            foreach (var key in joiners)
            {
                instanceList.Add(key);

                // Half the joiners run (as observers) from the start, as an operator would set one up before the vote;
                // the others start during the chaos phase, possibly after the height that made them validators.
                startMs.Add(random.Next(2) == 0 ? 0 : random.Next(1, chaos));
            }

            keyCount = n + joiners.Count;
            instanceValidator = [.. instanceList];
            nonMembersVote = random.Next(2) == 0;

            // Joiners are in the partitions too, each in one of the episode's groups.
            partitions = [.. partitions.Select(p =>
            {
                var groupCount = p.Groups.Max() + 1;
                return p with { Groups = [.. p.Groups, .. joiners.Select(_ => random.Next(groupCount))] };
            })];
        }

        return new SimulationScenario
        {
            Seed = seed,
            Options = options,
            Validators = n,
            KeyCount = keyCount,
            SetChanges = changes,
            InstanceStartMs = [.. startMs],
            NonMembersVote = nonMembersVote,
            Byzantine = byzantine,
            Twin = twin,
            InstanceValidator = instanceValidator,
            MinLatencyMs = minLatency,
            MaxLatencyMs = maxLatency,
            Loss = loss,
            Duplication = duplication,
            ChaosMs = chaos,
            Partitions = partitions,
            Crashes = crashes,
            ExecutionDelayMs = executionDelay,
            AwaitWork = awaitWork,
            Parameters = parameters,
        };
    }

    /// <summary>
    /// Draws 1-3 changes of the set, applied in order, keeping every set at n ≥ 4 with at most f = ⌊(n−1)/3⌋ faulty
    /// members (Byzantine or Twins), so each set can still decide; returns the keys added (new instances).
    /// </summary>
    private static List<int> DrawSetChanges(Random random, int n, HashSet<int> faulty, int chaos, List<SetChange> changes)
    {
        var members = Enumerable.Range(0, n).ToHashSet();
        var joiners = new List<int>();
        var count = random.Next(1, 4);
        var times = Enumerable.Range(0, count).Select(_ => (long)random.Next(chaos)).Order().ToList();
        bool CanRemove(int key) => members.Count > ConsensusHeight.MinValidators
            && members.Count(m => m != key && faulty.Contains(m)) <= (members.Count - 2) / 3;
        for (var i = 0; i < count; i++)
        {
            var removable = members.Where(CanRemove).Order().ToList();

            // "Remove the proposer" names no key in advance, so every member must be removable; it is the last change.
            var canRemoveProposer = i == count - 1 && removable.Count == members.Count;
            var roll = random.Next(100);
            if (roll < 20 && canRemoveProposer)
            {
                changes.Add(new SetChange(SetChangeKind.RemoveProposer, -1, times[i]));
                break;
            }

            if (roll < 60 && removable.Count > 0)
            {
                var faultyRemovable = removable.Where(faulty.Contains).ToList();
                var key = faultyRemovable.Count > 0 && random.Next(2) == 0
                    ? faultyRemovable[random.Next(faultyRemovable.Count)]
                    : removable[random.Next(removable.Count)];
                members.Remove(key);
                changes.Add(new SetChange(SetChangeKind.Remove, key, times[i]));
                continue;
            }

            var added = n + joiners.Count;
            joiners.Add(added);
            members.Add(added);
            changes.Add(new SetChange(SetChangeKind.Add, added, times[i]));
        }

        return joiners;
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
            .Append(SetChanges.Count == 0 ? string.Empty : ", set changes " + string.Join(" ", SetChanges.Select(c => c.Kind switch
            {
                SetChangeKind.Add => $"+{c.Validator}",
                SetChangeKind.Remove => $"-{c.Validator}",
                _ => "-proposer",
            } + $"@{c.AvailableMs}ms")))
            .Append(InstanceStartMs.Any(t => t > 0) ? ", late joiners " + string.Join(", ", InstanceStartMs.Select((t, i) => (t, i)).Where(x => x.t > 0).Select(x => $"{x.i}@{x.t}ms")) : string.Empty)
            .Append(NonMembersVote ? ", non-members keep voting" : string.Empty)
            .Append(Options.RealCrypto ? ", secp256k1" : ", simulated curve");
        return text.ToString();
    }
}
