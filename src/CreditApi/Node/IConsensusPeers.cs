using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Node.Consensus;

namespace SmartCity.CreditApi.Node;

/// <summary>
/// The peer network as the runtime needs it: the consensus transport, the block source of catch-up and the relay of
/// admitted transactions, started once the node's chain is open. The gRPC implementation is
/// <c>PeerNetwork</c> (folder <c>Peers/</c>, above this one), registered by the host when the config names peers.
/// </summary>
public interface IConsensusPeers : IConsensusTransport, ICertifiedBlockSource, ITransactionRelay, IAsyncDisposable
{
    Task StartAsync(LedgerNode node, CancellationToken cancellationToken);

    /// <summary>Each link to another validator as it is now, in configuration order (the node's Status shows them).</summary>
    IReadOnlyList<PeerLinkState> LinkStates { get; }
}

/// <summary>
/// One peer link as an operator sees it: who, where, whether it is up, the highest head the peer reported (-1: none
/// yet; a hint, never trusted), frames dropped on the way to it and handshakes completed.
/// </summary>
public sealed record PeerLinkState(string Region, Address Validator, Uri Address, bool Connected, long ReportedHead, long DroppedFrames, int Connections);
