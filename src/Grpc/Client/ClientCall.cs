using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using SmartCity.Grpc.Wire;

namespace SmartCity.Grpc.Client;

/// <summary>
/// One call over HTTP/2: sends the request, checks the response headers (including trailers-only answers),
/// reads messages and finally the status from the trailers. Every failure surfaces as an
/// <see cref="RpcException"/>; cancellation and deadlines reset the HTTP/2 stream so the server sees them.
/// </summary>
internal sealed class ClientCall<TRequest, TResponse> : IClientCall
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private const string UserAgent = "smartcity-grpc/0.1";

    private readonly GrpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions _options;
    private readonly CancellationTokenSource _cancellation;
    private readonly CancellationTokenSource? _deadline;
    private readonly TimeSpan? _timeout;
    private readonly TaskCompletionSource<Metadata> _responseHeaders = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private HttpResponseMessage? _response;
    private PipeReader? _reader;
    private Status? _status;
    private Metadata _trailers = new();
    private bool _disposed;

    public ClientCall(GrpcChannel channel, Method<TRequest, TResponse> method, CallOptions options)
    {
        _channel = channel;
        _method = method;
        _options = options;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken);
        if (options.Deadline is { } deadline && deadline != DateTime.MaxValue)
        {
            var timeout = deadline.ToUniversalTime() - channel.Options.TimeProvider.GetUtcNow().UtcDateTime;
            _timeout = timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero;
            _deadline = new CancellationTokenSource(_timeout.Value, channel.Options.TimeProvider);
            _deadline.Token.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _cancellation);
        }

        // Observed through the call objects; never let an unread failure become an unobserved exception.
        _ = _responseHeaders.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public Task<Metadata> ResponseHeadersAsync => _responseHeaders.Task;

    public Status GetStatus()
    {
        lock (_gate)
        {
            return _status ?? throw new InvalidOperationException("The call has not completed yet, so it has no status.");
        }
    }

    public Metadata GetTrailers()
    {
        lock (_gate)
        {
            return _status is null ? throw new InvalidOperationException("The call has not completed yet, so it has no trailers.") : _trailers;
        }
    }

    public async Task StartAsync(TRequest request)
    {
        try
        {
            if (_timeout == TimeSpan.Zero)
            {
                throw new RpcException(StatusCode.DeadlineExceeded, "Deadline Exceeded");
            }

            using var message = CreateRequest(request);
            _response = await _channel.Invoker.SendAsync(message, _cancellation.Token).ConfigureAwait(false);

            // Disposed while sending: Fail aborts, which also disposes the response just received.
            _cancellation.Token.ThrowIfCancellationRequested();
            var headers = ReadMetadata(_response.Headers);
            if (CheckResponseHeaders(_response) is { } status)
            {
                // Trailers-only or not a gRPC response: the headers are also the trailers.
                _responseHeaders.TrySetResult(headers);
                throw Complete(status, headers);
            }

            _responseHeaders.TrySetResult(headers);
            var body = await _response.Content.ReadAsStreamAsync(_cancellation.Token).ConfigureAwait(false);
            _reader = PipeReader.Create(body, new StreamPipeReaderOptions(leaveOpen: false));
        }
        catch (Exception e)
        {
            throw Fail(e);
        }
    }

    /// <summary>The next message, or null once the call has ended with OK; throws for any other status.</summary>
    public async ValueTask<TResponse?> ReadAsync()
    {
        try
        {
            var reader = _reader ?? throw new InvalidOperationException("The call has not started.");
            var message = await MessageFraming.ReadAsync(reader, _method.ResponseParser, _channel.Options.MaxReceiveMessageSize, _cancellation.Token).ConfigureAwait(false);
            if (message is not null)
            {
                return message;
            }

            var trailers = ReadMetadata(_response!.TrailingHeaders);
            var status = ReadStatus(_response.TrailingHeaders)
                ?? new Status(StatusCode.Internal, "The response ended without a grpc-status trailer.");
            var exception = Complete(status, trailers);
            return status.StatusCode == StatusCode.OK ? null : throw exception;
        }
        catch (Exception e)
        {
            throw Fail(e);
        }
    }

    /// <summary>Turns any failure into the <see cref="RpcException"/> that ends the call, and ends it.</summary>
    public RpcException Fail(Exception exception)
    {
        var rpc = exception switch
        {
            RpcException e => e,
            _ when _deadline?.IsCancellationRequested == true => new RpcException(StatusCode.DeadlineExceeded, "Deadline Exceeded"),
            _ when _options.CancellationToken.IsCancellationRequested || Volatile.Read(ref _disposed) => new RpcException(StatusCode.Cancelled, "Call canceled by the client."),
            HttpRequestException e => new RpcException(StatusCode.Unavailable, $"Error starting gRPC call. {e.GetType().Name}: {e.Message}"),
            HttpProtocolException { ErrorCode: 0x8 } => new RpcException(StatusCode.Cancelled, "The server cancelled the call."),
            IOException e => new RpcException(StatusCode.Unavailable, $"Error reading the response. {e.GetType().Name}: {e.Message}"),
            _ => new RpcException(StatusCode.Internal, $"Error in the gRPC call. {exception.GetType().Name}: {exception.Message}"),
        };
        Complete(rpc.Status, rpc.Trailers);
        _responseHeaders.TrySetException(rpc);
        if (rpc.StatusCode != StatusCode.OK)
        {
            // Reset the HTTP/2 stream if it is still open, so the server stops working on the call.
            Abort();
        }

        return rpc;
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        lock (_gate)
        {
            _status ??= new Status(StatusCode.Cancelled, "Call canceled by the client.");
        }

        _responseHeaders.TrySetException(new RpcException(StatusCode.Cancelled, "Call canceled by the client."));
        Abort();
        _deadline?.Dispose();
    }

    private void Abort()
    {
        _cancellation.Cancel();
        _response?.Dispose();
    }

    private RpcException Complete(Status status, Metadata trailers)
    {
        lock (_gate)
        {
            if (_status is null)
            {
                _status = status;
                _trailers = trailers;
            }
        }

        return new RpcException(status, trailers);
    }

    private HttpRequestMessage CreateRequest(TRequest request)
    {
        var body = new ArrayBufferWriter<byte>(MessageFraming.HeaderLength + request.CalculateSize());
        MessageFraming.Write(body, request, _channel.Options.MaxSendMessageSize);

        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_channel.Address, _method.FullName))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ReadOnlyMemoryContent(body.WrittenMemory),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue(GrpcProtocol.ContentType);
        message.Headers.TE.Add(new TransferCodingWithQualityHeaderValue(GrpcProtocol.TeTrailers));
        message.Headers.TryAddWithoutValidation(GrpcProtocol.UserAgentHeader, UserAgent);
        message.Headers.TryAddWithoutValidation(GrpcProtocol.AcceptEncodingHeader, GrpcProtocol.IdentityEncoding);
        if (_timeout is { } timeout)
        {
            message.Headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcTimeout.Format(timeout));
        }

        foreach (var entry in _options.Headers ?? [])
        {
            message.Headers.TryAddWithoutValidation(entry.Key, entry.IsBinary ? MetadataCodec.EncodeBinary(entry.ValueBytes) : entry.Value);
        }

        return message;
    }

    private static Status? CheckResponseHeaders(HttpResponseMessage response)
    {
        var status = ReadStatus(response.Headers);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return status ?? new Status(HttpStatusMapping.ToStatusCode(response.StatusCode), $"Bad gRPC response. HTTP status code: {(int)response.StatusCode}");
        }

        if (status is not null)
        {
            return status;
        }

        var contentType = response.Content.Headers.ContentType?.MediaType;
        return GrpcProtocol.IsGrpcContentType(contentType)
            ? null
            : new Status(StatusCode.Internal, $"Bad gRPC response. Invalid content-type value: {contentType}");
    }

    private static Status? ReadStatus(HttpHeaders headers)
    {
        if (!headers.NonValidated.TryGetValues(GrpcProtocol.StatusHeader, out var codes))
        {
            return null;
        }

        var message = headers.NonValidated.TryGetValues(GrpcProtocol.MessageHeader, out var messages)
            ? StatusMessageEncoding.Decode(messages.ToString())
            : "";
        return int.TryParse(codes.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code is >= 0 and <= 16
            ? new Status((StatusCode)code, message)
            : new Status(StatusCode.Unknown, $"Unexpected grpc-status value '{codes}'. {message}".TrimEnd());
    }

    private static Metadata ReadMetadata(HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers.NonValidated)
        {
            MetadataCodec.AddHeader(metadata, name, values);
        }

        return metadata;
    }
}
