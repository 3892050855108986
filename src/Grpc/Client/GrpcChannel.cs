using System.Net;
using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace SmartCity.Grpc.Client;

/// <summary>
/// A connection to one gRPC server over HTTP/2, as Grpc.Net.Client's <c>GrpcChannel</c>: cleartext HTTP/2 with
/// prior knowledge for <c>http://</c> addresses, TLS with ALPN for <c>https://</c>. Thread-safe; share one per server.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    private readonly HttpMessageInvoker _invoker;

    private GrpcChannel(Uri address, GrpcChannelOptions options)
    {
        Address = address;
        Options = options;
        _invoker = new HttpMessageInvoker(options.HttpHandler ?? CreateHandler(), disposeHandler: options.HttpHandler is null);
    }

    public Uri Address { get; }

    internal GrpcChannelOptions Options { get; }

    internal HttpMessageInvoker Invoker => _invoker;

    public static GrpcChannel ForAddress(string address, GrpcChannelOptions? options = null)
        => ForAddress(new Uri(address, UriKind.Absolute), options);

    public static GrpcChannel ForAddress(Uri address, GrpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"gRPC address '{address}' must be http:// or https://.", nameof(address));
        }

        return new GrpcChannel(address, options ?? new GrpcChannelOptions());
    }

    /// <summary>Starts a unary call; await the result for the response.</summary>
    public AsyncUnaryCall<TResponse> CallUnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        var call = new ClientCall<TRequest, TResponse>(this, method, options);
        return new AsyncUnaryCall<TResponse>(RunUnaryAsync(call, request), call);
    }

    /// <summary>Starts a server-streaming call; enumerate its <c>ResponseStream</c> for the messages.</summary>
    public AsyncServerStreamingCall<TResponse> CallServerStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        var call = new ClientCall<TRequest, TResponse>(this, method, options);
        var started = call.StartAsync(request);
        return new AsyncServerStreamingCall<TResponse>(ReadAllAsync(call, started), call);
    }

    public void Dispose() => _invoker.Dispose();

    private static async Task<TResponse> RunUnaryAsync<TRequest, TResponse>(ClientCall<TRequest, TResponse> call, TRequest request)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        try
        {
            await call.StartAsync(request).ConfigureAwait(false);
            var response = await call.ReadAsync().ConfigureAwait(false)
                ?? throw call.Fail(new RpcException(StatusCode.Internal, "The server ended a unary call with OK but sent no response message."));
            if (await call.ReadAsync().ConfigureAwait(false) is not null)
            {
                throw call.Fail(new RpcException(StatusCode.Internal, "The server sent more than one response message for a unary call."));
            }

            return response;
        }
        finally
        {
            call.Dispose();
        }
    }

    private static async IAsyncEnumerable<TResponse> ReadAllAsync<TRequest, TResponse>(ClientCall<TRequest, TResponse> call, Task started, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        using var registration = cancellationToken.Register(static state => ((IDisposable)state!).Dispose(), call);
        await started.ConfigureAwait(false);
        while (await call.ReadAsync().ConfigureAwait(false) is { } message)
        {
            yield return message;
        }
    }

    private static SocketsHttpHandler CreateHandler() => new()
    {
        EnableMultipleHttp2Connections = true,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        UseProxy = false,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        KeepAlivePingDelay = TimeSpan.FromSeconds(60),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
    };
}
