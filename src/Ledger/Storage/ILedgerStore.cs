using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage;

/// <summary>
/// The ledger's storage contract, implemented by the embedded file store and the PostgreSQL store and checked by one
/// contract-test suite. One writer appends; any number of readers run concurrently and only ever see fully committed
/// blocks. When <see cref="IBlockStore.AppendAsync"/> returns, the block, its state changes and its projections are durable.
/// </summary>
public interface ILedgerStore : IBlockStore, IStateStore, IStateTreeStore, IProjectionStore, IAccessLogStore, IAsyncDisposable
{
    /// <summary>What the store repaired or skipped when it opened (empty after a clean shutdown).</summary>
    StoreRecoveryReport Recovery { get; }
}

/// <summary>Blocks, transactions and history-tree nodes.</summary>
public interface IBlockStore
{
    /// <summary>The last committed block, or null while the store is empty.</summary>
    ValueTask<StoreHead?> GetHeadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Commits <paramref name="block"/> atomically with its state writes, history nodes and projections, durably.
    /// </summary>
    /// <exception cref="StoreConflictException">The height is not head + 1, the parent hash is not the head's hash, or a
    /// transaction hash was committed before; nothing was written.</exception>
    /// <exception cref="ArgumentException">The commit is malformed (history indexes not contiguous from the store's size).</exception>
    ValueTask AppendAsync(BlockCommit block, CancellationToken cancellationToken);

    ValueTask<StoredBlockHeader?> GetHeaderAsync(long height, CancellationToken cancellationToken);

    ValueTask<StoredBlockHeader?> GetHeaderByHashAsync(Hash256 blockHash, CancellationToken cancellationToken);

    ValueTask<StoredBlock?> GetBlockAsync(long height, CancellationToken cancellationToken);

    ValueTask<StoredBlock?> GetBlockByHashAsync(Hash256 blockHash, CancellationToken cancellationToken);

    /// <summary>
    /// The block at <paramref name="height"/> as the re-verifiers (chain audit, <c>store verify</c>, VerifyChain) need
    /// it: the same header, certificate and transactions as <see cref="GetBlockAsync"/>, with the stored record still
    /// checked (its checksum and its structure, with the same faults), but nothing else of the record materialised —
    /// the embedded store skips the state-tree nodes, state writes and projections that make up most of a record's
    /// bytes. A store whose block read already returns only that may just call <see cref="GetBlockAsync"/>.
    /// </summary>
    /// <exception cref="StoreCorruptedException">The stored record fails its checksum or does not parse.</exception>
    ValueTask<StoredBlock?> GetBlockForVerificationAsync(long height, CancellationToken cancellationToken) => GetBlockAsync(height, cancellationToken);

    ValueTask<TransactionLocation?> GetTransactionAsync(Hash256 txHash, CancellationToken cancellationToken);

    /// <summary>The stored hash of history-tree node (<paramref name="level"/>, <paramref name="index"/>), if any.</summary>
    ValueTask<Hash256?> GetHistoryNodeAsync(int level, long index, CancellationToken cancellationToken);
}

/// <summary>The ledger state at the head.</summary>
public interface IStateStore
{
    /// <summary>The value of <paramref name="key"/> at the head, or null when the key is absent.</summary>
    ValueTask<byte[]?> GetStateAsync(Hash256 key, CancellationToken cancellationToken);

    /// <summary>
    /// Every key of the state at the head as of the call, in ascending key order, unaffected by blocks appended while
    /// it runs: what a state snapshot for a joining node or a state-tree rebuild reads.
    /// </summary>
    IAsyncEnumerable<StateEntry> EnumerateStateAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The persisted state tree (see <see cref="BlockCommit.StateNodes"/>): content-addressed nodes of every retained state
/// version, so a node reopens at its head and proves any retained version without replaying history.
/// </summary>
public interface IStateTreeStore
{
    /// <summary>The encoded node stored under <paramref name="hash"/>, or null when it was never stored or was pruned.</summary>
    ValueTask<byte[]?> GetStateNodeAsync(Hash256 hash, CancellationToken cancellationToken);

    /// <summary>
    /// The same read, synchronously: the state tree walks its nodes synchronously, and a cache miss on that walk reads
    /// here (a positional file read, or one synchronous query). Callers on an async path use <see cref="GetStateNodeAsync"/>.
    /// </summary>
    byte[]? GetStateNode(Hash256 hash);

    /// <summary>The history-tree node hash, synchronously, for the history tree's synchronous reads (null when absent).</summary>
    Hash256? GetHistoryNode(int level, long index);

    /// <summary>Which state versions are still readable (the retention floor committed with the newest block).</summary>
    ValueTask<StateRetention> GetStateRetentionAsync(CancellationToken cancellationToken);
}

/// <summary>The query projections. Results are ordered by height, then by the row's identity.</summary>
public interface IProjectionStore
{
    ValueTask<IReadOnlyList<CreditRecordRow>> GetCreditRecordsBySubjectAsync(string subject, CancellationToken cancellationToken);

    /// <summary>The latest version of a licence.</summary>
    ValueTask<LicenceRow?> GetLicenceAsync(string identifier, CancellationToken cancellationToken);

    /// <summary>Every version of a licence, oldest first.</summary>
    ValueTask<IReadOnlyList<LicenceRow>> GetLicenceVersionsAsync(string identifier, CancellationToken cancellationToken);

    /// <summary>The latest version of each licence whose latest version names <paramref name="holderCode"/>.</summary>
    ValueTask<IReadOnlyList<LicenceRow>> GetLicencesByHolderAsync(string holderCode, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<ListEntryRow>> GetListEntriesBySubjectAsync(string subject, CancellationToken cancellationToken);

    ValueTask<MemorandumRow?> GetMemorandumAsync(string memorandumId, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<MemorandumRow>> GetMemorandaAsync(CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<MeasureApplicationRow>> GetMeasureApplicationsBySubjectAsync(string subject, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<MeasureApplicationRow>> GetMeasureApplicationsByMemorandumAsync(string memorandumId, CancellationToken cancellationToken);
}

/// <summary>The append-only, hash-chained log of API accesses (see <see cref="AccessLogChain"/>).</summary>
public interface IAccessLogStore
{
    /// <summary>Appends <paramref name="request"/> as the next entry, durably, and returns the sealed entry.</summary>
    ValueTask<AccessLogEntry> AppendAccessAsync(AccessRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Appends <paramref name="requests"/> as the next entries, in order, durably in one write (one fsync, one database
    /// transaction), and returns the sealed entries: all are written or none is acknowledged (group commit for the
    /// API's one access-log writer).
    /// </summary>
    ValueTask<IReadOnlyList<AccessLogEntry>> AppendAccessBatchAsync(IReadOnlyList<AccessRequest> requests, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> entries from sequence <paramref name="fromSequence"/> on, in order.</summary>
    ValueTask<IReadOnlyList<AccessLogEntry>> ReadAccessLogAsync(long fromSequence, int limit, CancellationToken cancellationToken);

    /// <summary>Re-hashes the whole log and reports the first entry whose hash or link is wrong.</summary>
    ValueTask<AccessLogVerification> VerifyAccessLogAsync(CancellationToken cancellationToken);
}
