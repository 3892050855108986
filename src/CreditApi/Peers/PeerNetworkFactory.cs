using SmartCity.CreditApi.Node;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Receipts;

namespace SmartCity.CreditApi.Peers;

/// <summary>Builds a node's <see cref="PeerNetwork"/> from its start-up configuration.</summary>
public static class PeerNetworkFactory
{
    public static PeerNetwork Create(NodeStartup startup, ISigner validatorKey, ISignatureScheme curve, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(startup);
        var anchor = TrustAnchor.FromGenesis(startup.Genesis);
        var crypto = new Eip712ConsensusCrypto(anchor.DomainSeparator, new SignatureBatchVerifier(curve, new VerifiedSignatureCache(1_024)));
        return new PeerNetwork(
            startup.Genesis.ChainId,
            [.. startup.Genesis.Validators.Select(v => v.Address)],
            crypto,
            validatorKey,
            startup.Peers.Select(p => new PeerEndpoint(p.Region, p.Validator, p.Address)),
            time: time,
            loggers: loggers);
    }
}
