using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Node;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;

namespace SmartCity.CreditApi.Tests.Grpc;

/// <summary>A node with small server limits whose log is captured: 16 connections, 6 Watch streams (4 per connection), one warning per reason per hour.</summary>
public sealed class LimitedNode : InProcessNode
{
    public const int MaxConnections = 16;
    public const int MaxWatchSubscribers = 6;
    public const int MaxWatchSubscribersPerConnection = 4;

    public CapturingLoggerProvider Logs { get; } = new();

    public TrafficWarnings Warnings => Services.GetRequiredService<TrafficWarnings>();

    protected override void ConfigureServices(IServiceCollection services)
        => services.AddLogging(logging => logging.AddProvider(Logs).AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace));

    protected override void ConfigureLedger(JsonObject config)
        => config["server"] = new JsonObject
        {
            ["maxConnections"] = MaxConnections,
            ["maxWatchSubscribers"] = MaxWatchSubscribers,
            ["maxWatchSubscribersPerConnection"] = MaxWatchSubscribersPerConnection,
            ["idleTimeout"] = "00:00:50",
            ["warningInterval"] = "01:00:00",
        };

    /// <summary>The Warning lines the node wrote with <paramref name="eventId"/>.</summary>
    public IReadOnlyList<CapturingLoggerProvider.Entry> WarningLines(int eventId)
        => Logs.Entries.Where(e => e.EventId == eventId && e.Level == LogLevel.Warning).ToList();
}

/// <summary>A node that closes connections after 2 s without a call.</summary>
public sealed class ShortIdleNode : InProcessNode
{
    protected override void ConfigureLedger(JsonObject config)
        => config["server"] = new JsonObject { ["idleTimeout"] = "00:00:02", ["handshakeTimeout"] = "00:00:02" };
}

