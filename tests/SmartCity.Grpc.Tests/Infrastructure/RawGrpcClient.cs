using System.Net;
using System.Net.Http.Headers;

namespace SmartCity.Grpc.Tests.Infrastructure;

/// <summary>Plain HTTP/2 requests with hand-made bodies, to exercise the server with what no gRPC client would send.</summary>
internal sealed class RawGrpcClient(Uri address) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler()) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(20) };

    public sealed record Response(HttpStatusCode HttpStatus, HttpResponseHeaders Headers, string? ContentType, byte[] Body, HttpResponseHeaders Trailers)
    {
        /// <summary>grpc-status and the raw (still percent-encoded) grpc-message, from the trailers or, for a trailers-only response, the headers.</summary>
        public (string? Status, string? Message) GrpcStatus
        {
            get
            {
                var source = Headers.Contains("grpc-status") ? Headers : Trailers;
                return (Value(source, "grpc-status"), Value(source, "grpc-message"));
            }
        }

        public bool IsTrailersOnly => Headers.Contains("grpc-status") && Body.Length == 0;

        public static string? Value(HttpResponseHeaders headers, string name)
            => headers.NonValidated.TryGetValues(name, out var values) ? values.ToString() : null;
    }

    public static byte[] Frame(byte[] payload, byte compressedFlag = 0)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = compressedFlag;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    public async Task<Response> PostAsync(string path, byte[] body, string contentType = "application/grpc", params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(body),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TE.ParseAdd("trailers");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await _http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return new Response(response.StatusCode, response.Headers, response.Content.Headers.ContentType?.ToString(), bytes, response.TrailingHeaders);
    }

    public void Dispose() => _http.Dispose();
}
