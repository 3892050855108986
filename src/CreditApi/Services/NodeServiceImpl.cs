using Grpc.Core;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Node;
using Ending = SmartCity.Contracts.Node.V1.WatchOutcome.Types.Ending;

namespace SmartCity.CreditApi.Services;

/// <summary>
/// <c>smartcity.node.v1.NodeService</c>: liveness, status of the node and its ledger, the committed blocks as a stream,
/// submissions, transaction status and receipts (the ledger calls are in <c>NodeServiceImpl.Ledger.cs</c>), and the
/// deprecated heartbeat stream. Status answers with the
/// response header <c>x-node-region</c> and the trailer <c>x-node-id</c>, and echoes the request metadata
/// <c>x-trace-bin</c> as a trailer, so clients can check binary metadata both ways (<c>x-request-id</c> is echoed on
/// every call by the RequestIdInterceptor). Readiness is the standard <c>grpc.health.v1.Health</c> service's;
/// <see cref="Health"/> here only says the process answers.
/// </summary>
public sealed partial class NodeServiceImpl(NodeSettings settings, NodeUptime uptime, WatchJournal journal, LedgerRuntime ledger, TimeProvider time, IHostApplicationLifetime lifetime, WatchSubscribers subscribers)
    : NodeService.NodeServiceBase
{
    public const string RegionHeader = "x-node-region";
    public const string NodeIdTrailer = "x-node-id";
    public const string TraceKey = "x-trace-bin";

    private const int MaxIntervalMs = 60_000;

    public override Task<HealthResponse> Health(HealthRequest request, ServerCallContext context)
        => Task.FromResult(new HealthResponse { Status = HealthResponse.Types.ServingStatus.Serving });

    public override async Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        await context.WriteResponseHeadersAsync(new Metadata { { RegionHeader, settings.Region } }).ConfigureAwait(false);
        context.ResponseTrailers.Add(NodeIdTrailer, settings.NodeId);
        if (context.RequestHeaders.GetValueBytes(TraceKey) is { } trace)
        {
            context.ResponseTrailers.Add(TraceKey, trace);
        }

        var response = new StatusResponse
        {
            Version = ProductVersion.Current,
            UptimeMs = UptimeMs(),
            Region = settings.Region,
            NodeId = settings.NodeId,
            Echo = request.Echo,
            Ledger = LedgerStatusNow(),
        };
        response.RecentWatches.AddRange(journal.Recent());
        response.Jobs.AddRange(ledger.JobRuns.Last.Select(run => new JobRunStatus
        {
            Job = run.Job,
            Outcome = run.Outcome,
            StartedMs = run.StartedAt.ToUnixTimeMilliseconds(),
            DurationMs = (long)run.Duration.TotalMilliseconds,
            Summary = run.Summary,
            Instance = run.Instance,
        }));
        return response;
    }

    public override async Task Watch(WatchRequest request, IServerStreamWriter<Heartbeat> responseStream, ServerCallContext context)
    {
        if (request.IntervalMs is < 1 or > MaxIntervalMs)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"interval_ms must be between 1 and {MaxIntervalMs}, got {request.IntervalMs}"));
        }

        if (request.Count < 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"count must be 0 (until cancelled) or positive, got {request.Count}"));
        }

        // A stream beyond server.maxWatchSubscribers(PerConnection) ends here with RESOURCE_EXHAUSTED.
        using var lease = subscribers.Enter(context);

        // An endless stream must not hold up shutdown: it ends with UNAVAILABLE when the node starts stopping.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var sent = 0L;
        try
        {
            while (request.Count == 0 || sent < request.Count)
            {
                // Written with the call's own token only: a write cancelled part-way aborts the HTTP/2 stream (the
                // client would see a reset, not UNAVAILABLE), so the node's stopping is seen between heartbeats, by
                // the wait below (at once when it has already begun).
                await responseStream.WriteAsync(new Heartbeat { Sequence = sent + 1, UptimeMs = UptimeMs() }, context.CancellationToken).ConfigureAwait(false);
                sent++;
                if (request.Count == 0 || sent < request.Count)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(request.IntervalMs), time, stopping.Token).ConfigureAwait(false);
                }
            }

            journal.Record(request.WatchId, Ending.Completed, sent);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            journal.Record(request.WatchId, Ending.NodeStopping, sent);
            throw new RpcException(new Status(StatusCode.Unavailable, "The node is shutting down."));
        }
        catch (Exception error) when (error is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The call ended under us: the token fires for a client reset (the request is aborted) or for the
            // deadline, and a write racing either can fail with an I/O or "request is complete" error before the
            // token reads as cancelled. Every such ending is journaled; the wall clock decides which it was, since a
            // timer may fire a clock tick before Deadline reads as passed.
            var clientReset = context.GetHttpContext().RequestAborted.IsCancellationRequested;
            var deadlinePassed = time.GetUtcNow().UtcDateTime >= context.Deadline;
            var ending = deadlinePassed || (!clientReset && context.CancellationToken.IsCancellationRequested) ? Ending.DeadlineExceeded : Ending.Cancelled;
            journal.Record(request.WatchId, ending, sent);
            throw;
        }
    }

    private long UptimeMs() => (long)uptime.Elapsed.TotalMilliseconds;
}