/// <summary>The node's server limits against a real Kestrel and Grpc.Net.Client: refusals are immediate and logged once per interval.</summary>
public sealed class NodeLimitsTests(LimitedNode node) : IClassFixture<LimitedNode>
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_watch_stream_beyond_the_per_connection_limit_gets_resource_exhausted_at_once_and_a_freed_slot_is_usable_again()
    {
        using var channel = GrpcChannel.ForAddress(node.Address);
        var client = new NodeService.NodeServiceClient(channel);
        var open = new List<AsyncServerStreamingCall<WatchBlocksResponse>>();
        try
        {
            for (var i = 0; i < LimitedNode.MaxWatchSubscribersPerConnection; i++)
            {
                open.Add(await OpenWatchAsync(client));
            }

            var error = await RefusedAsync(client);

            Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
            Assert.Contains("server.maxWatchSubscribersPerConnection", error.Status.Detail, StringComparison.Ordinal);

            open[0].Dispose();
            open.RemoveAt(0);
            open.Add(await EventuallyOpenAsync(client));
        }
        finally
        {
            open.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_watch_stream_beyond_the_node_limit_gets_resource_exhausted_at_once_on_any_connection()
    {
        var channels = Enumerable.Range(0, 3).Select(_ => GrpcChannel.ForAddress(node.Address)).ToList();
        var open = new List<AsyncServerStreamingCall<WatchBlocksResponse>>();
        try
        {
            var first = new NodeService.NodeServiceClient(channels[0]);
            var second = new NodeService.NodeServiceClient(channels[1]);
            for (var i = 0; i < LimitedNode.MaxWatchSubscribersPerConnection; i++)
            {
                open.Add(await EventuallyOpenAsync(first));
            }

            while (open.Count < LimitedNode.MaxWatchSubscribers)
            {
                open.Add(await EventuallyOpenAsync(second));
            }

            var error = await RefusedAsync(new NodeService.NodeServiceClient(channels[2]));

            Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
            Assert.Contains("server.maxWatchSubscribers)", error.Status.Detail, StringComparison.Ordinal);
        }
        finally
        {
            open.ForEach(c => c.Dispose());
            channels.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_flood_of_refused_watch_streams_writes_one_warning_line_and_counts_the_rest()
    {
        using var channel = GrpcChannel.ForAddress(node.Address);
        var client = new NodeService.NodeServiceClient(channel);
        var open = new List<AsyncServerStreamingCall<WatchBlocksResponse>>();
        try
        {
            for (var i = 0; i < LimitedNode.MaxWatchSubscribersPerConnection; i++)
            {
                open.Add(await EventuallyOpenAsync(client));
            }

            var before = node.Warnings.Count(TrafficReason.WatchLimitPerConnection);
            for (var i = 0; i < 60; i++)
            {
                Assert.Equal(StatusCode.ResourceExhausted, (await RefusedAsync(client)).StatusCode);
            }

            Assert.True(node.Warnings.Count(TrafficReason.WatchLimitPerConnection) - before >= 60);
            var lines = node.WarningLines(3202);
            Assert.Single(lines);
            Assert.Contains("server.maxWatchSubscribersPerConnection", lines[0].Message, StringComparison.Ordinal);
        }
        finally
        {
            open.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_connection_beyond_the_limit_is_closed_at_once_so_the_call_fails_without_waiting_and_is_logged_once()
    {
        var held = new List<TcpClient>();
        try
        {
            // Each held connection has passed the gate once the server's HTTP/2 SETTINGS arrive on it.
            for (var i = 0; i < LimitedNode.MaxConnections && node.Warnings.Count(TrafficReason.ConnectionLimit) == 0; i++)
            {
                var socket = await RawConnection.OpenAsync(node.Address);
                held.Add(socket);
                if (!await RawConnection.ReadsSettingsAsync(socket, Generous))
                {
                    break; // already full: the node's own channel and other tests' connections count too
                }
            }

            for (var i = 0; i < 5; i++)
            {
                using var channel = GrpcChannel.ForAddress(node.Address);
                var error = await Assert.ThrowsAsync<RpcException>(async () => await new NodeService.NodeServiceClient(channel).StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.Add(Generous)));
                // Refused at once, never a wait until the deadline. Grpc.Net.Client reports the closed connection as
                // UNAVAILABLE, or as INTERNAL ("response ended prematurely") when its request was already written.
                Assert.Contains(error.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
            }

            Assert.True(node.Warnings.Count(TrafficReason.ConnectionLimit) >= 5);
            var line = Assert.Single(node.WarningLines(3200));
            Assert.Contains("16 connections are open (server.maxConnections)", line.Message, StringComparison.Ordinal);
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task An_oversized_message_gets_resource_exhausted_and_a_rate_limited_warning()
    {
        var before = node.Warnings.Count(TrafficReason.BadMessage);
        for (var i = 0; i < 3; i++)
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () => await node.Client.SubmitTransactionAsync(
                new SubmitTransactionRequest { Transaction = Google.Protobuf.ByteString.CopyFrom(new byte[InProcessNode.MaxReceiveMessageSize + 1]) },
                deadline: DateTime.UtcNow.Add(Generous)));
            Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        }

        var lines = await node.Logs.WaitForAsync(e => e.EventId == 3203 && e.Level == LogLevel.Warning, 1);
        Assert.Single(lines);
        Assert.Contains("exceeds the maximum configured message size", lines[0].Message, StringComparison.Ordinal);
        Assert.True(node.Warnings.Count(TrafficReason.BadMessage) - before >= 3);
    }

    [Fact]
    public async Task Connections_that_do_not_speak_http2_are_closed_and_logged_once_as_malformed_traffic()
    {
        var before = node.Warnings.Count(TrafficReason.MalformedTraffic);
        for (var i = 0; i < 10; i++)
        {
            using var socket = await RawConnection.OpenAsync(node.Address, preface: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            Assert.True(await RawConnection.ClosedByServerAsync(socket, Generous), "the server kept a connection that sent HTTP/1.1 to an HTTP/2-only port");
        }

        var deadline = DateTime.UtcNow.Add(Generous);
        while (node.Warnings.Count(TrafficReason.MalformedTraffic) - before < 10 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.True(node.Warnings.Count(TrafficReason.MalformedTraffic) - before >= 10, $"{node.Warnings.Count(TrafficReason.MalformedTraffic) - before} of 10 malformed connections were reported");
        Assert.Single(node.WarningLines(3204));
    }

    private static async Task<AsyncServerStreamingCall<WatchBlocksResponse>> OpenWatchAsync(NodeService.NodeServiceClient client)
    {
        // From the genesis: the first block is written at once, so a read proves the stream holds its place.
        var call = client.WatchBlocks(new WatchBlocksRequest { FromHeight = 0 }, deadline: DateTime.UtcNow.AddMinutes(5));
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        return call;
    }

    /// <summary>Opens a stream, retrying while a slot released by a disposed call is still being freed on the server.</summary>
    private static async Task<AsyncServerStreamingCall<WatchBlocksResponse>> EventuallyOpenAsync(NodeService.NodeServiceClient client)
    {
        var deadline = DateTime.UtcNow.Add(Generous);
        while (true)
        {
            try
            {
                return await OpenWatchAsync(client);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>A stream that must be refused; with a deadline, so a silent wait fails as DEADLINE_EXCEEDED.</summary>
    private static async Task<RpcException> RefusedAsync(NodeService.NodeServiceClient client)
    {
        using var call = client.WatchBlocks(new WatchBlocksRequest { FromHeight = 0 }, deadline: DateTime.UtcNow.Add(Generous));
        return await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
    }
}

/// <summary>Idle connections do not stay open: every one is closed within the idle timeout.</summary>
public sealed class IdleConnectionTests(ShortIdleNode node) : IClassFixture<ShortIdleNode>
{
    [Fact]
    public async Task Many_idle_connections_silent_or_after_the_http2_preface_are_all_closed_by_the_node()
    {
        var sockets = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 60; i++)
            {
                sockets.Add(await RawConnection.OpenAsync(node.Address, preface: i % 2 == 0 ? RawConnection.Http2Preface : []));
            }

            // The idle timeout is 2 s; the deadline is generous for a loaded machine, and still far below Kestrel's default 130 s.
            var closed = await Task.WhenAll(sockets.Select(s => RawConnection.ClosedByServerAsync(s, TimeSpan.FromSeconds(60))));

            Assert.All(closed, Assert.True);
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }
}

/// <summary>A TCP connection to the node that speaks HTTP/2 by hand (or not at all).</summary>
internal static class RawConnection
{
    /// <summary>The client connection preface and an empty SETTINGS frame (RFC 9113, 3.4).</summary>
    public static readonly byte[] Http2Preface = [.. Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 0, 0, 0, 4, 0, 0, 0, 0, 0];

    public static async Task<TcpClient> OpenAsync(Uri address, byte[]? preface = null)
    {
        var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        preface ??= Http2Preface;
        if (preface.Length > 0)
        {
            await client.GetStream().WriteAsync(preface);
        }

        return client;
    }

    /// <summary>Whether the server's first frame (a SETTINGS frame, type 4) arrives; false when the server closes instead.</summary>
    public static async Task<bool> ReadsSettingsAsync(TcpClient client, TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        var header = new byte[9];
        try
        {
            await client.GetStream().ReadExactlyAsync(header, limit.Token);
            return header[3] == 4;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            return false;
        }
    }

    /// <summary>Reads until the server closes the connection (true) or the time is up (false).</summary>
    public static async Task<bool> ClosedByServerAsync(TcpClient client, TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            while (await client.GetStream().ReadAsync(buffer, limit.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true; // reset by the server
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
