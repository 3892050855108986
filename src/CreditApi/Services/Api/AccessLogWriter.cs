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
        var request = new AccessRequest(caller.Member, MethodField(caller.Method, caller.Purpose, _suite.Hash(Google.Protobuf.MessageExtensions.ToByteArray(response))), subject, caller.AcceptedAtMs, caller.SignedDigest, caller.Signature);
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

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(RunAsync, CancellationToken.None);
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
    private async Task RunAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        var requests = new List<AccessRequest>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
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
                var entries = await ledger.Node.AccessLog.AppendAccessBatchAsync(requests, CancellationToken.None).ConfigureAwait(false);
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

    /// <summary>At most this many entries per durable write.</summary>
    private const int MaxBatch = 512;

    private sealed record Pending(AccessRequest Request, TaskCompletionSource<AccessLogEntry> Written);

    [LoggerMessage(EventId = 4210, Level = LogLevel.Error, Message = "api: the access log refused an entry for {Method}; the read is not answered")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, string method);
}
