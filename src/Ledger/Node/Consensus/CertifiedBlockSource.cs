using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node.Consensus;

/// <summary>A decided block as catch-up fetches it: the block and the certificate that proves it final.</summary>
public sealed record CertifiedBlock(BlockProposal Block, CommitCertificate Certificate);

/// <summary>
/// Where a validator that fell behind fetches certified blocks (docs/consensus.md, "Catch-up"). What it returns is
/// untrusted: the node checks every certificate against the validator set and re-executes every block before
/// committing it. The peer network's block sync will implement it; <see cref="PeerStoresBlockSource"/> reads the
/// stores of the other validators of one process.
/// </summary>
public interface ICertifiedBlockSource
{
    /// <summary>The certified block at <paramref name="height"/> from some peer, or null when no peer has it.</summary>
    Task<CertifiedBlock?> GetAsync(long height, CancellationToken cancellationToken);

    /// <summary>
    /// A head height at least one honest peer is believed to have reached (e.g. the f+1-th highest head the peers
    /// reported), or 0 when unknown. A hint only: the node catches up towards it at start-up and on an idle chain, and
    /// every block fetched is checked as ever. Default: 0 (no hint).
    /// </summary>
    long PeersHead => 0;

    /// <summary>The node refused the block this source returned for <paramref name="height"/>: ask another peer next time.</summary>
    void Refused(long height)
    {
    }
}

/// <summary>Certified blocks read from the stores of the other validators in this process (the in-process consortium, tests).</summary>
public sealed class PeerStoresBlockSource(IEnumerable<IBlockStore> peers) : ICertifiedBlockSource
{
    private readonly IReadOnlyList<IBlockStore> _peers = [.. peers];

    public async Task<CertifiedBlock?> GetAsync(long height, CancellationToken cancellationToken)
    {
        foreach (var peer in _peers)
        {
            StoredBlock? stored;
            try
            {
                stored = await peer.GetBlockAsync(height, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                continue; // that peer has stopped
            }

            if (stored is not null
                && BlockHeader.TryDecode(stored.Header.Header.Span, out var header, out _)
                && CommitCertificate.TryDecode(stored.Header.Certificate.Span, out var certificate, out _))
            {
                return new CertifiedBlock(new BlockProposal(header!, [.. stored.Transactions.Select(t => t.Bytes)]), certificate!);
            }
        }

        return null;
    }
}
