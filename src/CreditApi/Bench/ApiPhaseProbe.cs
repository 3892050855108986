using System.Diagnostics;
using System.Runtime;
using SmartCity.CreditApi.Services.Api;

namespace SmartCity.CreditApi.Bench;

/// <summary>
/// What the process did during one phase of <c>smartcity bench api</c>, per request where it is a cost: CPU (server and
/// load generator together: they share the process), managed allocation, garbage collections and their pauses, JIT
/// work, lock contention, the thread pool's scheduling delay, the access log's group commits, and the mean and longest
/// time of each server stage (<see cref="ApiStageTimers"/>). A latency tail is explained by whichever of these moves.
/// </summary>
public sealed record ApiPhaseDiagnostics(
    double CpuMsPerRequest,
    double AllocatedKbPerRequest,
    int Gen0,
    int Gen1,
    int Gen2,
    double GcPauseMs,
    double GcPauseMaxMs,
    double GcPausePercent,
    long JitMethods,
    double JitMs,
    long LockContentions,
    int PoolThreads,
    double PoolDelayP99Ms,
    double PoolDelayMaxMs,
    double FsyncsPerSecond,
    double EntriesPerFsync,
    double FsyncMeanMs,
    double FsyncMaxMs,
    IReadOnlyList<ApiStageLine> Stages);

/// <summary>A server stage in one phase: runs, mean and longest wall time.</summary>
public sealed record ApiStageLine(string Stage, long Runs, double MeanMs, double MaxMs);

/// <summary>Samples the process around one phase (<see cref="Start"/>, then <see cref="Stop"/>).</summary>
public sealed class ApiPhaseProbe : IDisposable
{
    private readonly ApiStageTimers _timers;
    private readonly IReadOnlyList<ApiStageFigures> _stagesBefore;
    private readonly TimeSpan _cpuBefore;
    private readonly long _allocatedBefore;
    private readonly int[] _collectionsBefore;
    private readonly TimeSpan _pauseBefore;
    private readonly long _jitBefore;
    private readonly TimeSpan _jitTimeBefore;
    private readonly long _contentionBefore;
    private readonly long _started;
    private readonly Thread _sampler;
    private readonly List<double> _poolDelays = [];
    private readonly Lock _gate = new();
    private volatile bool _stopping;
    private double _longestPause;
    private int _poolThreads;

    private ApiPhaseProbe(IServiceProvider services)
    {
        _timers = services.GetRequiredService<ApiStageTimers>();
        _timers.ResetMaxima();
        _stagesBefore = _timers.Read();
        using var process = Process.GetCurrentProcess();
        _cpuBefore = process.TotalProcessorTime;
        _allocatedBefore = GC.GetTotalAllocatedBytes();
        _collectionsBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        _pauseBefore = GC.GetTotalPauseDuration();
        _jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
        _jitTimeBefore = System.Runtime.JitInfo.GetCompilationTime();
        _contentionBefore = Monitor.LockContentionCount;
        _started = Stopwatch.GetTimestamp();
        _sampler = new Thread(Sample) { IsBackground = true, Name = "bench api probe" };
        _sampler.Start();
    }

    /// <summary>The GC the process runs with, for the report's header.</summary>
    public static string GcMode => $"{(GCSettings.IsServerGC ? "server" : "workstation")} GC, {GCSettings.LatencyMode}, {GC.GetGCMemoryInfo().GenerationInfo.Length} generations";

    public static ApiPhaseProbe Start(IServiceProvider services) => new(services);

    public ApiPhaseDiagnostics Stop(long requests)
    {
        _stopping = true;
        _sampler.Join();
        var seconds = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        using var process = Process.GetCurrentProcess();
        var per = Math.Max(1, requests);
        var stages = _timers.Read();
        ApiStageFigures Delta(ApiStage stage)
        {
            var before = _stagesBefore[(int)stage];
            var after = stages[(int)stage];
            return new ApiStageFigures(stage, after.Runs - before.Runs, after.Items - before.Items, after.Total - before.Total, after.Longest);
        }

        var write = Delta(ApiStage.AccessLogWrite);
        double[] delays;
        lock (_gate)
        {
            delays = [.. _poolDelays];
        }

        Array.Sort(delays);
        var pause = (GC.GetTotalPauseDuration() - _pauseBefore).TotalMilliseconds;
        return new ApiPhaseDiagnostics(
            Math.Round((process.TotalProcessorTime - _cpuBefore).TotalMilliseconds / per, 3),
            Math.Round((GC.GetTotalAllocatedBytes() - _allocatedBefore) / 1024.0 / per, 1),
            GC.CollectionCount(0) - _collectionsBefore[0],
            GC.CollectionCount(1) - _collectionsBefore[1],
            GC.CollectionCount(2) - _collectionsBefore[2],
            Math.Round(pause, 1),
            Math.Round(_longestPause, 2),
            Math.Round(pause / 10 / seconds, 2),
            System.Runtime.JitInfo.GetCompiledMethodCount() - _jitBefore,
            Math.Round((System.Runtime.JitInfo.GetCompilationTime() - _jitTimeBefore).TotalMilliseconds, 1),
            Monitor.LockContentionCount - _contentionBefore,
            _poolThreads,
            delays.Length == 0 ? 0 : Math.Round(delays[Math.Min(delays.Length - 1, (int)Math.Ceiling(0.99 * delays.Length) - 1)], 2),
            delays.Length == 0 ? 0 : Math.Round(delays[^1], 2),
            Math.Round(write.Runs / seconds, 1),
            write.Runs == 0 ? 0 : Math.Round((double)write.Items / write.Runs, 1),
            write.Runs == 0 ? 0 : Math.Round(write.Total.TotalMilliseconds / write.Runs, 3),
            Math.Round(write.Longest.TotalMilliseconds, 2),
            [.. Enum.GetValues<ApiStage>().Select(Delta).Select(s => new ApiStageLine(s.Stage.ToString(), s.Runs, s.Runs == 0 ? 0 : Math.Round(s.Total.TotalMilliseconds / s.Runs, 3), Math.Round(s.Longest.TotalMilliseconds, 2)))]);
    }

    public void Dispose()
    {
        _stopping = true;
        _sampler.Join();
    }

    /// <summary>
    /// Every 5 ms (its own thread, not the pool's): queue an empty work item on the thread pool and note how long it
    /// waits to run (starvation shows here first), the pool's thread count, and the pause of any GC since the last look.
    /// </summary>
    private void Sample()
    {
        var lastGc = GC.GetGCMemoryInfo(GCKind.Any).Index;
        while (!_stopping)
        {
            var queued = Stopwatch.GetTimestamp();
            ThreadPool.UnsafeQueueUserWorkItem(
                q =>
                {
                    var delay = Stopwatch.GetElapsedTime(q).TotalMilliseconds;
                    lock (_gate)
                    {
                        _poolDelays.Add(delay);
                    }
                },
                queued,
                preferLocal: false);
            _poolThreads = Math.Max(_poolThreads, ThreadPool.ThreadCount);
            var gc = GC.GetGCMemoryInfo(GCKind.Any);
            if (gc.Index != lastGc)
            {
                lastGc = gc.Index;
                foreach (var p in gc.PauseDurations)
                {
                    _longestPause = Math.Max(_longestPause, p.TotalMilliseconds);
                }
            }

            Thread.Sleep(5);
        }
    }
}
