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
}
