using Microsoft.Extensions.Logging;

namespace SmartCity.Grpc.Server;

/// <summary>Server log events, ids 2100-2199 (the gRPC layer's range).</summary>
internal static partial class GrpcServerLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Error, Message = "gRPC method {Method} threw an unexpected exception")]
    public static partial void HandlerFailed(ILogger logger, string method, Exception exception);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "gRPC call {Method} ended with {StatusCode}: {Detail}")]
    public static partial void CallFailed(ILogger logger, string method, StatusCode statusCode, string detail);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Debug, Message = "gRPC call {Method} exceeded its deadline")]
    public static partial void DeadlineExceeded(ILogger logger, string method);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Debug, Message = "gRPC call {Method} was cancelled by the client")]
    public static partial void CancelledByClient(ILogger logger, string method);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Debug, Message = "Ignoring malformed grpc-timeout header '{Value}'")]
    public static partial void InvalidTimeout(ILogger logger, string value);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Debug, Message = "Rejected gRPC request to {Path}: {StatusCode} {Detail}")]
    public static partial void RequestRejected(ILogger logger, string path, StatusCode statusCode, string detail);
}
