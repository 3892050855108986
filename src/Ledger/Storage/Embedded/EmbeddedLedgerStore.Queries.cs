using System.Runtime.CompilerServices;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// Reads: index look-ups under a short lock, then positional reads of committed records outside it. Record reads
/// are synchronous (they hit the page cache almost always), so these methods complete synchronously.
/// </summary>
public sealed partial class EmbeddedLedgerStore
{
    public ValueTask<StoreHead?> GetHeadAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_index.Head);
        }
    }

    public ValueTask<StoredBlockHeader?> GetHeaderAsync(long height, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ReadHeader(height));

    public ValueTask<StoredBlockHeader?> GetHeaderByHashAsync(Hash256 blockHash, CancellationToken cancellationToken) =>
        ValueTask.FromResult(HeightOf(blockHash) is { } height ? ReadHeader(height) : null);

    public ValueTask<StoredBlock?> GetBlockAsync(long height, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ReadBlock(height));

    public ValueTask<StoredBlock?> GetBlockForVerificationAsync(long height, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ReadBlockForVerification(height));

    public ValueTask<StoredBlock?> GetBlockByHashAsync(Hash256 blockHash, CancellationToken cancellationToken) =>
        ValueTask.FromResult(HeightOf(blockHash) is { } height ? ReadBlock(height) : null);

    public ValueTask<TransactionLocation?> GetTransactionAsync(Hash256 txHash, CancellationToken cancellationToken)
    {
        TxEntry? found;
        lock (_gate)
        {
            found = _index.Transaction(txHash);
        }

        if (found is not { } tx)
        {
            return ValueTask.FromResult<TransactionLocation?>(null);
        }

        var bytes = new byte[tx.Length];
        _segments.ReadAt(tx.Segment, tx.Offset, bytes);
        return ValueTask.FromResult<TransactionLocation?>(new TransactionLocation(txHash, tx.Height, tx.IndexInBlock, tx.HistoryIndex, bytes));
    }

    public ValueTask<Hash256?> GetHistoryNodeAsync(int level, long index, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_index.HistoryNode(level, index));
        }
    }

    public Hash256? GetHistoryNode(int level, long index)
    {
        lock (_gate)
        {
            return _index.HistoryNode(level, index);
        }
    }

    public ValueTask<byte[]?> GetStateNodeAsync(Hash256 hash, CancellationToken cancellationToken) => ValueTask.FromResult(GetStateNode(hash));

    public byte[]? GetStateNode(Hash256 hash)
    {
        Span<long> candidates = stackalloc long[4];
        int count;
        lock (_gate)
        {
            count = _index.StateNodes.Candidates(hash, candidates);
        }

        for (var i = 0; i < count; i++)
        {
            var (segment, offset) = StateNodeLocator.Unpack(candidates[i]);
            if (count == 1 || _segments.ReadHash(segment, offset - Hash256.Size) == hash)
            {
                return _segments.ReadLengthPrefixed(segment, offset);
            }
        }

        return null;
    }

    public ValueTask<StateRetention> GetStateRetentionAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(new StateRetention(_index.StateRetainedFrom));
        }
    }

    public ValueTask<byte[]?> GetStateAsync(Hash256 key, CancellationToken cancellationToken)
    {
        byte[]? entry;
        lock (_gate)
        {
            entry = _index.State(key);
        }

        // A new array either way: stored arrays are never handed out (a caller could change them).
        return ValueTask.FromResult(entry is null ? null : StoredStateValue.Resolve(entry, _segments));
    }

    public async IAsyncEnumerable<StateEntry> EnumerateStateAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var (key, entry) in StateTableAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new StateEntry(key, StoredStateValue.Resolve(entry, _segments));
        }
    }

    /// <summary>
    /// The keys <see cref="EnumerateStateAsync"/> would give, in the same order, without reading any value (a long value
    /// is a read of its block record): what a reopened chain's filter of present keys needs.
    /// </summary>
    public async IAsyncEnumerable<Hash256> EnumerateStateKeysAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var (key, _) in StateTableAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return key;
        }
    }

    // The state table's live entries (StoredStateValue form) at the moment of the call, in key order.
    private async IAsyncEnumerable<KeyValuePair<Hash256, byte[]>> StateTableAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        TableView view;
        lock (_gate)
        {
            view = _index.StateView(); // the changes since the snapshot copied, the runs held open: stable from here on
        }

        using (view)
        {
            await Task.Yield();
            foreach (var entry in view.Live())
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return entry;
            }
        }
    }

    public ValueTask<IReadOnlyList<CreditRecordRow>> GetCreditRecordsBySubjectAsync(string subject, CancellationToken cancellationToken) =>
        Query(() => _index.CreditRecords.Find(0, subject), r => r.Height, r => r.RecordId);

    public ValueTask<LicenceRow?> GetLicenceAsync(string identifier, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_index.LatestLicences.Get(identifier));
        }
    }

    public ValueTask<IReadOnlyList<LicenceRow>> GetLicenceVersionsAsync(string identifier, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult<IReadOnlyList<LicenceRow>>([.. _index.LicenceVersions.Find(0, identifier).OrderBy(r => r.Version)]);
        }
    }

    public ValueTask<IReadOnlyList<LicenceRow>> GetLicencesByHolderAsync(string holderCode, CancellationToken cancellationToken) =>
        Query(() => _index.LatestLicences.Find(0, holderCode), r => r.Height, r => r.Identifier);

    public ValueTask<IReadOnlyList<ListEntryRow>> GetListEntriesBySubjectAsync(string subject, CancellationToken cancellationToken) =>
        Query(() => _index.ListEntries.Find(0, subject), r => r.Height, r => r.EntryId);

    public ValueTask<MemorandumRow?> GetMemorandumAsync(string memorandumId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_index.Memoranda.Get(memorandumId));
        }
    }

    public ValueTask<IReadOnlyList<MemorandumRow>> GetMemorandaAsync(CancellationToken cancellationToken) =>
        Query<MemorandumRow>(() => _index.Memoranda.Rows(), r => r.Height, r => r.MemorandumId);

    public ValueTask<IReadOnlyList<MeasureApplicationRow>> GetMeasureApplicationsBySubjectAsync(string subject, CancellationToken cancellationToken) =>
        Query(() => _index.MeasureApplications.Find(0, subject), r => r.Height, r => r.ApplicationId);

    public ValueTask<IReadOnlyList<MeasureApplicationRow>> GetMeasureApplicationsByMemorandumAsync(string memorandumId, CancellationToken cancellationToken) =>
        Query(() => _index.MeasureApplications.Find(1, memorandumId), r => r.Height, r => r.ApplicationId);

    public async ValueTask<AccessLogEntry> AppendAccessAsync(AccessRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _accessWriter.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _accessLog.Append(request);
        }
        finally
        {
            _accessWriter.Release();
        }
    }

    public async ValueTask<IReadOnlyList<AccessLogEntry>> AppendAccessBatchAsync(IReadOnlyList<AccessRequest> requests, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requests);
        await _accessWriter.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _accessLog.AppendMany(requests);
        }
        finally
        {
            _accessWriter.Release();
        }
    }

    public ValueTask<IReadOnlyList<AccessLogEntry>> ReadAccessLogAsync(long fromSequence, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return ValueTask.FromResult<IReadOnlyList<AccessLogEntry>>(_accessLog.Read(fromSequence, limit));
    }

    public ValueTask<AccessLogVerification> VerifyAccessLogAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(AccessLogChain.Verify(_accessLog.Read(0, int.MaxValue)));

    private ValueTask<IReadOnlyList<TRow>> Query<TRow>(Func<List<TRow>> find, Func<TRow, long> height, Func<TRow, string> id)
    {
        List<TRow> rows;
        lock (_gate)
        {
            rows = find();
        }

        return ValueTask.FromResult<IReadOnlyList<TRow>>([.. rows.OrderBy(height).ThenBy(id, StringComparer.Ordinal)]);
    }

    private long? HeightOf(Hash256 blockHash)
    {
        lock (_gate)
        {
            return _index.HeightOf(blockHash);
        }
    }

    private BlockEntry? Entry(long height)
    {
        lock (_gate)
        {
            return _index.Block(height);
        }
    }

    private StoredBlockHeader? ReadHeader(long height)
    {
        if (Entry(height) is not { } entry)
        {
            return null;
        }

        // Header and certificate are adjacent in the record: one read fetches both.
        var layout = entry.Layout;
        var bytes = new byte[layout.CertificateOffset + layout.CertificateLength - layout.HeaderOffset];
        _segments.ReadAt(entry.Record.Segment, entry.Record.Offset + RecordFraming.HeaderSize + layout.HeaderOffset, bytes);
        return new StoredBlockHeader(height, entry.Hash, entry.Parent, entry.Timestamp,
            bytes.AsMemory(0, layout.HeaderLength), bytes.AsMemory(layout.CertificateOffset - layout.HeaderOffset, layout.CertificateLength),
            entry.TransactionCount, entry.FirstHistoryIndex);
    }

    private StoredBlock? ReadBlock(long height)
    {
        if (Entry(height) is not { } entry)
        {
            return null;
        }

        var block = BlockRecordCodec.Decode(_segments.ReadPayload(entry.Record)).Block;
        var header = new StoredBlockHeader(height, entry.Hash, entry.Parent, entry.Timestamp, block.Header, block.Certificate,
            entry.TransactionCount, entry.FirstHistoryIndex);
        return new StoredBlock(header, block.Transactions);
    }

    /// <summary>
    /// The header, certificate and transactions of a block record: the record is read into a pooled buffer and its
    /// checksum checked as <see cref="ReadBlock"/> does, the rest of it is walked (same structure checks, same faults)
    /// but not materialised, and the few bytes kept are copied out so the large buffer goes back to the pool.
    /// </summary>
    private StoredBlock? ReadBlockForVerification(long height)
    {
        if (Entry(height) is not { } entry)
        {
            return null;
        }

        var buffer = _segments.ReadPayloadPooled(entry.Record, out var length);
        try
        {
            var (header, certificate, transactions) = BlockRecordCodec.DecodeForVerification(buffer.AsSpan(0, length));
            return new StoredBlock(
                new StoredBlockHeader(height, entry.Hash, entry.Parent, entry.Timestamp, header, certificate, entry.TransactionCount, entry.FirstHistoryIndex),
                transactions);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
