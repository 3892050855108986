using System.Threading.Channels;
using Grpc.Core;
using SmartCity.CreditApi.Node;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Storage;

namespace SmartCity.CreditApi.Services.Api;

/// <summary>
/// The one writer of the access log: every read of a subject's data is queued here and appended to the store's
/// hash-chained log by a single loop, so the entries have one order; a read's answer leaves the node only after its
/// entry is durable in the store (a crash loses no acknowledged read). The entry's method field carries the purpose
/// code and the result digest: <c>{method};purpose={code};result={0x H(the response's protobuf encoding)}</c> with H the
/// chain's suite hash, Keccak-256 (eth) or SM3 (gm) (docs/api.md).
/// </summary>
public sealed partial class AccessLogWriter(LedgerRuntime ledger, ApiOptions options, ApiStageTimers timers, ILogger<AccessLogWriter> logger) : IHostedService, IAsyncDisposable
{
    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.AccessLogQueueCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly CryptoSuite _suite = CryptoSuite.For(ledger.Startup.Genesis.Crypto.Suite);

    private Task _loop = Task.CompletedTask;

    public static string MethodField(string method, string purpose, in Hash256 resultDigest) => $"{method};purpose={purpose};result={resultDigest}";

    /// <summary>Appends the entry of a read that produced <paramref name="response"/>, and returns when it is durable.</summary>
    public async Task<AccessLogEntry> RecordAsync(ApiCaller caller, string subject, Google.Protobuf.IMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(response);
        var request = new AccessRequest(caller.Member, MethodField(caller.Method, caller.Purpose, ResultDigest(response)), subject, caller.AcceptedAtMs, caller.SignedDigest, caller.Signature);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var pending = new Pending(request, new TaskCompletionSource<AccessLogEntry>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw LedgerErrors.Of(StatusCode.ResourceExhausted, "AccessLogBusy", $"{options.AccessLogQueueCapacity} reads wait for the access log; retry shortly");
        }

        // The entry is written even if this caller gives up: the read may already have been seen by the client.
        var entry = await pending.Written.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        timers.Add(ApiStage.AccessLogWait, started);
        return entry;
    }

    /// <summary>
    /// Starts the writer on a thread of its own: the flush to disk blocks the thread that calls it for the disk's whole
    /// latency, and on the thread pool (two threads on a 2-core node until it injects more) that stalled every read
    /// and every reply queued behind it. The pool's threads now only hand entries over and resume the callers.
    /// </summary>
    /// <summary>H(the response's protobuf encoding), encoded into a pooled buffer rather than a new array per read.</summary>
    private Hash256 ResultDigest(Google.Protobuf.IMessage response)
    {
        var size = response.CalculateSize();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(1, size));
        try
        {
            Google.Protobuf.MessageExtensions.WriteTo(response, buffer.AsSpan(0, size));
            return _suite.Hash(buffer.AsSpan(0, size));
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop = done.Task;
        new Thread(() =>
        {
            try
            {
                Run();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true, Name = "access-log writer" }.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    /// <summary>
    /// Group commit: every read waiting when the loop comes round is appended in one durable write (one fsync, one
    /// database transaction), in queue order, and each is acknowledged only after that write. Under load a batch holds
    /// many reads; alone, a read is written at once.
    /// </summary>
    private void Run()
    {
        var batch = new List<Pending>(MaxBatch);
        var requests = new List<AccessRequest>(MaxBatch);
        while (WaitForEntries())
        {
            batch.Clear();
            requests.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
                requests.Add(pending.Request);
            }

            try
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                // This thread is the writer's own: waiting on the store here blocks no one else.
                var entries = ledger.Node.AccessLog.AppendAccessBatchAsync(requests, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                timers.Add(ApiStage.AccessLogWrite, started, batch.Count);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Written.TrySetResult(entries[i]);
                }
            }
            catch (Exception e) when (e is StoreException or InvalidOperationException or IOException)
            {
                LogAppendFailed(logger, e, batch[0].Request.Method);
                foreach (var pending in batch)
                {
                    pending.Written.TrySetException(LedgerErrors.Of(StatusCode.Unavailable, "AccessLogUnavailable", $"the access log could not record the read, so nothing is answered: {e.Message}"));
                }
            }
        }
    }

    /// <summary>Blocks the writer's thread until an entry is queued; false when the queue is completed and drained.</summary>
    private bool WaitForEntries()
    {
        var wait = _queue.Reader.WaitToReadAsync();
        return wait.IsCompleted ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>At most this many entries per durable write.</summary>
    private const int MaxBatch = 512;

    private sealed record Pending(AccessRequest Request, TaskCompletionSource<AccessLogEntry> Written);

    [LoggerMessage(EventId = 4210, Level = LogLevel.Error, Message = "api: the access log refused an entry for {Method}; the read is not answered")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, string method);
}
