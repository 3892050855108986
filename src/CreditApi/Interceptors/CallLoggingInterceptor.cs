using Grpc.Core;

namespace SmartCity.CreditApi.Interceptors;

/// <summary>
/// Logs every call with event ids (<see cref="GrpcLog"/>): start and success at Debug, an expected failure status
/// (INVALID_ARGUMENT, NOT_FOUND, CANCELLED, DEADLINE_EXCEEDED…) at Information, a fault (UNKNOWN, INTERNAL,
/// DATA_LOSS or an unexpected exception) at Error with the exception. The scope carries the request id.
/// </summary>
public sealed class CallLoggingInterceptor(ILogger<CallLoggingInterceptor> logger, TimeProvider time) : ServerCallInterceptor
{
    protected override async Task<T> AroundAsync<T>(ServerCallContext context, Func<Task<T>> handler)
    {
        var requestId = RequestIdInterceptor.Of(context);
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["RequestId"] = requestId, ["GrpcMethod"] = context.Method });
        GrpcLog.CallStarted(logger, context.Method, requestId, context.Peer);
        var started = time.GetTimestamp();
        try
        {
            var result = await handler().ConfigureAwait(false);
            GrpcLog.CallSucceeded(logger, context.Method, time.GetElapsedTime(started).TotalMilliseconds, requestId);
            return result;
        }
        catch (Exception e)
        {
            var status = StatusOf(e, context);
            var elapsed = time.GetElapsedTime(started).TotalMilliseconds;
            if (status is StatusCode.Unknown or StatusCode.Internal or StatusCode.DataLoss)
            {
                GrpcLog.CallFailed(logger, e, context.Method, status, elapsed, requestId);
            }
            else
            {
                GrpcLog.CallEndedWithStatus(logger, context.Method, status, elapsed, requestId, (e as RpcException)?.Status.Detail ?? e.Message);
            }

            throw;
        }
    }
}
