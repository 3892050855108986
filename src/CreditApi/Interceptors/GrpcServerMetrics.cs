using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;

namespace SmartCity.CreditApi.Interceptors;

/// <summary>
/// The metrics hook of the gRPC host: a <see cref="Meter"/> named <see cref="MeterName"/> (from the host's
/// <see cref="IMeterFactory"/>, so OpenTelemetry, prometheus-net or <c>dotnet-counters</c> can subscribe) with a call
/// counter and a duration histogram, both tagged with the method and the gRPC status.
/// </summary>
public sealed class GrpcServerMetrics
{
    public const string MeterName = "SmartCity.CreditApi.Grpc";
    public const string CallsName = "smartcity.rpc.server.calls";
    public const string DurationName = "smartcity.rpc.server.duration";

    private readonly Counter<long> _calls;
    private readonly Histogram<double> _duration;

    public GrpcServerMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _calls = meter.CreateCounter<long>(CallsName, "{call}", "gRPC calls handled, by method and status");
        _duration = meter.CreateHistogram<double>(DurationName, "s", "Time from the call reaching the service to its status");
    }

    public void CallEnded(string method, StatusCode status, TimeSpan duration)
    {
        var tags = new TagList { { "rpc.method", method }, { "rpc.grpc.status_code", status.ToString() } };
        _calls.Add(1, tags);
        _duration.Record(duration.TotalSeconds, tags);
    }
}

/// <summary>Feeds <see cref="GrpcServerMetrics"/> with every call's method, status and duration.</summary>
public sealed class CallMetricsInterceptor(GrpcServerMetrics metrics, TimeProvider time) : ServerCallInterceptor
{
    protected override async Task<T> AroundAsync<T>(ServerCallContext context, Func<Task<T>> handler)
    {
        var started = time.GetTimestamp();
        try
        {
            var result = await handler().ConfigureAwait(false);
            metrics.CallEnded(context.Method, context.Status.StatusCode, time.GetElapsedTime(started));
            return result;
        }
        catch (Exception e)
        {
            metrics.CallEnded(context.Method, StatusOf(e, context), time.GetElapsedTime(started));
            throw;
        }
    }
}
