using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Jobs.Reconciliation;
using SmartCity.Ledger.Jobs.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Jobs;

/// <summary>What a job reads: the node's store (read-only; the node's writer keeps appending), its genesis and curve.</summary>
public sealed record JobLedgerView(ILedgerStore Store, GenesisDocument Genesis, ISignatureScheme Curve, IJobStateStore State);

/// <summary>The host's side: the node's ledger while it is open (null before start and after stop).</summary>
public interface IJobLedger
{
    JobLedgerView? Current { get; }
}

/// <summary>The peers reconciliation compares with; the in-process consortium or the node's configured peers.</summary>
public interface ILedgerPeerSource
{
    IReadOnlyList<ILedgerPeer> Peers { get; }
}

/// <summary>A fixed list of peers.</summary>
public sealed class FixedPeerSource(IReadOnlyList<ILedgerPeer> peers) : ILedgerPeerSource
{
    public IReadOnlyList<ILedgerPeer> Peers => peers;
}
