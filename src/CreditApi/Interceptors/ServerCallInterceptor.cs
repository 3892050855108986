using Grpc.Core;
using Grpc.Core.Interceptors;

namespace SmartCity.CreditApi.Interceptors;

/// <summary>
/// A server interceptor written once for the four kinds of call: <see cref="AroundAsync"/> wraps the handler of a
/// unary, server-streaming, client-streaming or bidirectional call alike.
/// </summary>
public abstract class ServerCallInterceptor : Interceptor
{
    /// <summary>Runs <paramref name="handler"/> (the rest of the pipeline and the service method) for one call.</summary>
    protected abstract Task<T> AroundAsync<T>(ServerCallContext context, Func<Task<T>> handler);

    public sealed override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        => AroundAsync(context, () => continuation(request, context));

    public sealed override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
        => AroundAsync(context, () => continuation(requestStream, context));

    public sealed override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
        => AroundAsync(context, async () =>
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            return true;
        });

    public sealed override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
        => AroundAsync(context, async () =>
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            return true;
        });

    /// <summary>The status a call ends with when its handler threw <paramref name="exception"/> (as Grpc.AspNetCore reports it).</summary>
    internal static StatusCode StatusOf(Exception exception, ServerCallContext context) => exception switch
    {
        RpcException rpc => rpc.StatusCode,
        OperationCanceledException when context.Deadline <= DateTime.UtcNow => StatusCode.DeadlineExceeded,
        OperationCanceledException when context.CancellationToken.IsCancellationRequested => StatusCode.Cancelled,
        _ => StatusCode.Unknown,
    };
}
