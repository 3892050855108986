namespace SmartCity.Grpc.Client;

/// <summary>
/// A server-streaming call in flight. Enumerate <see cref="ResponseStream"/> for the messages; it throws
/// <see cref="RpcException"/> if the call ends with a non-OK status. Disposing the call mid-stream cancels it,
/// which the server observes as a cancelled call.
/// </summary>
public sealed class AsyncServerStreamingCall<TResponse> : IDisposable
{
    private readonly IClientCall _call;

    internal AsyncServerStreamingCall(IAsyncEnumerable<TResponse> responseStream, IClientCall call)
    {
        ResponseStream = responseStream;
        _call = call;
    }

    public IAsyncEnumerable<TResponse> ResponseStream { get; }

    public Task<Metadata> ResponseHeadersAsync => _call.ResponseHeadersAsync;

    /// <summary>The status; only once the stream has ended.</summary>
    public Status GetStatus() => _call.GetStatus();

    /// <summary>The response trailers; only once the stream has ended.</summary>
    public Metadata GetTrailers() => _call.GetTrailers();

    public void Dispose() => _call.Dispose();
}
