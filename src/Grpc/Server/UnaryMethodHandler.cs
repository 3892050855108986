using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using SmartCity.Grpc.Wire;

namespace SmartCity.Grpc.Server;

internal sealed class UnaryMethodHandler<TService, TRequest, TResponse>(
    Method<TRequest, TResponse> method,
    Type implementationType,
    GrpcServerRuntime runtime,
    UnaryServerMethod<TService, TRequest, TResponse> invoker)
    : ServerMethodHandler(method, implementationType, runtime)
    where TService : class
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    protected override async Task InvokeAsync(object service, HttpContext http, ServerCallContext context)
    {
        var request = await ReadSingleRequestAsync(http.Request.BodyReader, method.RequestParser, context.CancellationToken).ConfigureAwait(false);
        var response = await invoker((TService)service, request, context).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{method} returned no response message.");
        if (context.Status.StatusCode != StatusCode.OK)
        {
            // A method that sets an error status answers with that status alone, as Grpc.AspNetCore does.
            return;
        }

        MessageFraming.Write(http.Response.BodyWriter, response, Runtime.Options.MaxSendMessageSize);
        await http.Response.BodyWriter.FlushAsync(context.CancellationToken).ConfigureAwait(false);
    }
}
