using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Interceptors;
using SmartCity.CreditApi.Node;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;

namespace SmartCity.CreditApi.Tests.Grpc;

/// <summary>A node whose log events are captured, to check what the interceptors write.</summary>
public sealed class ObservedNode : InProcessNode
{
    public CapturingLoggerProvider Logs { get; } = new();

    protected override void ConfigureServices(IServiceCollection services)
        => services.AddLogging(logging => logging.AddProvider(Logs).AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace));
}

/// <summary>Request id, logging and metrics interceptors, on every call.</summary>
public sealed partial class InterceptorTests(ObservedNode node) : IClassFixture<ObservedNode>
{
    [Fact]
    public async Task A_call_without_a_request_id_gets_a_fresh_one_in_its_response_headers()
    {
        using var call = node.Client.StatusAsync(new StatusRequest());
        await call;

        Assert.Matches("^[0-9a-f]{32}$", (await call.ResponseHeadersAsync).GetValue(RequestIdInterceptor.Header));
    }

    [Theory]
    [InlineData("has spaces")]
    [InlineData("semi;colon")]
    public async Task A_request_id_that_is_not_a_plain_token_is_replaced_by_a_fresh_one(string given)
    {
        using var call = node.Client.StatusAsync(new StatusRequest(), new Metadata { { RequestIdInterceptor.Header, given } });
        await call;

        Assert.Matches("^[0-9a-f]{32}$", (await call.ResponseHeadersAsync).GetValue(RequestIdInterceptor.Header));
    }

    [Fact]
    public async Task A_failing_call_carries_its_request_id_too()
    {
        using var call = node.Client.Watch(new WatchRequest { IntervalMs = 0 }, new Metadata { { RequestIdInterceptor.Header, "failing-7" } });

        var error = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("failing-7", (await call.ResponseHeadersAsync).GetValue(RequestIdInterceptor.Header));
    }

    [Fact]
    public async Task Every_call_is_logged_with_its_event_id_method_and_request_id()
    {
        var id = $"log-{Guid.NewGuid():N}";

        await node.Client.StatusAsync(new StatusRequest(), new Metadata { { RequestIdInterceptor.Header, id } });

        var events = await node.Logs.WaitForAsync(e => e.Message.Contains(id, StringComparison.Ordinal), 2);
        Assert.Equal([2100, 2101], events.Select(e => e.EventId).Order());
        Assert.All(events, e => Assert.Contains("/smartcity.node.v1.NodeService/Status", e.Message, StringComparison.Ordinal));
        Assert.All(events, e => Assert.Equal(LogLevel.Debug, e.Level));
    }

    [Fact]
    public async Task A_call_that_ends_with_an_error_status_is_logged_at_information_with_the_status()
    {
        var id = $"bad-{Guid.NewGuid():N}";
        using var call = node.Client.Watch(new WatchRequest { IntervalMs = 0 }, new Metadata { { RequestIdInterceptor.Header, id } });
        await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext(CancellationToken.None));

        var ended = (await node.Logs.WaitForAsync(e => e.EventId == 2102 && e.Message.Contains(id, StringComparison.Ordinal), 1)).Single();

        Assert.Equal(LogLevel.Information, ended.Level);
        Assert.Contains("ended InvalidArgument", ended.Message, StringComparison.Ordinal);
        Assert.Contains("interval_ms must be between 1 and 60000, got 0", ended.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_call_is_counted_and_timed_by_method_and_status_on_the_metrics_hook()
    {
        var factory = node.Services.GetRequiredService<IMeterFactory>();
        var measurements = new ConcurrentQueue<(string Instrument, string? Method, string? Status)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GrpcServerMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        {
            string? method = null, status = null;
            foreach (var tag in tags)
            {
                method = tag.Key == "rpc.method" ? tag.Value as string : method;
                status = tag.Key == "rpc.grpc.status_code" ? tag.Value as string : status;
            }

            measurements.Enqueue((instrument.Name, method, status));
        }

        listener.SetMeasurementEventCallback<long>(Record);
        listener.SetMeasurementEventCallback<double>(Record);
        listener.Start();

        await node.Client.StatusAsync(new StatusRequest());
        using var call = node.Client.Watch(new WatchRequest { IntervalMs = 0 });
        await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Contains((GrpcServerMetrics.CallsName, "/smartcity.node.v1.NodeService/Status", "OK"), measurements);
        Assert.Contains((GrpcServerMetrics.DurationName, "/smartcity.node.v1.NodeService/Status", "OK"), measurements);
        Assert.Contains((GrpcServerMetrics.CallsName, "/smartcity.node.v1.NodeService/Watch", "InvalidArgument"), measurements);
    }

    [Fact]
    public async Task The_standard_health_service_answers_not_serving_until_every_readiness_condition_is_met()
    {
        var health = new global::Grpc.Health.V1.Health.HealthClient(node.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);

        // The node runtime met store-open when the host started; it is no longer met (as after a store fault).
        node.Readiness.NotReady(NodeReadiness.StoreOpen, "opening the store");
        try
        {
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest())).Status);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest { Service = NodeService.Descriptor.FullName })).Status);
            Assert.Equal(["store-open (opening the store)"], node.Readiness.Waiting());
        }
        finally
        {
            node.Readiness.Ready(NodeReadiness.StoreOpen);
        }

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
    }
}

/// <summary>Keeps every log event a host writes, for tests to look for.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public sealed record Entry(string Category, LogLevel Level, int EventId, string Message);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public async Task<IReadOnlyList<Entry>> WaitForAsync(Func<Entry, bool> match, int count)
    {
        var giveUp = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var found = _entries.Where(match).ToList();
            if (found.Count >= count || DateTime.UtcNow > giveUp)
            {
                return found;
            }

            await Task.Delay(20);
        }
    }

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => entries.Enqueue(new Entry(category, logLevel, eventId.Id, formatter(state, exception)));
    }
}
