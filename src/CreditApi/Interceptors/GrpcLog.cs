using Grpc.Core;

namespace SmartCity.CreditApi.Interceptors;

/// <summary>Log events of the gRPC host, ids 2100–2199.</summary>
internal static partial class GrpcLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Debug, Message = "{Method} started (request {RequestId}, peer {Peer})")]
    public static partial void CallStarted(ILogger logger, string method, string? requestId, string peer);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "{Method} OK in {ElapsedMs:0.0} ms (request {RequestId})")]
    public static partial void CallSucceeded(ILogger logger, string method, double elapsedMs, string? requestId);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "{Method} ended {Status} in {ElapsedMs:0.0} ms (request {RequestId}): {Detail}")]
    public static partial void CallEndedWithStatus(ILogger logger, string method, StatusCode status, double elapsedMs, string? requestId, string detail);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Error, Message = "{Method} failed with {Status} in {ElapsedMs:0.0} ms (request {RequestId})")]
    public static partial void CallFailed(ILogger logger, Exception exception, string method, StatusCode status, double elapsedMs, string? requestId);
}
