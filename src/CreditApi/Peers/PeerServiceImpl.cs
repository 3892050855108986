using Google.Protobuf;
using Grpc.Core;
using SmartCity.Contracts.Peer.V1;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Peers;

/// <summary>
/// The listening side of peer links (<c>smartcity.peer.v1.PeerService</c>): checks the dialer's hello (this chain id
/// and genesis, addressed to this validator, from another member of the validator set, a nonce never seen before),
/// answers with a fresh nonce and its own signature, checks the dialer's signature over both nonces, then passes
/// consensus messages to the engine, transactions to the mempool, and answers block requests from its store — each
/// request capped in count and bytes. A refused handshake ends the call with UNAUTHENTICATED, PERMISSION_DENIED (not a
/// validator) or FAILED_PRECONDITION (another chain), and nothing else.
/// </summary>
/// <remarks>
/// Links end when the host starts stopping: a peer keeps its link open for ever, and the host's graceful shutdown would
/// otherwise wait for it.
/// </remarks>
public sealed class PeerServiceImpl(PeerNetwork network, IHostApplicationLifetime lifetime) : PeerService.PeerServiceBase
{
    public override async Task Exchange(IAsyncStreamReader<ExchangeRequest> requestStream, IServerStreamWriter<ExchangeResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        using var link = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var cancellationToken = link.Token;
        var node = network.Node ?? throw new RpcException(new Status(StatusCode.Unavailable, "the node is starting"));
        var dialer = await HandshakeAsync(requestStream, responseStream, context).ConfigureAwait(false);
        using var membership = network.WatchMembership(dialer, link); // the link ends once the dialer is voted out
        while (await NextAsync(requestStream, cancellationToken).ConfigureAwait(false))
        {
            var frame = requestStream.Current;
            switch (frame.FrameCase)
            {
                case ExchangeRequest.FrameOneofCase.Batch:
                    network.ReportHead(dialer, frame.Batch.HeadHeight);
                    foreach (var message in frame.Batch.Consensus)
                    {
                        network.Deliver(message);
                    }

                    if (frame.Batch.Transactions.Count > 0)
                    {
                        network.DeliverTransactions([.. frame.Batch.Transactions.Select(t => t.Memory)]);
                    }

                    break;
                case ExchangeRequest.FrameOneofCase.BlocksRequest:
                    await responseStream.WriteAsync(new ExchangeResponse { Blocks = await ServeBlocksAsync(node, frame.BlocksRequest, cancellationToken).ConfigureAwait(false) }, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw Refuse(dialer.ToString(), StatusCode.InvalidArgument, $"unexpected {frame.FrameCase} frame after the handshake");
            }
        }

        if (!network.IsValidator(dialer))
        {
            throw Refuse(dialer.ToString(), StatusCode.PermissionDenied, "no longer a validator of this chain (voted out)");
        }
    }

    /// <summary>The next frame; false at the end of the stream or when the host stops (the link ends, the peer dials again).</summary>
    private static async Task<bool> NextAsync(IAsyncStreamReader<ExchangeRequest> requests, CancellationToken cancellationToken)
    {
        try
        {
            return await requests.MoveNext(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task<Address> HandshakeAsync(IAsyncStreamReader<ExchangeRequest> requests, IServerStreamWriter<ExchangeResponse> responses, ServerCallContext context)
    {
        var who = context.Peer;
        using var step = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        step.CancelAfter(network.Options.RequestTimeout);
        bool any;
        try
        {
            any = await requests.MoveNext(step.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            throw Refuse(who, StatusCode.DeadlineExceeded, "no hello in time");
        }

        if (!any || requests.Current.FrameCase != ExchangeRequest.FrameOneofCase.Hello)
        {
            throw Refuse(who, StatusCode.Unauthenticated, "the first frame must be a hello");
        }

        var hello = requests.Current.Hello;
        if (hello.ChainId != network.ChainId)
        {
            throw Refuse(who, StatusCode.FailedPrecondition, $"chain id {hello.ChainId}, this chain is {network.ChainId}");
        }

        if (!PeerHandshakes.TryReadHash(hello.GenesisHash, out var genesis) || genesis != network.GenesisHash)
        {
            throw Refuse(who, StatusCode.FailedPrecondition, "another genesis (its hash differs from this chain's)");
        }

        if (!PeerHandshakes.TryReadAddress(hello.Dialer, out var dialer) || !PeerHandshakes.TryReadAddress(hello.Listener, out var listener))
        {
            throw Refuse(who, StatusCode.InvalidArgument, "dialer and listener must be 20-byte addresses");
        }

        who = $"{dialer} ({context.Peer})";
        if (listener != network.Self)
        {
            throw Refuse(who, StatusCode.FailedPrecondition, $"the hello is for validator {listener}; this is {network.Self}");
        }

        if (!network.IsValidator(dialer) || dialer == network.Self)
        {
            throw Refuse(who, StatusCode.PermissionDenied, $"not another validator in force at this node's head (height {network.Node?.Head.Height ?? 0})");
        }

        if (!PeerHandshakes.TryReadHash(hello.DialerNonce, out var dialerNonce))
        {
            throw Refuse(who, StatusCode.InvalidArgument, "the dialer nonce must be 32 bytes");
        }

        if (!network.RememberNonce(dialerNonce))
        {
            throw Refuse(who, StatusCode.Unauthenticated, "replayed handshake (this nonce was used before)");
        }

        var listenerNonce = PeerHandshakes.NewNonce();
        var handshake = new PeerHandshake(network.GenesisHash, dialer, network.Self, dialerNonce, listenerNonce, FromDialer: false);
        await responses.WriteAsync(new ExchangeResponse
        {
            Challenge = new HandshakeChallenge
            {
                ListenerNonce = ByteString.CopyFrom(listenerNonce.Bytes),
                Signature = ByteString.CopyFrom(network.Handshakes.Sign(handshake).Bytes),
                HeadHeight = network.Node?.Head.Height ?? 0,
            },
        }, context.CancellationToken).ConfigureAwait(false);

        try
        {
            any = await requests.MoveNext(step.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            throw Refuse(who, StatusCode.DeadlineExceeded, "no proof in time");
        }

        if (!any || requests.Current.FrameCase != ExchangeRequest.FrameOneofCase.Proof)
        {
            throw Refuse(who, StatusCode.Unauthenticated, "the second frame must be the proof");
        }

        if (!network.Handshakes.Verify(handshake with { FromDialer = true }, requests.Current.Proof.Signature))
        {
            throw Refuse(who, StatusCode.Unauthenticated, "the proof is not the dialer's signature over this handshake");
        }

        network.ReportHead(dialer, hello.HeadHeight, handshake: true);
        return dialer;
    }

    private async Task<BlocksResponse> ServeBlocksAsync(Ledger.Node.LedgerNode node, BlocksRequest request, CancellationToken cancellationToken)
    {
        var head = node.Head.Height;
        var response = new BlocksResponse { RequestId = request.RequestId, HeadHeight = head };
        var count = Math.Clamp(request.MaxBlocks, 1, network.Options.MaxBlocksPerRequest);
        var bytes = 0L;
        for (var height = Math.Max(1, request.FromHeight); height <= head && response.Blocks.Count < count && (bytes < network.Options.MaxBlockResponseBytes || response.Blocks.Count == 0); height++)
        {
            var stored = await node.Blocks.GetBlockAsync(height, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                break;
            }

            var block = new CertifiedBlock
            {
                Header = UnsafeByteOperations.UnsafeWrap(stored.Header.Header),
                Certificate = UnsafeByteOperations.UnsafeWrap(stored.Header.Certificate),
            };
            foreach (var tx in stored.Transactions)
            {
                block.Transactions.Add(UnsafeByteOperations.UnsafeWrap(tx.Bytes));
                bytes += tx.Bytes.Length;
            }

            bytes += stored.Header.Header.Length + stored.Header.Certificate.Length;
            response.Blocks.Add(block);
        }

        return response;
    }

    private RpcException Refuse(string peer, StatusCode code, string reason)
    {
        network.HandshakeRefused(peer, reason);
        return new RpcException(new Status(code, reason));
    }
}
