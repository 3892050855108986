using SmartCity.Contracts.Node.V1;
using SmartCity.Grpc.Client;
using SmartCity.Grpc.Tests.Infrastructure;

namespace SmartCity.Grpc.Tests;

/// <summary>What the server makes of exceptions and what a method sees of its call.</summary>
public sealed class ServerBehaviourTests(ProbeServer server) : IClassFixture<ProbeServer>
{
    [Fact]
    public async Task Unexpected_exception_answers_unknown_without_leaking_its_message()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await server.Channel.CallUnaryAsync(ProbeService.Crash, new StatusRequest()));

        Assert.Equal(StatusCode.Unknown, error.StatusCode);
        Assert.Equal("Exception was thrown by handler.", error.Status.Detail);
    }

    [Fact]
    public async Task Rpc_exception_answers_its_status_with_its_trailers_and_a_non_ascii_message_intact()
    {
        using var call = server.Channel.CallUnaryAsync(ProbeService.Reject, new StatusRequest { Echo = "registre fermé — 北京 100%" });

        var error = await Assert.ThrowsAsync<RpcException>(async () => await call);

        Assert.Equal(new Status(StatusCode.FailedPrecondition, "registre fermé — 北京 100%"), error.Status);
        Assert.Equal("closed", error.Trailers.GetValue("x-reason"));
        Assert.Equal([7, 7], error.Trailers.GetValueBytes("x-detail-bin"));
        Assert.Equal(error.Status, call.GetStatus());
    }

    [Fact]
    public async Task Method_sees_its_name_the_peer_the_request_metadata_and_the_deadline()
    {
        var options = new CallOptions(new Metadata().Add("x-probe", "seen"), DateTime.UtcNow.AddSeconds(30));

        var response = await server.Channel.CallUnaryAsync(ProbeService.Context, new StatusRequest(), options);

        Assert.Matches(@"^/smartcity\.test\.v1\.ProbeService/Context ipv4:127\.0\.0\.1:\d+ seen$", response.Echo);
        Assert.InRange(response.UptimeMs, 20_000, 30_000);
    }

    [Fact]
    public async Task Method_without_a_deadline_sees_none()
    {
        var response = await server.Channel.CallUnaryAsync(ProbeService.Context, new StatusRequest());

        Assert.Equal(-1, response.UptimeMs);
    }

    [Fact]
    public async Task Exception_after_the_first_message_ends_the_stream_with_unknown_in_the_trailers()
    {
        using var call = server.Channel.CallServerStreaming(ProbeService.CrashMidStream, new WatchRequest());
        var received = new List<long>();

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var heartbeat in call.ResponseStream)
            {
                received.Add(heartbeat.Sequence);
            }
        });

        Assert.Equal([1], received);
        Assert.Equal(StatusCode.Unknown, error.StatusCode);
    }
}
