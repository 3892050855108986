using SmartCity.CreditApi.Node;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Storage;

namespace SmartCity.CreditApi.Services.Api;

/// <summary>
/// The node's own check of the access log's hash chain, kept incrementally: each call re-hashes only the entries
/// appended since the last call (read from the store in chunks) and links them to the last hash checked, so reading
/// the whole log page by page costs time linear in its length, not quadratic. The first call after start re-hashes
/// the whole stored log once. A break, once found, is reported on every later call (the log is append-only, so it
/// cannot heal). An entry edited in the store after the node checked it is caught by the regulator's own offline
/// re-check of the entries it reads (docs/api.md, "Access log") and by the next node start, not by this flag.
/// </summary>
public sealed class AccessLogAudit : IDisposable
{
    public const int ChunkSize = 4096;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _checked;
    private Hash256 _lastHash = Hash256.Zero;
    private long? _broken;

    /// <summary>The log's state after re-hashing what was appended since the last check: entries checked, the last entry's hash, and the first broken sequence, if any.</summary>
    public async Task<(AccessLogVerification Verification, Hash256 HeadHash)> CheckAsync(IAccessLogStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (_broken is null)
            {
                var chunk = await store.ReadAccessLogAsync(_checked, ChunkSize, cancellationToken).ConfigureAwait(false);
                foreach (var entry in chunk)
                {
                    if (entry.Sequence != _checked || entry.PreviousHash != _lastHash
                        || entry.EntryHash != AccessLogChain.ComputeEntryHash(entry.Sequence, entry.Request, entry.PreviousHash))
                    {
                        _broken = _checked;
                        break;
                    }

                    _lastHash = entry.EntryHash;
                    _checked++;
                }

                if (chunk.Count < ChunkSize)
                {
                    break;
                }
            }

            return (new AccessLogVerification(_checked, _broken), _lastHash);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>The check of the running node's log (<see cref="LedgerRuntime"/>'s store).</summary>
    public Task<(AccessLogVerification Verification, Hash256 HeadHash)> CheckAsync(LedgerRuntime ledger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        return CheckAsync(ledger.Node.AccessLog, cancellationToken);
    }
}
