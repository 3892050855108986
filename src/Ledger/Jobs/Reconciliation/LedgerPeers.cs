using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Jobs.Reconciliation;

/// <summary>A certified header as a peer serves it: the canonical header bytes and the commit certificate.</summary>
public sealed record PeerHeader(long Height, ReadOnlyMemory<byte> Header, ReadOnlyMemory<byte> Certificate);

/// <summary>
/// What the reconciliation reads from another node of the consortium: its head height and its certified header at a
/// height. Implemented over another node's store (the in-process consortium, tests) and over the gRPC Audit API.
/// </summary>
public interface ILedgerPeer
{
    /// <summary>A stable name for reports and metrics (the peer's node id or address).</summary>
    string Name { get; }

    /// <summary>The peer's head height (-1: empty).</summary>
    ValueTask<long> GetHeadHeightAsync(CancellationToken cancellationToken);

    /// <summary>The peer's certified header at <paramref name="height"/>, or null when it has none.</summary>
    ValueTask<PeerHeader?> GetHeaderAsync(long height, CancellationToken cancellationToken);
}

/// <summary>Another node's store read directly (the in-process consortium, or a node stopped for inspection).</summary>
public sealed class StoreLedgerPeer(string name, IBlockStore store) : ILedgerPeer
{
    public string Name => name;

    public async ValueTask<long> GetHeadHeightAsync(CancellationToken cancellationToken)
        => (await store.GetHeadAsync(cancellationToken).ConfigureAwait(false))?.Height ?? -1;

    public async ValueTask<PeerHeader?> GetHeaderAsync(long height, CancellationToken cancellationToken)
        => await store.GetHeaderAsync(height, cancellationToken).ConfigureAwait(false) is { } header
            ? new PeerHeader(height, header.Header, header.Certificate)
            : null;
}

/// <summary>A peer that cannot be read right now (unreachable, a store error): reported, never fatal to the job.</summary>
public sealed class PeerUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
