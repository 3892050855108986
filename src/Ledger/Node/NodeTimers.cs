using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SmartCity.Ledger.Node;

/// <summary>
/// Where a node's time goes, per pipeline stage: cumulative wall time, CPU time of the thread that ran the stage, and
/// item counts, updated without locks. The load tool reads them to say what each stage costs per transaction; CPU
/// time stays meaningful on a machine shared with other work, where wall time stretches. A stage that awaited I/O
/// on another thread counts wall time only. Cost: two clock reads per stage run, nothing per item of a batch.
/// Stages run once per single submission (decode and verify, tens of thousands of runs a second) are timed in one run
/// of <see cref="SampleEvery"/> on each thread (<see cref="StartSampled"/>) and the totals scaled by items: reading a
/// thread's CPU clock is a system call on Linux (no vDSO path), and under a hypervisor four of them per transaction
/// were ~3 % of a loaded node's CPU.
/// </summary>
public sealed partial class NodeTimers
{
    /// <summary>One run in this many of a sampled stage is timed, per thread.</summary>
    public const int SampleEvery = 8;

    private const int StageCount = (int)NodeStage.Publish + 1;
    private readonly long[] _ticks = new long[StageCount];
    private readonly long[] _cpuNanoseconds = new long[StageCount];
    private readonly long[] _items = new long[StageCount];
    private readonly long[] _timedItems = new long[StageCount];
    private readonly long[] _allocated = new long[StageCount];

    [ThreadStatic]
    private static int _sampleTurn;

    /// <summary>Starts timing a stage on this thread.</summary>
    public static StageClock Start()
    {
        // The CPU clock first: reading it is a system call, a point where the thread may be descheduled, which belongs
        // to no stage's wall time.
        var cpu = ThreadCpuNanoseconds();
        return new(Stopwatch.GetTimestamp(), cpu, Environment.CurrentManagedThreadId, GC.GetAllocatedBytesForCurrentThread());
    }

    /// <summary>
    /// Starts timing a stage run on this thread if it is this thread's turn (one in <see cref="SampleEvery"/>);
    /// otherwise a clock that counts the run's items only, and the stage's totals are scaled up from the timed runs.
    /// </summary>
    public static StageClock StartSampled() => ++_sampleTurn % SampleEvery == 1 ? Start() : StageClock.Untimed;

    public void Add(NodeStage stage, StageClock started, long items = 1)
    {
        Interlocked.Add(ref _items[(int)stage], items);
        if (started.IsUntimed)
        {
            return;
        }

        Interlocked.Add(ref _timedItems[(int)stage], items);
        Interlocked.Add(ref _ticks[(int)stage], Stopwatch.GetTimestamp() - started.Timestamp);
        if (started.ThreadId == Environment.CurrentManagedThreadId && started.CpuNanoseconds >= 0)
        {
            Interlocked.Add(ref _cpuNanoseconds[(int)stage], ThreadCpuNanoseconds() - started.CpuNanoseconds);
        }

        if (started.ThreadId == Environment.CurrentManagedThreadId)
        {
            Interlocked.Add(ref _allocated[(int)stage], GC.GetAllocatedBytesForCurrentThread() - started.AllocatedBytes);
        }
    }

    /// <summary>Wall time the stage took (scaled from its timed runs where it is sampled).</summary>
    public TimeSpan Elapsed(NodeStage stage) => Stopwatch.GetElapsedTime(0, Scaled(stage, Interlocked.Read(ref _ticks[(int)stage])));

    /// <summary>CPU time of the threads that ran the stage (zero where the platform cannot tell; scaled where sampled).</summary>
    public TimeSpan Cpu(NodeStage stage) => TimeSpan.FromMicroseconds(Scaled(stage, Interlocked.Read(ref _cpuNanoseconds[(int)stage])) / 1000.0);

    public long Items(NodeStage stage) => Interlocked.Read(ref _items[(int)stage]);

    /// <summary>Bytes the stage allocated on the managed heap (on the thread it started on; scaled where sampled).</summary>
    public long Allocated(NodeStage stage) => Scaled(stage, Interlocked.Read(ref _allocated[(int)stage]));

    // A total over the timed runs, scaled to all of the stage's items (exact where every run was timed).
    private long Scaled(NodeStage stage, long total)
    {
        var items = Interlocked.Read(ref _items[(int)stage]);
        var timed = Interlocked.Read(ref _timedItems[(int)stage]);
        return timed == items || timed == 0 ? total : (long)(total * ((double)items / timed));
    }

    public void Reset()
    {
        for (var i = 0; i < StageCount; i++)
        {
            Interlocked.Exchange(ref _ticks[i], 0);
            Interlocked.Exchange(ref _cpuNanoseconds[i], 0);
            Interlocked.Exchange(ref _items[i], 0);
            Interlocked.Exchange(ref _timedItems[i], 0);
            Interlocked.Exchange(ref _allocated[i], 0);
        }
    }

    /// <summary>CPU time this thread has used, in nanoseconds; −1 where unknown.</summary>
    private static long ThreadCpuNanoseconds()
    {
        if (!_threadClock)
        {
            return -1;
        }

        try
        {
            return ClockGetTime(ClockThreadCpuTime, out var time) == 0 ? (time.Seconds * 1_000_000_000L) + time.Nanoseconds : -1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _threadClock = false;
            return -1;
        }
    }

    private static bool _threadClock = OperatingSystem.IsLinux();

    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}

/// <summary>When and on which thread a stage started (see <see cref="NodeTimers.Start"/>).</summary>
public readonly record struct StageClock(long Timestamp, long CpuNanoseconds, int ThreadId, long AllocatedBytes)
{
    /// <summary>A run that is not timed (see <see cref="NodeTimers.StartSampled"/>): only its items count.</summary>
    public static StageClock Untimed { get; } = new(-1, -1, -1, 0);

    public bool IsUntimed => Timestamp < 0;
}

/// <summary>The stages of the node's pipeline, in the order a transaction meets them.</summary>
public enum NodeStage
{
    /// <summary>Size, canonical decoding, chain id and the EIP-712 id (submitter threads; items = transactions).</summary>
    Decode,

    /// <summary>Signature recovery through the batch verifier and its cache (submitter threads; items = transactions).</summary>
    Verify,

    /// <summary>Nonce ordering and mempool insertion on the writer (items = transactions).</summary>
    Admit,

    /// <summary>Applying a block's transactions and computing its roots on the writer (items = transactions).</summary>
    Build,

    /// <summary>Re-executing another validator's proposal (items = transactions).</summary>
    Validate,

    /// <summary>Sealing and assembling the certificate (the consensus engine; items = blocks).</summary>
    Certify,

    /// <summary>Certificate check, projections and the durable store append, fsync included (items = blocks).</summary>
    Commit,

    /// <summary>Mempool settlement, outcomes and the snapshot published to subscribers (items = blocks).</summary>
    Publish,
}
