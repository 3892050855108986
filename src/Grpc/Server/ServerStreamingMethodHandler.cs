using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace SmartCity.Grpc.Server;

internal sealed class ServerStreamingMethodHandler<TService, TRequest, TResponse>(
    Method<TRequest, TResponse> method,
    Type implementationType,
    GrpcServerRuntime runtime,
    ServerStreamingServerMethod<TService, TRequest, TResponse> invoker)
    : ServerMethodHandler(method, implementationType, runtime)
    where TService : class
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    protected override async Task InvokeAsync(object service, HttpContext http, ServerCallContext context)
    {
        var request = await ReadSingleRequestAsync(http.Request.BodyReader, method.RequestParser, context.CancellationToken).ConfigureAwait(false);
        var writer = new HttpResponseStreamWriter<TResponse>(http.Response, context, Runtime.Options.MaxSendMessageSize);
        await invoker((TService)service, request, writer, context).ConfigureAwait(false);
    }
}
