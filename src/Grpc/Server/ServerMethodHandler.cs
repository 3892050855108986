using System.Globalization;
using System.IO.Pipelines;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using SmartCity.Grpc.Wire;

namespace SmartCity.Grpc.Server;

/// <summary>
/// Serves one method: validates the request, sets up the deadline and cancellation, runs the service method
/// and turns whatever happens into a gRPC status. No exception escapes <see cref="HandleAsync"/>.
/// </summary>
internal abstract class ServerMethodHandler
{
    // CancellationTokenSource timers accept at most uint.MaxValue - 1 ms.
    private static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly ObjectFactory _factory;

    protected ServerMethodHandler(IMethod method, Type implementationType, GrpcServerRuntime runtime)
    {
        Method = method;
        ImplementationType = implementationType;
        Runtime = runtime;
        _factory = ActivatorUtilities.CreateFactory(implementationType, Type.EmptyTypes);
    }

    public IMethod Method { get; }

    protected Type ImplementationType { get; }

    protected GrpcServerRuntime Runtime { get; }

    public async Task HandleAsync(HttpContext http)
    {
        if (RejectIfNotGrpc(http) is { } rejection)
        {
            await WriteStatusAsync(http, null, rejection).ConfigureAwait(false);
            return;
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            // The message size limit applies instead of Kestrel's request body limit.
            bodySize.MaxRequestBodySize = null;
        }

        // The deadline instant is fixed first, so that when the timer fires the deadline has passed.
        var timeout = ReadTimeout(http.Request);
        var deadlineAt = timeout is { } t ? Runtime.TimeProvider.GetUtcNow().UtcDateTime + t : DateTime.MaxValue;
        using var deadline = timeout is { } d ? new CancellationTokenSource(d, Runtime.TimeProvider) : null;
        using var call = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, deadline?.Token ?? CancellationToken.None);
        var context = new ServerCallContext(http, Method, deadlineAt, HttpMetadata.Read(http.Request.Headers), call.Token);

        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = GrpcProtocol.ContentType;

        var status = await RunAsync(http, context, deadline).ConfigureAwait(false);
        if (status is { } final)
        {
            await WriteStatusAsync(http, context, final).ConfigureAwait(false);
        }
    }

    protected abstract Task InvokeAsync(object service, HttpContext http, ServerCallContext context);

    /// <summary>Reads the one request message of a unary or server-streaming call.</summary>
    protected async Task<TRequest> ReadSingleRequestAsync<TRequest>(PipeReader reader, MessageParser<TRequest> parser, CancellationToken cancellationToken)
        where TRequest : IMessage<TRequest>
    {
        var maxSize = Runtime.Options.MaxReceiveMessageSize;
        var request = await MessageFraming.ReadAsync(reader, parser, maxSize, cancellationToken).ConfigureAwait(false)
            ?? throw new RpcException(StatusCode.Internal, "The request stream ended before a message was received.");
        if (await MessageFraming.ReadAsync(reader, parser, maxSize, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new RpcException(StatusCode.Internal, $"{Method.FullName} takes one request message, but the request carried more.");
        }

        return request;
    }

    /// <summary>Runs the method; returns the status to send, or null when the client is gone.</summary>
    private async Task<Status?> RunAsync(HttpContext http, ServerCallContext context, CancellationTokenSource? deadline)
    {
        var logger = Runtime.Logger;
        object? created = null;
        try
        {
            var service = http.RequestServices.GetService(ImplementationType) ?? (created = _factory(http.RequestServices, null));
            await InvokeAsync(service, http, context).ConfigureAwait(false);
            return context.Status;
        }
        catch (Exception) when (deadline?.IsCancellationRequested == true)
        {
            GrpcServerLog.DeadlineExceeded(logger, Method.FullName);
            return http.RequestAborted.IsCancellationRequested ? null : new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            GrpcServerLog.CancelledByClient(logger, Method.FullName);
            return null;
        }
        catch (RpcException e)
        {
            GrpcServerLog.CallFailed(logger, Method.FullName, e.StatusCode, e.Status.Detail);
            foreach (var entry in e.Trailers)
            {
                context.ResponseTrailers.Add(entry);
            }

            return e.Status;
        }
        catch (Exception e)
        {
            GrpcServerLog.HandlerFailed(logger, Method.FullName, e);
            var detail = Runtime.Options.EnableDetailedErrors
                ? $"Exception was thrown by handler. {e.GetType().Name}: {e.Message}"
                : "Exception was thrown by handler.";
            return new Status(StatusCode.Unknown, detail);
        }
        finally
        {
            await DisposeAsync(created).ConfigureAwait(false);
        }
    }

    private Status? RejectIfNotGrpc(HttpContext http)
    {
        var request = http.Request;
        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            http.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            return new Status(StatusCode.Internal, $"Request protocol '{request.Protocol}' is not supported; gRPC needs HTTP/2.");
        }

        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return new Status(StatusCode.Internal, $"Content-Type '{request.ContentType}' is not supported; expected '{GrpcProtocol.ContentType}'.");
        }

        var encoding = request.Headers[GrpcProtocol.EncodingHeader].ToString();
        if (encoding.Length > 0 && !encoding.Equals(GrpcProtocol.IdentityEncoding, StringComparison.OrdinalIgnoreCase))
        {
            http.Response.Headers[GrpcProtocol.AcceptEncodingHeader] = GrpcProtocol.IdentityEncoding;
            return new Status(StatusCode.Unimplemented, $"Unsupported grpc-encoding value '{encoding}'. Supported encodings: identity");
        }

        return null;
    }

    private TimeSpan? ReadTimeout(HttpRequest request)
    {
        var value = request.Headers[GrpcProtocol.TimeoutHeader].ToString();
        if (value.Length == 0)
        {
            return null;
        }

        if (GrpcTimeout.TryParse(value, out var timeout))
        {
            // Beyond what a timer can wait (about 49 days) a deadline never fires in practice.
            return timeout < LongestTimer ? timeout : null;
        }

        GrpcServerLog.InvalidTimeout(Runtime.Logger, value);
        return null;
    }

    /// <summary>
    /// Ends the call with <paramref name="status"/>: as trailers after a response that has started, or as a
    /// trailers-only response (status in the headers, no body) when nothing was sent yet.
    /// </summary>
    internal static async Task WriteStatusAsync(HttpContext http, ServerCallContext? context, Status status)
    {
        var response = http.Response;
        try
        {
            var code = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
            if (!response.HasStarted)
            {
                if (response.StatusCode == StatusCodes.Status200OK)
                {
                    response.ContentType = GrpcProtocol.ContentType;
                }

                response.Headers[GrpcProtocol.StatusHeader] = code;
                if (status.Detail.Length > 0)
                {
                    response.Headers[GrpcProtocol.MessageHeader] = StatusMessageEncoding.Encode(status.Detail);
                }

                if (context is not null)
                {
                    HttpMetadata.Append(response.Headers, context.ResponseTrailers);
                }

                return;
            }

            await response.BodyWriter.FlushAsync(http.RequestAborted).ConfigureAwait(false);
            response.AppendTrailer(GrpcProtocol.StatusHeader, code);
            if (status.Detail.Length > 0)
            {
                response.AppendTrailer(GrpcProtocol.MessageHeader, StatusMessageEncoding.Encode(status.Detail));
            }

            if (context is not null)
            {
                HttpMetadata.AppendTrailers(response, context.ResponseTrailers);
            }
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client is gone; there is no one to tell.
        }
    }

    private static async ValueTask DisposeAsync(object? service)
    {
        switch (service)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }
}
