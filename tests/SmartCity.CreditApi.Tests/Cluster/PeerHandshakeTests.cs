using Google.Protobuf;
using Grpc.Core;
using SmartCity.Contracts.Node.V1;
using SmartCity.Contracts.Peer.V1;
using SmartCity.CreditApi.Peers;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Receipts;

namespace SmartCity.CreditApi.Tests.Cluster;

/// <summary>
/// The peer service of a real <c>smartcity node</c> (BJ of a four-validator setup, the others not started) against a
/// hand-driven dialer: who may open a link, and that a recorded handshake opens nothing.
/// </summary>
public sealed class PeerHandshakeTests : IAsyncLifetime
{
    private LocalCluster _cluster = null!;
    private Hash256 _genesisHash;
    private PeerService.PeerServiceClient _peer = null!;

    public async Task InitializeAsync()
    {
        _cluster = await LocalCluster.StartAsync([0]);
        _peer = new PeerService.PeerServiceClient(_cluster.Channel(0));
        _genesisHash = Hash256.Parse((await _cluster.BlockAsync(0, 0)).BlockHash);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private Address Bj => _cluster.Genesis.Validators.Single(v => v.Region == "BJ").Address;

    private PeerHandshakes HandshakesOf(ISigner signer)
        => new(new Eip712ConsensusCrypto(TrustAnchor.FromGenesis(_cluster.Genesis).DomainSeparator, new SignatureBatchVerifier(Secp256k1.Default)), signer);

    private Hello HelloFrom(Address dialer, Hash256 nonce, ulong? chainId = null, Hash256? genesis = null) => new()
    {
        ChainId = chainId ?? _cluster.Genesis.ChainId,
        GenesisHash = ByteString.CopyFrom((genesis ?? _genesisHash).Bytes),
        Dialer = ByteString.CopyFrom(dialer.Bytes),
        Listener = ByteString.CopyFrom(Bj.Bytes),
        DialerNonce = ByteString.CopyFrom(nonce.Bytes),
    };

    /// <summary>Sends the hello, checks the challenge is BJ's signature, sends the proof; returns the call and the proof sent.</summary>
    private async Task<(AsyncDuplexStreamingCall<ExchangeRequest, ExchangeResponse> Call, HandshakeProof Proof)> HandshakeAsync(ISigner dialer, Hash256 nonce, HandshakeProof? replayedProof = null)
    {
        var call = _peer.Exchange(deadline: DateTime.UtcNow.AddSeconds(30));
        await call.RequestStream.WriteAsync(new ExchangeRequest { Hello = HelloFrom(dialer.Address, nonce) });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var challenge = call.ResponseStream.Current.Challenge;
        var handshakes = HandshakesOf(dialer);
        var handshake = new PeerHandshake(_genesisHash, dialer.Address, Bj, nonce, new Hash256(challenge.ListenerNonce.Span), FromDialer: false);
        Assert.True(handshakes.Verify(handshake, challenge.Signature), "the listener's challenge is not BJ's signature over this handshake");
        var proof = replayedProof ?? new HandshakeProof { Signature = ByteString.CopyFrom(handshakes.Sign(handshake with { FromDialer = true }).Bytes) };
        await call.RequestStream.WriteAsync(new ExchangeRequest { Proof = proof });
        return (call, proof);
    }

    private static async Task<RpcException> RefusalAsync(AsyncDuplexStreamingCall<ExchangeRequest, ExchangeResponse> call)
        => await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });

    [Fact]
    public async Task A_validator_that_proves_its_key_opens_a_link_and_is_served_certified_blocks()
    {
        using var tj = _cluster.ValidatorKey(1);
        var (call, _) = await HandshakeAsync(tj, PeerHandshakes.NewNonce());
        using (call)
        {
            await call.RequestStream.WriteAsync(new ExchangeRequest { BlocksRequest = new BlocksRequest { RequestId = 7, FromHeight = 1, MaxBlocks = 1_000 } });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            var blocks = call.ResponseStream.Current.Blocks;
            Assert.Equal((7UL, 0L), (blocks.RequestId, blocks.HeadHeight)); // an idle chain at its genesis: nothing above it to serve
            Assert.Empty(blocks.Blocks);
        }
    }

    [Fact]
    public async Task The_head_a_peer_states_in_its_batches_shows_in_status_as_its_reported_head()
    {
        var before = await _cluster.StatusAsync(0);
        Assert.Equal(["HE", "TJ", "XA"], before.Peers.Select(p => p.Region).Order(StringComparer.Ordinal));
        Assert.All(before.Peers, p => Assert.False(p.Connected)); // BJ dials them; none of them runs

        using var tj = _cluster.ValidatorKey(1);
        var (call, _) = await HandshakeAsync(tj, PeerHandshakes.NewNonce());
        using (call)
        {
            await call.RequestStream.WriteAsync(new ExchangeRequest { Batch = new Batch { HeadHeight = 41 } });
            await call.RequestStream.WriteAsync(new ExchangeRequest { Batch = new Batch { HeadHeight = 7 } }); // never lowers what was reported
            var deadline = DateTime.UtcNow.AddSeconds(20);
            LedgerStatus status;
            do
            {
                await Task.Delay(100);
                status = await _cluster.StatusAsync(0);
            }
            while (status.Peers.Single(p => p.Region == "TJ").ReportedHead != 41 && DateTime.UtcNow < deadline);

            Assert.Equal(41, status.Peers.Single(p => p.Region == "TJ").ReportedHead);
            Assert.Equal(tj.Address.ToString(), status.Peers.Single(p => p.Region == "TJ").Validator, ignoreCase: true);
            Assert.Equal(-1, status.Peers.Single(p => p.Region == "HE").ReportedHead); // nothing heard from HE
        }
    }

    [Fact]
    public async Task A_member_that_is_not_a_validator_is_refused_before_any_challenge()
    {
        var member = _cluster.MemberKey(0);
        using var call = _peer.Exchange(deadline: DateTime.UtcNow.AddSeconds(30));
        await call.RequestStream.WriteAsync(new ExchangeRequest { Hello = HelloFrom(member.Address, PeerHandshakes.NewNonce()) });
        Assert.Equal(StatusCode.PermissionDenied, (await RefusalAsync(call)).StatusCode);
    }

    [Fact]
    public async Task A_replayed_hello_or_a_proof_recorded_on_another_link_is_refused()
    {
        using var tj = _cluster.ValidatorKey(1);
        var nonce = PeerHandshakes.NewNonce();
        var (first, proof) = await HandshakeAsync(tj, nonce);
        first.Dispose();

        // The same hello again (an eavesdropper replaying it): the nonce was used.
        using (var replay = _peer.Exchange(deadline: DateTime.UtcNow.AddSeconds(30)))
        {
            await replay.RequestStream.WriteAsync(new ExchangeRequest { Hello = HelloFrom(tj.Address, nonce) });
            var refused = await RefusalAsync(replay);
            Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
            Assert.Contains("replayed", refused.Status.Detail, StringComparison.Ordinal);
        }

        // A fresh hello with the recorded proof: the listener's new nonce is not in it.
        var (second, _) = await HandshakeAsync(tj, PeerHandshakes.NewNonce(), replayedProof: proof);
        using (second)
        {
            Assert.Equal(StatusCode.Unauthenticated, (await RefusalAsync(second)).StatusCode);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_hello_for_another_chain_is_refused(bool otherChainId)
    {
        using var tj = _cluster.ValidatorKey(1);
        using var call = _peer.Exchange(deadline: DateTime.UtcNow.AddSeconds(30));
        var hello = otherChainId
            ? HelloFrom(tj.Address, PeerHandshakes.NewNonce(), chainId: _cluster.Genesis.ChainId + 1)
            : HelloFrom(tj.Address, PeerHandshakes.NewNonce(), genesis: Hash256.Parse("0x" + new string('a', 64)));
        await call.RequestStream.WriteAsync(new ExchangeRequest { Hello = hello });
        Assert.Equal(StatusCode.FailedPrecondition, (await RefusalAsync(call)).StatusCode);
    }

    [Fact]
    public async Task A_signature_by_another_validator_than_the_dialer_is_refused()
    {
        using var tj = _cluster.ValidatorKey(1);
        using var he = _cluster.ValidatorKey(2);
        var nonce = PeerHandshakes.NewNonce();
        using var call = _peer.Exchange(deadline: DateTime.UtcNow.AddSeconds(30));
        await call.RequestStream.WriteAsync(new ExchangeRequest { Hello = HelloFrom(tj.Address, nonce) });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var challenge = call.ResponseStream.Current.Challenge;

        // HE signs the handshake that claims TJ as the dialer.
        var digest = new Eip712ConsensusCrypto(TrustAnchor.FromGenesis(_cluster.Genesis).DomainSeparator, new SignatureBatchVerifier(Secp256k1.Default))
            .MessageDigest(new PeerHandshake(_genesisHash, tj.Address, Bj, nonce, new Hash256(challenge.ListenerNonce.Span), FromDialer: true));
        await call.RequestStream.WriteAsync(new ExchangeRequest { Proof = new HandshakeProof { Signature = ByteString.CopyFrom(he.Sign(digest).Bytes) } });
        Assert.Equal(StatusCode.Unauthenticated, (await RefusalAsync(call)).StatusCode);
    }
}
