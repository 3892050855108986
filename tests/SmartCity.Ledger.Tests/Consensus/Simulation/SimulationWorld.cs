using System.Collections.Immutable;
using System.Text;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.Ledger.Tests.Consensus.Simulation;

/// <summary>What one run of the simulator found.</summary>
internal sealed record SimulationResult(
    SimulationScenario Scenario,
    IReadOnlyList<string> Violations,
    long VirtualMs,
    long Events,
    long Deliveries,
    long HeightAtHeal,
    long MinHonestHeight,
    long? LivenessMs,
    IReadOnlyList<string> Trace)
{
    /// <summary>Set changes the chain applied, and the height of the block that applied the last one (0: none).</summary>
    public int SetChangesApplied { get; init; }

    public long LastSetChangeHeight { get; init; }

    /// <summary>Decided blocks built by a validator that was voted in.</summary>
    public int BlocksByAddedValidators { get; init; }

    public bool Passed => Violations.Count == 0;
}

/// <summary>
/// One deterministic run: a single thread, a virtual clock, one seeded <see cref="Random"/> and an event queue ordered
/// by (time, sequence). Nodes run the production <see cref="QbftEngine"/> with the production crypto seam; the network
/// delays, reorders, loses and duplicates messages and partitions nodes; nodes crash and restart from their chain and
/// journal; Byzantine validators misbehave. The <see cref="SafetyChecker"/> runs after every step.
/// </summary>
internal sealed class SimulationWorld
{
    private const long EventBudget = 3_000_000;
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly PriorityQueue<SimulationEvent, (long Time, long Sequence)> _events = new();
    private readonly List<string> _trace = [];
    private long _sequence;
    private int[]? _partition;
    private double _loss;
    private double _duplication;
    private bool _healed;
    private long _heightAtHeal;
    private long _processed;
    private long _deliveries;
    private long? _livenessMs;

    public SimulationWorld(SimulationScenario scenario)
    {
        Scenario = scenario;
        Random = new Random(scenario.Seed ^ 0x5A17);
        Curve = scenario.Options.RealCrypto ? Secp256k1.Default : new SimulatedCurve();
        var keys = new byte[scenario.KeyCount][];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = Curve is SimulatedCurve simulated ? simulated.Register(scenario.Seed, i) : RealKey(scenario.Seed, i);
        }

