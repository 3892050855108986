using Grpc.Core;
using SmartCity.Contracts.Audit.V1;
using SmartCity.CreditApi.Client;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// AuditService.StreamBlocks over real HTTP/2 for a regulator: a closed range ends after its last block, an open one
/// follows new blocks live, a stream resumed from the last height received + 1 continues without a gap or a repeat,
/// a cancelled stream ends with CANCELLED, and a bad range is INVALID_ARGUMENT before anything is sent.
/// </summary>
public sealed class StreamBlocksTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly ApiNode _api = new();

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    private async Task CommitBlocksAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await _api.PenaliseAsync($"record {Guid.NewGuid()}");
        }
    }

    private CreditApiClient Regulator() => _api.Client(ApiNode.Regulator, "SUPERVISION");

    private async Task AssertIsTheCommittedBlockAsync(StreamBlocksResponse message)
    {
        var block = await _api.Ledger.Node.GetBlockEventAsync(message.Height, CancellationToken.None);
        Assert.Equal(block.Header.Hash.ToString(), message.HeaderHash);
        Assert.Equal(block.Header.Encode(), message.Header.ToByteArray());
        Assert.Equal(block.Certificate.Encode(), message.Certificate.ToByteArray());
        Assert.Equal(block.TransactionIds.Select(id => id.ToString()), message.TransactionIds);
    }

    [Fact]
    public async Task A_closed_range_streams_exactly_its_certified_blocks_with_their_transactions_and_ends()
    {
        await CommitBlocksAsync(4);
        using var deadline = new CancellationTokenSource(Patience);

        using var call = Regulator().Audit.StreamBlocks(new StreamBlocksRequest { FromHeight = 1, ToHeight = 3 }, cancellationToken: deadline.Token);
        var messages = await call.ResponseStream.ReadAllAsync(deadline.Token).ToListAsync(deadline.Token);

        Assert.Equal([1L, 2L, 3L], messages.Select(m => m.Height));
        foreach (var message in messages)
        {
            Assert.Single(message.TransactionIds);
            await AssertIsTheCommittedBlockAsync(message);
        }

        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task A_stream_resumed_from_the_last_height_received_plus_one_continues_without_a_gap_or_a_repeat()
    {
        await CommitBlocksAsync(5);
        var regulator = Regulator();
        var received = new List<long>();
        using (var first = new CancellationTokenSource(Patience))
        {
            using var call = regulator.Audit.StreamBlocks(new StreamBlocksRequest { FromHeight = 0 }, cancellationToken: first.Token);
            while (received.Count < 3 && await call.ResponseStream.MoveNext(first.Token))
            {
                received.Add(call.ResponseStream.Current.Height);
            }

            // The client drops the stream after three blocks (a lost connection, a restart).
        }

        using var deadline = new CancellationTokenSource(Patience);
        using var resumed = regulator.Audit.StreamBlocks(new StreamBlocksRequest { FromHeight = received[^1] + 1, ToHeight = 5 }, cancellationToken: deadline.Token);
        await foreach (var message in resumed.ResponseStream.ReadAllAsync(deadline.Token))
        {
            await AssertIsTheCommittedBlockAsync(message);
            received.Add(message.Height);
        }

        Assert.Equal([0L, 1L, 2L, 3L, 4L, 5L], received);
    }

    [Fact]
    public async Task An_open_stream_follows_blocks_committed_after_it_started()
    {
        await CommitBlocksAsync(1);
        using var deadline = new CancellationTokenSource(Patience);
        using var call = Regulator().Audit.StreamBlocks(new StreamBlocksRequest { FromHeight = 1 }, cancellationToken: deadline.Token);
        Assert.True(await call.ResponseStream.MoveNext(deadline.Token));
        Assert.Equal(1L, call.ResponseStream.Current.Height);

        // The stream has caught up with the head; the next blocks are committed while it waits.
        var pending = call.ResponseStream.MoveNext(deadline.Token);
        await CommitBlocksAsync(2);

        Assert.True(await pending);
        Assert.Equal(2L, call.ResponseStream.Current.Height);
        await AssertIsTheCommittedBlockAsync(call.ResponseStream.Current);
        Assert.True(await call.ResponseStream.MoveNext(deadline.Token));
        Assert.Equal(3L, call.ResponseStream.Current.Height);
    }

    [Fact]
    public async Task A_stream_the_client_cancels_ends_with_cancelled_and_the_node_keeps_serving()
    {
        await CommitBlocksAsync(1);
        var regulator = Regulator();
        using var cancel = new CancellationTokenSource();
        using var call = regulator.Audit.StreamBlocks(new StreamBlocksRequest { FromHeight = 1 }, cancellationToken: cancel.Token);
        using var deadline = new CancellationTokenSource(Patience);
        Assert.True(await call.ResponseStream.MoveNext(deadline.Token));

        var waiting = call.ResponseStream.MoveNext(CancellationToken.None);
        await cancel.CancelAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => waiting);

        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        await CommitBlocksAsync(1);
        using var after = regulator.Audit.StreamBlocks(new StreamBlocksRequest { FromHeight = 2, ToHeight = 2 }, cancellationToken: deadline.Token);
        Assert.Equal([2L], await after.ResponseStream.ReadAllAsync(deadline.Token).Select(m => m.Height).ToListAsync(deadline.Token));
    }

    [Fact]
    public async Task A_bad_range_is_invalid_argument_naming_the_field_before_any_block_is_sent()
    {
        await CommitBlocksAsync(2);
        var regulator = Regulator();
        using var deadline = new CancellationTokenSource(Patience);

        async Task<RpcException> RefusedAsync(StreamBlocksRequest request)
        {
            using var call = regulator.Audit.StreamBlocks(request, cancellationToken: deadline.Token);
            return await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(deadline.Token));
        }

        var negative = await RefusedAsync(new StreamBlocksRequest { FromHeight = -1 });
        var backwards = await RefusedAsync(new StreamBlocksRequest { FromHeight = 2, ToHeight = 1 });
        var negativeEnd = await RefusedAsync(new StreamBlocksRequest { FromHeight = 0, ToHeight = -5 });

        Assert.Equal((StatusCode.InvalidArgument, "from_height"), (negative.StatusCode, Assert.Single(negative.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>()!.FieldViolations).Field));
        Assert.Equal((StatusCode.InvalidArgument, "to_height"), (backwards.StatusCode, Assert.Single(backwards.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>()!.FieldViolations).Field));
        Assert.Equal((StatusCode.InvalidArgument, "to_height"), (negativeEnd.StatusCode, Assert.Single(negativeEnd.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>()!.FieldViolations).Field));
    }
}
