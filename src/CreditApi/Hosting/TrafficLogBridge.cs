using SmartCity.CreditApi.Node;

namespace SmartCity.CreditApi.Hosting;

/// <summary>
/// Turns the protocol errors Kestrel and Grpc.AspNetCore log at Debug (a bad HTTP/2 preface or frame, bad header
/// compression, a stream flood, a failed TLS handshake, a bad request; a request message too large or that does not
/// decode) into the node's rate-limited Warnings (<see cref="TrafficWarnings"/>, events 3203 and 3204). The host
/// gives this provider the Debug events of those two libraries only and keeps their own lines off the console, so a
/// flood of bad traffic writes one line per reason and interval.
/// </summary>
public sealed class TrafficLogBridge : ILoggerProvider
{
    public const string KestrelCategory = "Microsoft.AspNetCore.Server.Kestrel";
    public const string GrpcCategory = "Grpc.AspNetCore.Server";

    /// <summary>Kestrel's event names for traffic that breaks HTTP/2, TLS or HTTP (besides every event of its BadRequests category).</summary>
    private static readonly HashSet<string> Malformed = new(StringComparer.Ordinal)
    {
        "ConnectionBadRequest", "Http2ConnectionError", "HPackDecodingError", "Http2StreamError", "Http2StreamErrorAfterHeaders",
        "Http2StreamErrorLessDataThanLength", "Http2StreamErrorMoreDataThanLength", "Http2StreamErrorPathInvalid",
        "Http2StreamErrorSchemeMismatch", "Http2MaxConcurrentStreamsReached", "Http2TooManyEnhanceYourCalms",
        "Http2FlowControlQueueOperationsExceeded", "AuthenticationFailed", "PossibleInvalidHttpVersionDetected", "RequestBodyDrainTimeout",
    };

    /// <summary>Grpc.AspNetCore's event names for a request message it could not take.</summary>
    private static readonly HashSet<string> BadMessages = new(StringComparer.Ordinal) { "ErrorReadingMessage" };

    private TrafficWarnings? _warnings;

    /// <summary>Connects the bridge to the host's warnings once the host is built.</summary>
    public void Attach(TrafficWarnings warnings) => _warnings = warnings;

    public ILogger CreateLogger(string categoryName) => new Bridge(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Bridge(TrafficLogBridge owner, string category) : ILogger
    {
        private readonly bool _grpc = category.StartsWith(GrpcCategory, StringComparison.Ordinal);
        private readonly bool _badRequests = category == KestrelCategory + ".BadRequests";

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (owner._warnings is not { } warnings || eventId.Name is not { } name)
            {
                return;
            }

            var reason = _grpc
                ? BadMessages.Contains(name) ? TrafficReason.BadMessage : (TrafficReason?)null
                : _badRequests || Malformed.Contains(name) ? TrafficReason.MalformedTraffic : null;
            if (reason is { } found)
            {
                var detail = exception is null ? formatter(state, null) : $"{formatter(state, null)} {exception.Message}";
                warnings.Report(found, PeerOf(state), $"{name}: {detail.ReplaceLineEndings(" ")}");
            }
        }

        private static string? PeerOf<TState>(TState state)
            => state is IReadOnlyList<KeyValuePair<string, object?>> values
                && values.FirstOrDefault(v => v.Key == "ConnectionId").Value is { } id ? $"connection {id}" : null;
    }
}
