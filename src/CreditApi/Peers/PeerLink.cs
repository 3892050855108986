using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using SmartCity.Contracts.Peer.V1;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Node.Consensus;
using CertifiedBlock = SmartCity.Ledger.Node.Consensus.CertifiedBlock;

namespace SmartCity.CreditApi.Peers;

/// <summary>
/// This validator's link to one peer: dials it (gRPC <c>PeerService.Exchange</c>), proves who it is and checks who
/// answers (<see cref="PeerHandshakes"/>), then sends what is queued — consensus messages and relayed transactions in
/// batches, block requests — and reads the answers to its block requests. A bounded queue holds what waits to be sent;
/// while the link is down, or when the queue is full, frames are dropped and counted (QBFT makes up for lost
/// messages with round changes). A broken link is dialed again after a delay that doubles up to a cap.
/// </summary>
public sealed partial class PeerLink
{
    private readonly PeerNetwork _network;
    private readonly Channel<Outgoing> _queue;
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<BlocksResponse>> _pending = new();
    private readonly ILogger _logger;
    private long _dropped;
    private long _nextRequest;
    private long _announcedHead = -1; // the head height this link last told its peer
    private volatile bool _connected;

    internal PeerLink(PeerNetwork network, PeerEndpoint peer)
    {
        _network = network;
        Peer = peer;
        _logger = network.Loggers.CreateLogger("SmartCity.CreditApi.Peers");
        _queue = Channel.CreateBounded<Outgoing>(
            new BoundedChannelOptions(network.Options.SendQueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    public PeerEndpoint Peer { get; }

    /// <summary>Whether the handshake completed and the link is up.</summary>
    public bool IsConnected => _connected;

    /// <summary>Frames dropped: queued while the link was down, or pushed out of a full queue.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Handshakes completed (1 + reconnections).</summary>
    public int Connections { get; private set; }

    internal void EnqueueConsensus(ReadOnlyMemory<byte> message) => Enqueue(new Outgoing(message, null, null));

    internal void EnqueueTransactions(IReadOnlyList<ReadOnlyMemory<byte>> transactions) => Enqueue(new Outgoing(default, transactions, null));

    private void Enqueue(Outgoing frame)
    {
        if (!_connected)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        _queue.Writer.TryWrite(frame); // DropOldest: always succeeds; an item pushed out is counted by the callback
    }

    /// <summary>Consecutive certified blocks from <paramref name="from"/>, or null when the link is down or the answer is late or malformed.</summary>
    internal async Task<IReadOnlyList<CertifiedBlock>?> RequestBlocksAsync(long from, int max, CancellationToken cancellationToken)
    {
        if (!_connected)
        {
            return null;
        }

        var id = (ulong)Interlocked.Increment(ref _nextRequest);
        var answer = new TaskCompletionSource<BlocksResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        try
        {
            if (!_queue.Writer.TryWrite(new Outgoing(default, null, new BlocksRequest { RequestId = id, FromHeight = from, MaxBlocks = max })))
            {
                return null;
            }

            BlocksResponse response;
            try
            {
                response = await answer.Task.WaitAsync(_network.Options.RequestTimeout, _network.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return null;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return null; // the link went down meanwhile
            }

            _network.ReportHead(Peer.Validator, response.HeadHeight);
            var blocks = new List<CertifiedBlock>(response.Blocks.Count);
            foreach (var block in response.Blocks.Take(max))
            {
                if (!BlockHeader.TryDecode(block.Header.Span, out var header, out _)
                    || !CommitCertificate.TryDecode(block.Certificate.Span, out var certificate, out _)
                    || header!.Height != from + blocks.Count)
                {
                    break; // the rest is unusable; what decoded so far is still checked by the node before use
                }

                blocks.Add(new CertifiedBlock(new BlockProposal(header, [.. block.Transactions.Select(t => t.Memory)]), certificate!));
            }

            return blocks;
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    internal async Task RunAsync(CancellationToken cancellationToken)
    {
        var options = _network.Options;
        var delay = options.ReconnectDelay;
        using var channel = GrpcChannel.ForAddress(Peer.Address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                ConnectTimeout = options.RequestTimeout,
                KeepAlivePingDelay = TimeSpan.FromSeconds(10),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            },
            MaxReceiveMessageSize = 64 << 20,
            MaxSendMessageSize = 64 << 20,
        });
        var client = new PeerService.PeerServiceClient(channel);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!_network.IsValidator(Peer.Validator))
            {
                // Not (or no longer) in the set in force at this node's head: not dialed until it is (docs/consensus.md).
                try
                {
                    await Task.Delay(PeerNetwork.MembershipCheck, _network.Time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            try
            {
                if (await RunOnceAsync(client, cancellationToken).ConfigureAwait(false))
                {
                    delay = options.ReconnectDelay; // it was up: the next attempt starts from the shortest delay
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is RpcException or IOException or HttpRequestException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
            {
                LogLinkDown(_logger, Peer.Region, Peer.Address, OneLine(e), delay.TotalMilliseconds);
            }
            finally
            {
                Down();
            }

            try
            {
                await Task.Delay(delay, _network.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxReconnectDelay.Ticks));
        }
    }

    /// <summary>One connection: handshake, then send and receive until it breaks. True when the handshake completed.</summary>
    private async Task<bool> RunOnceAsync(PeerService.PeerServiceClient client, CancellationToken cancellationToken)
    {
        var node = _network.Node ?? throw new InvalidOperationException("the peer network has not started");
        using var call = client.Exchange(cancellationToken: cancellationToken);
        var dialerNonce = PeerHandshakes.NewNonce();
        await call.RequestStream.WriteAsync(new ExchangeRequest
        {
            Hello = new Hello
            {
                ChainId = _network.ChainId,
                GenesisHash = ByteString.CopyFrom(_network.GenesisHash.Bytes),
                Dialer = ByteString.CopyFrom(_network.Self.Bytes),
                Listener = ByteString.CopyFrom(Peer.Validator.Bytes),
                DialerNonce = ByteString.CopyFrom(dialerNonce.Bytes),
                HeadHeight = node.Head.Height,
            },
        }, cancellationToken).ConfigureAwait(false);

        using (var step = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            step.CancelAfter(_network.Options.RequestTimeout);
            if (!await call.ResponseStream.MoveNext(step.Token).ConfigureAwait(false) || call.ResponseStream.Current.FrameCase != ExchangeResponse.FrameOneofCase.Challenge)
            {
                throw new InvalidOperationException("the peer ended the link before its challenge");
            }
        }

        var challenge = call.ResponseStream.Current.Challenge;
        if (!PeerHandshakes.TryReadHash(challenge.ListenerNonce, out var listenerNonce) || listenerNonce == dialerNonce)
        {
            throw new InvalidOperationException("the peer's challenge has no fresh 32-byte nonce");
        }

        var theirs = new PeerHandshake(_network.GenesisHash, _network.Self, Peer.Validator, dialerNonce, listenerNonce, FromDialer: false);
        if (!_network.Handshakes.Verify(theirs, challenge.Signature))
        {
            throw new InvalidOperationException($"the peer at {Peer.Address} did not prove it is validator {Peer.Validator} of this chain");
        }

        var ours = theirs with { FromDialer = true };
        await call.RequestStream.WriteAsync(new ExchangeRequest { Proof = new HandshakeProof { Signature = ByteString.CopyFrom(_network.Handshakes.Sign(ours).Bytes) } }, cancellationToken).ConfigureAwait(false);
        _network.ReportHead(Peer.Validator, challenge.HeadHeight, handshake: true);

        // Frames queued before this moment were stale or dropped: start from an empty queue.
        while (_queue.Reader.TryRead(out _))
        {
        }

        _connected = true;
        Connections++;
        Interlocked.Exchange(ref _announcedHead, node.Head.Height); // the hello told it
        LogLinkUp(_logger, Peer.Region, Peer.Validator, Peer.Address);
        using var linkStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var membership = _network.WatchMembership(Peer.Validator, linkStop); // closed once the peer is voted out
        var receive = ReceiveAsync(call.ResponseStream, linkStop.Token);
        var send = SendAsync(node, call.RequestStream, linkStop.Token);
        var announce = AnnounceHeadAsync(node, linkStop.Token);
        var ended = await Task.WhenAny(receive, send).ConfigureAwait(false);
        _connected = false;
        await linkStop.CancelAsync().ConfigureAwait(false);
        await announce.ConfigureAwait(false);
        try
        {
            await Task.WhenAll(receive, send).ConfigureAwait(false);
        }
        catch (Exception) when (ended.IsFaulted)
        {
            await ended.ConfigureAwait(false); // report the first failure
        }
        catch (OperationCanceledException)
        {
        }

        return true;
    }

    private async Task ReceiveAsync(IAsyncStreamReader<ExchangeResponse> responses, CancellationToken cancellationToken)
    {
        while (await responses.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            if (responses.Current.FrameCase == ExchangeResponse.FrameOneofCase.Blocks)
            {
                var blocks = responses.Current.Blocks;
                if (_pending.TryGetValue(blocks.RequestId, out var waiter))
                {
                    waiter.TrySetResult(blocks);
                }
            }
        }

        throw new IOException("the peer ended the link");
    }

    /// <summary>
    /// While the link is up: once the head moved past what the peer was last told and nothing else went out meanwhile
    /// (every batch carries the head), queues a batch that carries only the head. Without it a validator that missed
    /// the last block of an idle chain would hear no more votes and never learn that it is behind.
    /// </summary>
    private async Task AnnounceHeadAsync(Ledger.Node.LedgerNode node, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_network.Options.HeadAnnounceInterval, _network.Time, cancellationToken).ConfigureAwait(false);
                if (node.Head.Height != Interlocked.Read(ref _announcedHead))
                {
                    Enqueue(Outgoing.Head);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the link is down
        }
    }

    private async Task SendAsync(Ledger.Node.LedgerNode node, IClientStreamWriter<ExchangeRequest> requests, CancellationToken cancellationToken)
    {
        var maxBytes = _network.Options.MaxBatchBytes;
        var linger = _network.Options.TransactionLinger;
        while (await _queue.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            // Transactions at the head of the queue wait a moment for more, so one frame carries many (each frame costs
            // a write and a flush here, a parse and a trip through admission on the peer); what is queued behind them
            // (a vote, a block request) waits at most that moment too.
            if (linger > TimeSpan.Zero && _queue.Reader.TryPeek(out var head) && head.Transactions is not null)
            {
                await Task.Delay(linger, cancellationToken).ConfigureAwait(false); // the real clock: batching, not a protocol timer
            }

            Batch? batch = null;
            var bytes = 0;
            while (bytes < maxBytes && _queue.Reader.TryPeek(out var next))
            {
                if (next.Request is { } request)
                {
                    if (batch is not null)
                    {
                        break; // send what is batched first, in order
                    }

                    _queue.Reader.TryRead(out _);
                    await requests.WriteAsync(new ExchangeRequest { BlocksRequest = request }, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                _queue.Reader.TryRead(out _);
                batch ??= new Batch();
                if (ReferenceEquals(next, Outgoing.Head))
                {
                    continue; // the batch carries the head anyway
                }

                if (next.Transactions is { } transactions)
                {
                    foreach (var tx in transactions)
                    {
                        batch.Transactions.Add(UnsafeByteOperations.UnsafeWrap(tx));
                        bytes += tx.Length + 4;
                    }
                }
                else
                {
                    batch.Consensus.Add(UnsafeByteOperations.UnsafeWrap(next.Consensus));
                    bytes += next.Consensus.Length + 4;
                }
            }

            if (batch is not null)
            {
                var announced = node.Head.Height;
                batch.HeadHeight = announced;
                await requests.WriteAsync(new ExchangeRequest { Batch = batch }, cancellationToken).ConfigureAwait(false);
                Interlocked.Exchange(ref _announcedHead, announced);
            }
        }
    }

    private void Down()
    {
        _connected = false;
        foreach (var waiter in _pending.Values)
        {
            waiter.TrySetCanceled(CancellationToken.None);
        }
    }

    private static string OneLine(Exception e) => (e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message).ReplaceLineEndings(" ");

    private sealed record Outgoing(ReadOnlyMemory<byte> Consensus, IReadOnlyList<ReadOnlyMemory<byte>>? Transactions, BlocksRequest? Request)
    {
        /// <summary>Nothing but this node's head (<see cref="AnnounceHeadAsync"/>).</summary>
        public static readonly Outgoing Head = new(default, null, null);
    }

    [LoggerMessage(EventId = 3123, Level = LogLevel.Information, Message = "peers: link to {Region} ({Validator}) at {Address} is up")]
    private static partial void LogLinkUp(ILogger logger, string region, Ledger.Crypto.Address validator, Uri address);

    [LoggerMessage(EventId = 3124, Level = LogLevel.Information, Message = "peers: link to {Region} at {Address} is down ({Reason}); dialing again in {DelayMs} ms")]
    private static partial void LogLinkDown(ILogger logger, string region, Uri address, string reason, double delayMs);
}
