using Grpc.Core;
using SmartCity.Contracts.Audit.V1;
using SmartCity.CreditApi.Client;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Jobs;
using SmartCity.Ledger.Jobs.Reconciliation;

namespace SmartCity.CreditApi.Peers;

/// <summary>
/// Another node read over its gRPC Audit API for reconciliation: the head by <c>GetCertifiedHeader {latest}</c>, a
/// certified header by <c>GetCertifiedHeader {height}</c> (the canonical header bytes and the commit certificate, which
/// the reconciler verifies itself; nothing the peer says is trusted). Calls are signed as this node's operator member
/// (<c>jobs.reconciliation.memberKey</c>; the method is open to every member). NOT_FOUND is "the peer has no block
/// there"; any other failure makes the peer unavailable for this run (a warning, never a failure of the job).
/// </summary>
public sealed class GrpcLedgerPeer(string name, AuditService.AuditServiceClient audit, TimeSpan callTimeout) : ILedgerPeer
{
    public string Name => name;

    public async ValueTask<long> GetHeadHeightAsync(CancellationToken cancellationToken)
        => (await CallAsync(new GetCertifiedHeaderRequest { Latest = true }, cancellationToken).ConfigureAwait(false))?.Height ?? -1;

    public async ValueTask<PeerHeader?> GetHeaderAsync(long height, CancellationToken cancellationToken)
        => await CallAsync(new GetCertifiedHeaderRequest { Height = height }, cancellationToken).ConfigureAwait(false) is { } response
            ? new PeerHeader(response.Height, response.Header.Memory, response.Certificate.Memory)
            : null;

    private async Task<GetCertifiedHeaderResponse?> CallAsync(GetCertifiedHeaderRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await audit.GetCertifiedHeaderAsync(request, deadline: DateTime.UtcNow + callTimeout, cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !cancellationToken.IsCancellationRequested)
        {
            throw new PeerUnavailableException($"{name}: {e.StatusCode}: {e.Status.Detail}", e);
        }
    }
}

/// <summary>The configured reconciliation peers (<c>jobs.reconciliation.peers</c>), each over its own channel, signed by one member key.</summary>
public sealed class GrpcLedgerPeerSource : ILedgerPeerSource, IDisposable
{
    private readonly List<CreditApiClient> _clients = [];

    /// <param name="peers">Name and <c>http(s)://host:port</c> of each peer.</param>
    /// <param name="member">The member key the calls are signed with (the peers check it against their ledger state).</param>
    /// <param name="chainId">The chain's id (part of every signed request).</param>
    /// <param name="suite">The chain's crypto suite.</param>
    /// <param name="callTimeout">How long one call may take before the peer counts as unavailable for this run.</param>
    public GrpcLedgerPeerSource(IEnumerable<SmartCity.Ledger.Jobs.PeerEndpoint> peers, ISigner member, ulong chainId, CryptoSuite suite, TimeSpan callTimeout)
    {
        ArgumentNullException.ThrowIfNull(peers);
        var list = new List<ILedgerPeer>();
        foreach (var peer in peers)
        {
            var client = new CreditApiClient(new Uri(peer.Address), member, chainId, "RECONCILIATION", suite: suite);
            _clients.Add(client);
            list.Add(new GrpcLedgerPeer(peer.Name, client.Audit, callTimeout));
        }

        Peers = list;
    }

    public IReadOnlyList<ILedgerPeer> Peers { get; }

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }
}
