using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace SmartCity.Grpc.Server;

/// <summary>
/// What a service method knows about its call, shaped like Grpc.Core's <c>ServerCallContext</c>: the request
/// metadata, the deadline and the cancellation token (cancelled when the client cancels or the deadline
/// passes), the response headers and trailers, and the peer.
/// </summary>
public sealed class ServerCallContext
{
    private readonly HttpContext _httpContext;

    internal ServerCallContext(HttpContext httpContext, IMethod method, DateTime deadline, Metadata requestHeaders, CancellationToken cancellationToken)
    {
        _httpContext = httpContext;
        Method = method.FullName;
        Deadline = deadline;
        RequestHeaders = requestHeaders;
        CancellationToken = cancellationToken;
    }

    /// <summary>The method path, e.g. <c>/smartcity.node.v1.NodeService/Status</c>.</summary>
    public string Method { get; }

    /// <summary>The UTC deadline of the call, or <see cref="DateTime.MaxValue"/> when the client set none.</summary>
    public DateTime Deadline { get; }

    public Metadata RequestHeaders { get; }

    /// <summary>Trailers sent with the status at the end of the call (also on errors).</summary>
    public Metadata ResponseTrailers { get; } = new();

    /// <summary>The status returned when the method completes without throwing; <see cref="StatusCode.OK"/> by default.</summary>
    public Status Status { get; set; } = Status.DefaultSuccess;

    /// <summary>Cancelled when the client cancels the call, the connection drops, or the deadline passes.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The client address in gRPC's notation, e.g. <c>ipv4:127.0.0.1:50312</c>.</summary>
    public string Peer
    {
        get
        {
            var connection = _httpContext.Connection;
            return connection.RemoteIpAddress switch
            {
                null => "unknown",
                { AddressFamily: AddressFamily.InterNetworkV6 } ip => $"ipv6:[{ip}]:{connection.RemotePort}",
                var ip => $"ipv4:{ip}:{connection.RemotePort}",
            };
        }
    }

    /// <summary>Sends the response headers now, with <paramref name="responseHeaders"/>; at most once per call.</summary>
    public async Task WriteResponseHeadersAsync(Metadata responseHeaders)
    {
        ArgumentNullException.ThrowIfNull(responseHeaders);
        var response = _httpContext.Response;
        if (response.HasStarted)
        {
            throw new InvalidOperationException("Response headers can only be sent once per call.");
        }

        HttpMetadata.Append(response.Headers, responseHeaders);
        await response.StartAsync(CancellationToken).ConfigureAwait(false);
    }

    /// <summary>The underlying ASP.NET Core context, as Grpc.AspNetCore's <c>GetHttpContext()</c>.</summary>
    public HttpContext GetHttpContext() => _httpContext;
}