        Keys = keys;
        KeyAddresses = [.. keys.Select(k => Curve.GetAddress(k))];
        GenesisValidators = new ValidatorSet(KeyAddresses.Take(scenario.Validators));
        GenesisState = new SimulatedState(GenesisValidators, 0);
        Rules = new SetChangeRules(scenario.SetChanges, KeyAddresses);
        DomainSeparator = new Eip712Domain("SmartCity.Ledger", "1", 8610).Separator;
        Genesis = new BlockHeader(8610, 0, Hash256.Zero, Epoch.ToUnixTimeMilliseconds(), Address.Zero, 0, 0,
            Keccak256.Hash("genesis transactions"u8), Keccak256.Hash("genesis state"u8), 0, Keccak256.Hash("genesis history"u8), GenesisValidators.Hash);
        Checker = new SafetyChecker(this);
        Nodes = [.. Enumerable.Range(0, scenario.Instances).Select(i => new SimulatedNode(this, i))];
        _loss = scenario.Loss;
        _duplication = scenario.Duplication;
    }

    public SimulationScenario Scenario { get; }

    public Random Random { get; }

    public ISecp256k1 Curve { get; }

    public byte[][] Keys { get; }

    /// <summary>Each key's address, by key index.</summary>
    public IReadOnlyList<Address> KeyAddresses { get; }

    /// <summary>V_1: keys 0..n−1.</summary>
    public ValidatorSet GenesisValidators { get; }

    public SimulatedState GenesisState { get; }

    public SetChangeRules Rules { get; }

    public Hash256 DomainSeparator { get; }

    public BlockHeader Genesis { get; }

    public SafetyChecker Checker { get; }

    public SimulatedNode[] Nodes { get; }

    public long NowMs { get; private set; }

    public DateTimeOffset Now => Epoch.AddMilliseconds(NowMs);

    public static SimulationResult Run(int seed, SimulationOptions? options = null)
        => new SimulationWorld(SimulationScenario.FromSeed(seed, options ?? new SimulationOptions())).Run();

    public SimulationResult Run()
    {
        foreach (var node in Nodes)
        {
            if (Scenario.InstanceStartMs[node.Index] == 0)
            {
                node.Start();
            }
            else
            {
                Schedule(Scenario.InstanceStartMs[node.Index], new SimulationEvent(EventKind.Restart, node.Index, null));
            }
        }

        foreach (var partition in Scenario.Partitions)
        {
            Schedule(partition.StartMs, new SimulationEvent(EventKind.PartitionStart, -1, partition));
            Schedule(partition.EndMs, new SimulationEvent(EventKind.PartitionEnd, -1, partition));
        }

        foreach (var crash in Scenario.Crashes)
        {
            Schedule(crash.AtMs, new SimulationEvent(EventKind.Crash, crash.Instance, crash));
            Schedule(Math.Min(crash.AtMs + crash.DownMs, Scenario.ChaosMs), new SimulationEvent(EventKind.Restart, crash.Instance, null));
        }

        foreach (var node in Nodes.Where(n => n.Behaviour.HasFlag(Misbehaviour.Replay) || n.Behaviour.HasFlag(Misbehaviour.Forge)))
        {
            Schedule(Random.Next(100, 800), new SimulationEvent(EventKind.ByzantineTick, node.Index, null));
        }

        Schedule(Scenario.ChaosMs, new SimulationEvent(EventKind.Heal, -1, null));

        while (_events.TryDequeue(out var next, out var at))
        {
            NowMs = at.Time;
            _processed++;
            Process(next);
            if (Checker.Violations.Count > 0)
            {
                break;
            }

            if (_healed && LivenessReached())
            {
                _livenessMs = NowMs - Scenario.ChaosMs;
                break;
            }

            if (_healed && NowMs > Scenario.ChaosMs + Scenario.LivenessBoundMs)
            {
                Checker.Violation($"liveness: {Scenario.LivenessBoundMs} ms after healing, honest heights are "
                    + string.Join(", ", Nodes.Where(n => n.IsHonest).Select(n => $"{n.Index}:{n.Ledger.HeadHeight}/r{n.Engine?.Round}"))
                    + $"; the goal was {LivenessGoal()}"
                    + (Scenario.SetChanges.Count == 0 ? string.Empty : $" with {Checker.SetChangesApplied} of {Scenario.SetChanges.Count} set changes applied"));
                break;
            }

            if (_processed > EventBudget)
            {
                Checker.Violation($"event budget of {EventBudget} exceeded");
                break;
            }
        }

        return new SimulationResult(Scenario, Checker.Violations, NowMs, _processed, _deliveries, _heightAtHeal,
            Nodes.Where(n => n.IsHonest).Select(n => n.Ledger.HeadHeight).DefaultIfEmpty().Min(), _livenessMs, _trace)
        {
            SetChangesApplied = Checker.SetChangesApplied,
            LastSetChangeHeight = Checker.LastSetChangeHeight,
            BlocksByAddedValidators = Checker.BlocksByAddedValidators,
        };
    }

    public void TraceLine(string text)
    {
        if (Scenario.Options.Trace)
        {
            _trace.Add($"{NowMs,8} {text}");
        }
    }

    /// <summary>Sends to every other instance (the twin of a key included).</summary>
    public void Broadcast(int from, object packet)
    {
        for (var to = 0; to < Nodes.Length; to++)
        {
            if (to != from)
            {
                Send(from, to, packet);
            }
        }
    }

    public void Send(int from, int to, object packet)
    {
        if (!Connected(from, to) || (_loss > 0 && Random.NextDouble() < _loss))
        {
            return;
        }

        Schedule(NowMs + Latency(), new SimulationEvent(EventKind.Deliver, to, new Packet(from, packet)));
        if (_duplication > 0 && Random.NextDouble() < _duplication)
        {
            Schedule(NowMs + Latency(), new SimulationEvent(EventKind.Deliver, to, new Packet(from, packet)));
        }
    }

    public void ScheduleTimer(int node, long atMs) => Schedule(Math.Max(atMs, NowMs), new SimulationEvent(EventKind.Timer, node, atMs));

    public void ScheduleSyncRetry(int node) => Schedule(NowMs + 300, new SimulationEvent(EventKind.SyncRetry, node, null));

    /// <summary>The node's answer to a build or validation request, after the execution delay; <paramref name="request"/> says which.</summary>
    public void ScheduleBlockWork(int node, object request)
        => Schedule(NowMs + (Scenario.ExecutionDelayMs == 0 ? 0 : Random.Next(Scenario.ExecutionDelayMs + 1)), new SimulationEvent(EventKind.BlockWork, node, request));

    /// <summary>Transactions reach a node waiting for work.</summary>
    public void ScheduleWork(int node, object token) => Schedule(NowMs + Random.Next(301), new SimulationEvent(EventKind.Work, node, token));

    /// <summary>Transactions a node's mempool offers for a block: 0-3 (at least 1 when asked), unique per node.</summary>
    public ImmutableArray<ReadOnlyMemory<byte>> TransactionsFor(int node, long height, ref int counter, bool atLeastOne = false)
    {
        var count = Random.Next(atLeastOne ? 1 : 0, 4);
        var transactions = ImmutableArray.CreateBuilder<ReadOnlyMemory<byte>>(count);
        for (var i = 0; i < count; i++)
        {
            var bytes = new byte[14];
            bytes[0] = SimulatedExecution.ValidTransactionMarker;
            bytes[1] = (byte)node;
            System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(2), height);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(10), counter++);
            transactions.Add(bytes);
        }

        return transactions.MoveToImmutable();
    }

    private void Process(SimulationEvent next)
    {
        switch (next.Kind)
        {
            case EventKind.Deliver:
                var packet = (Packet)next.Payload!;
                if (Connected(packet.From, next.Node))
                {
                    _deliveries++;
                    Nodes[next.Node].Deliver(packet.From, packet.Content);
                }

                break;
            case EventKind.Timer:
                Nodes[next.Node].OnTimer((long)next.Payload!);
                break;
            case EventKind.SyncRetry:
                Nodes[next.Node].OnSyncRetry();
                break;
            case EventKind.BlockWork:
                Nodes[next.Node].OnBlockWork(next.Payload!);
                break;
            case EventKind.Work:
                Nodes[next.Node].OnWork(next.Payload!);
                break;
            case EventKind.Crash:
                if (((CrashEpisode)next.Payload!).MidSend)
                {
                    Nodes[next.Node].CrashAtNextSend = true;
                }
                else
                {
                    TraceLine($"node {next.Node} crashes");
                    Nodes[next.Node].Crash();
                }

                break;
            case EventKind.Restart:
                TraceLine($"node {next.Node} restarts");
                Nodes[next.Node].Restart();
                break;
            case EventKind.PartitionStart:
                _partition = ((PartitionEpisode)next.Payload!).Groups;
                TraceLine($"partition {string.Join(",", _partition)}");
                break;
            case EventKind.PartitionEnd:
                if (_partition == ((PartitionEpisode)next.Payload!).Groups)
                {
                    _partition = null;
                    TraceLine("partition heals");
                }

                break;
            case EventKind.ByzantineTick:
                Nodes[next.Node].OnByzantineTick();
                Schedule(NowMs + Random.Next(100, 800), next);
                break;
            case EventKind.Heal:
                Heal();
                break;
        }

        if (next.Node >= 0 && Nodes[next.Node] is { IsHonest: true, Engine: { } engine })
        {
            Checker.CheckBounds(next.Node, engine);
        }
    }

    private void Heal()
    {
        _healed = true;
        _partition = null;
        _loss = 0;
        _duplication = 0;
        foreach (var node in Nodes)
        {
            node.CrashAtNextSend = false;
            node.Restart();
        }

        _heightAtHeal = Nodes.Where(n => n.IsHonest).Max(n => n.Ledger.HeadHeight);
        TraceLine($"healed at height {_heightAtHeal}");
    }

    /// <summary>
    /// Liveness after healing: every honest node (late joiners and removed validators, which follow as observers,
    /// included) commits <see cref="SimulationScenario.LivenessHeights"/> more heights — and, with set changes, every
    /// change is in the chain and as many heights were decided by the final set.
    /// </summary>
    private bool LivenessReached()
        => Checker.SetChangesApplied == Scenario.SetChanges.Count && Nodes.Where(n => n.IsHonest).All(n => n.Ledger.HeadHeight >= LivenessGoal());

    private long LivenessGoal() => Math.Max(_heightAtHeal, Checker.LastSetChangeHeight) + Scenario.LivenessHeights;

    private bool Connected(int from, int to) => _partition is null || _partition[from] == _partition[to];

    private long Latency() => Random.Next(Scenario.MinLatencyMs, Scenario.MaxLatencyMs + 1);

    private void Schedule(long atMs, SimulationEvent simulationEvent) => _events.Enqueue(simulationEvent, (atMs, _sequence++));

    private static byte[] RealKey(int seed, int index)
    {
        for (var attempt = 0; ; attempt++)
        {
            var key = Keccak256.Hash(Encoding.UTF8.GetBytes($"sim-key/{seed}/{index}/{attempt}")).ToArray();
            if (Secp256k1.Default.IsValidPrivateKey(key))
            {
                return key;
            }
        }
    }

    private enum EventKind
    {
        Deliver,
        Timer,
        SyncRetry,
        BlockWork,
        Work,
        Crash,
        Restart,
        PartitionStart,
        PartitionEnd,
        ByzantineTick,
        Heal,
    }

    private readonly record struct SimulationEvent(EventKind Kind, int Node, object? Payload);

    private sealed record Packet(int From, object Content);
}

/// <summary>Catch-up: ask a peer for certified blocks from a height.</summary>
internal sealed record SyncRequest(long FromHeight);

/// <summary>Catch-up: certified blocks, in height order.</summary>
internal sealed record SyncResponse(IReadOnlyList<CommittedBlock> Blocks);
