using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Interceptors;
using SmartCity.CreditApi.Services;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;
using Ending = SmartCity.Contracts.Node.V1.WatchOutcome.Types.Ending;

namespace SmartCity.CreditApi.Tests.Grpc;

/// <summary>Grpc.Net.Client against a real in-process node on Grpc.AspNetCore.</summary>
public sealed class NodeServiceTests(InProcessNode node) : IClassFixture<InProcessNode>
{
    private NodeService.NodeServiceClient Client => node.Client;

    [Fact]
    public async Task Health_answers_serving()
    {
        var response = await Client.HealthAsync(new HealthRequest());

        Assert.Equal(HealthResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Status_answers_with_the_node_identity_and_its_metadata_and_echoes_the_request_metadata()
    {
        var headers = new Metadata { { "x-request-id", "req-42" }, { "x-trace-bin", new byte[] { 0, 1, 0xFE, 0xFF } } };

        using var call = Client.StatusAsync(new StatusRequest { Echo = "hello" }, new CallOptions(headers, DateTime.UtcNow.AddSeconds(10)));
        var response = await call;
        var responseHeaders = await call.ResponseHeadersAsync;

        Assert.Equal(("TJ", "tj-test", "hello", "0.1.0"), (response.Region, response.NodeId, response.Echo, response.Version));
        Assert.True(response.UptimeMs >= 0);
        Assert.Equal("TJ", responseHeaders.GetValue(NodeServiceImpl.RegionHeader));
        Assert.Equal("req-42", responseHeaders.GetValue(RequestIdInterceptor.Header));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal("tj-test", call.GetTrailers().GetValue(NodeServiceImpl.NodeIdTrailer));
        Assert.Equal([0, 1, 0xFE, 0xFF], call.GetTrailers().GetValueBytes(NodeServiceImpl.TraceKey));
    }

    [Fact]
    public async Task Deadline_that_expires_ends_the_call_with_deadline_exceeded_and_cancels_the_server_token()
    {
        var watchId = WatchJournalProbe.NewWatchId("cs-deadline");
        await Client.HealthAsync(new HealthRequest()); // connected, so the deadline is spent on the stream
        // 2 s leaves room for the first heartbeat on a machine loaded by parallel test runs; it ends long before Watch would.
        using var call = Client.Watch(new WatchRequest { IntervalMs = 50, WatchId = watchId }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(2)));
        var received = 0;

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in call.ResponseStream.ReadAllAsync())
            {
                received++;
            }
        });

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.InRange(received, 1, 60);
        WatchJournalProbe.AssertCutShortByTheClientOrTheDeadline(await WatchJournalProbe.WaitForOutcomeAsync(Client, watchId));
    }

    [Fact]
    public async Task Deadline_already_past_fails_without_reaching_the_server()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Client.HealthAsync(new HealthRequest(), new CallOptions(deadline: DateTime.UtcNow.AddSeconds(-1))));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
    }

    [Fact]
    public async Task Oversized_request_is_rejected_by_the_server_with_resource_exhausted()
    {
        var echo = new string('x', InProcessNode.MaxReceiveMessageSize);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await Client.StatusAsync(new StatusRequest { Echo = echo }));

        Assert.Equal(new Status(StatusCode.ResourceExhausted, "Received message exceeds the maximum configured message size."), error.Status);
    }

    [Fact]
    public async Task A_request_just_under_the_limit_is_served()
    {
        var echo = new string('x', InProcessNode.MaxReceiveMessageSize - 8);

        var response = await Client.StatusAsync(new StatusRequest { Echo = echo });

        Assert.Equal(echo.Length, response.Echo.Length);
    }

    [Fact]
    public async Task Oversized_response_is_rejected_by_the_client_receive_limit()
    {
        using var channel = GrpcChannel.ForAddress(node.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 100 });
        var client = new NodeService.NodeServiceClient(channel);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.StatusAsync(new StatusRequest { Echo = new string('y', 500) }));

        Assert.Equal(new Status(StatusCode.ResourceExhausted, "Received message exceeds the maximum configured message size."), error.Status);
    }

    [Fact]
    public async Task Oversized_request_is_refused_by_the_client_send_limit_before_sending()
    {
        using var channel = GrpcChannel.ForAddress(node.Address, new GrpcChannelOptions { MaxSendMessageSize = 10 });
        var client = new NodeService.NodeServiceClient(channel);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.StatusAsync(new StatusRequest { Echo = "more than ten bytes" }));

        Assert.Equal(new Status(StatusCode.ResourceExhausted, "Sending message exceeds the maximum configured message size."), error.Status);
    }

    [Fact]
    public async Task Unknown_method_answers_unimplemented()
    {
        var missing = new Method<StatusRequest, StatusResponse>(MethodType.Unary, NodeService.Descriptor.FullName, "Missing", Marshallers.Create(r => r.ToByteArray(), StatusRequest.Parser.ParseFrom), Marshallers.Create(r => r.ToByteArray(), StatusResponse.Parser.ParseFrom));

        var error = await Assert.ThrowsAsync<RpcException>(async () => await node.Channel.CreateCallInvoker().AsyncUnaryCall(missing, null, new CallOptions(), new StatusRequest()));

        Assert.Equal(new Status(StatusCode.Unimplemented, "Method is unimplemented."), error.Status);
    }

    [Fact]
    public async Task Unknown_service_answers_unimplemented()
    {
        var missing = new Method<StatusRequest, StatusResponse>(MethodType.Unary, "smartcity.nowhere.v1.Nothing", "Status", Marshallers.Create(r => r.ToByteArray(), StatusRequest.Parser.ParseFrom), Marshallers.Create(r => r.ToByteArray(), StatusResponse.Parser.ParseFrom));

        var error = await Assert.ThrowsAsync<RpcException>(async () => await node.Channel.CreateCallInvoker().AsyncUnaryCall(missing, null, new CallOptions(), new StatusRequest()));

        Assert.Equal(new Status(StatusCode.Unimplemented, "Service is unimplemented."), error.Status);
    }

    [Fact]
    public async Task Watch_streams_the_requested_heartbeats_and_ends_with_ok()
    {
        using var call = Client.Watch(new WatchRequest { IntervalMs = 1, Count = 5 });

        var sequences = new List<long>();
        await foreach (var heartbeat in call.ResponseStream.ReadAllAsync())
        {
            sequences.Add(heartbeat.Sequence);
        }

        Assert.Equal([1, 2, 3, 4, 5], sequences);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Watch_cancelled_midway_by_the_client_is_observed_by_the_server()
    {
        var watchId = WatchJournalProbe.NewWatchId("cs-cancel");
        using var cancellation = new CancellationTokenSource();
        using var call = Client.Watch(new WatchRequest { IntervalMs = 20, WatchId = watchId }, new CallOptions(cancellationToken: cancellation.Token));
        var received = 0;

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in call.ResponseStream.ReadAllAsync())
            {
                if (++received == 3)
                {
                    await cancellation.CancelAsync();
                }
            }
        });

        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        Assert.Equal(3, received);
        var outcome = await WatchJournalProbe.WaitForOutcomeAsync(Client, watchId);
        Assert.Equal(Ending.Cancelled, outcome.Ending);
        Assert.InRange(outcome.HeartbeatsSent, 3, 10);
    }

    [Fact]
    public async Task Invalid_watch_request_answers_invalid_argument()
    {
        using var call = Client.Watch(new WatchRequest { IntervalMs = 0 });

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in call.ResponseStream.ReadAllAsync())
            {
            }
        });

        Assert.Equal(new Status(StatusCode.InvalidArgument, "interval_ms must be between 1 and 60000, got 0"), error.Status);
        Assert.Equal(StatusCode.InvalidArgument, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Many_concurrent_calls_on_one_channel_all_answer()
    {
        var calls = Enumerable.Range(0, 200).Select(async i => (await Client.StatusAsync(new StatusRequest { Echo = $"call {i}" })).Echo);

        var echoes = await Task.WhenAll(calls);

        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"call {i}"), echoes);
    }

    [Fact]
    public async Task Unreachable_server_answers_unavailable()
    {
        using var channel = GrpcChannel.ForAddress("http://127.0.0.1:1");
        var client = new NodeService.NodeServiceClient(channel);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.HealthAsync(new HealthRequest()));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }
}

/// <summary>The server's send limit, on a node configured with a small one.</summary>
public sealed class ServerSendLimitTests(SmallSendLimitNode node) : IClassFixture<SmallSendLimitNode>
{
    [Fact]
    public async Task Oversized_response_is_refused_by_the_server_with_resource_exhausted()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await node.Client.StatusAsync(new StatusRequest { Echo = new string('z', 2000) }));

        Assert.Equal(new Status(StatusCode.ResourceExhausted, "Sending message exceeds the maximum configured message size."), error.Status);
    }
}
