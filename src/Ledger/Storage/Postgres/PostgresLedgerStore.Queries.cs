using System.Data;
using System.Runtime.CompilerServices;
using Npgsql;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Postgres;

/// <summary>Reads: each a single statement (or one read-only snapshot transaction) over the node's schema.</summary>
public sealed partial class PostgresLedgerStore
{
    private const string HeaderColumns = "height, block_hash, parent_hash, timestamp_ms, header, certificate, tx_count, first_history_index";
    private const string CreditColumns = "record_id, subject, tx_hash, height, kind, status, severity, designating_member, published_at, expires_at";
    private const string LicenceColumns = "identifier, version, holder_code, status, issuer, tx_hash, previous_tx_hash, height, valid_until";
    private const string ListEntryColumns = "entry_id, subject, list_kind, status, listed_by, tx_hash, height, listed_at, expires_at";
    private const string MemorandumColumns = "memorandum_id, title, publisher, tx_hash, height, rules";
    private const string ApplicationColumns = "application_id, memorandum_id, entry_id, subject, measure, outcome, implementer, tx_hash, height";
    private const string AccessColumns = "sequence, requester, method, subject, timestamp_ms, request_digest, signature, previous_hash, entry_hash";

    public async ValueTask<StoreHead?> GetHeadAsync(CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT height, block_hash, history_size FROM head", [], r => new StoreHead(r.GetInt64(0), ReadHash(r, 1), r.GetInt64(2)), cancellationToken)
            .ConfigureAwait(false)) is [var head] ? head : null;

    public async ValueTask<StoredBlockHeader?> GetHeaderAsync(long height, CancellationToken cancellationToken) =>
        await SingleAsync($"SELECT {HeaderColumns} FROM blocks WHERE height = $1", [height], ReadHeader, cancellationToken).ConfigureAwait(false);

    public async ValueTask<StoredBlockHeader?> GetHeaderByHashAsync(Hash256 blockHash, CancellationToken cancellationToken) =>
        await SingleAsync($"SELECT {HeaderColumns} FROM blocks WHERE block_hash = $1", [blockHash.ToArray()], ReadHeader, cancellationToken).ConfigureAwait(false);

    public async ValueTask<StoredBlock?> GetBlockAsync(long height, CancellationToken cancellationToken) =>
        await WithTransactionsAsync(await GetHeaderAsync(height, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    public async ValueTask<StoredBlock?> GetBlockByHashAsync(Hash256 blockHash, CancellationToken cancellationToken) =>
        await WithTransactionsAsync(await GetHeaderByHashAsync(blockHash, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    public async ValueTask<TransactionLocation?> GetTransactionAsync(Hash256 txHash, CancellationToken cancellationToken) =>
        await SingleAsync("SELECT height, index_in_block, history_index, bytes FROM transactions WHERE tx_hash = $1", [txHash.ToArray()],
            r => new TransactionLocation(txHash, r.GetInt64(0), r.GetInt32(1), r.GetInt64(2), r.GetFieldValue<byte[]>(3)), cancellationToken).ConfigureAwait(false);

    public async ValueTask<byte[]?> GetStateNodeAsync(Hash256 hash, CancellationToken cancellationToken) =>
        await SingleAsync("SELECT node FROM state_nodes WHERE hash = $1", [hash.ToArray()], r => r.GetFieldValue<byte[]>(0), cancellationToken).ConfigureAwait(false);

    public byte[]? GetStateNode(Hash256 hash) => ReadOne("SELECT node FROM state_nodes WHERE hash = $1", hash.ToArray(), null, static r => r.GetFieldValue<byte[]>(0));

    public Hash256? GetHistoryNode(int level, long index) =>
        ReadOne("SELECT hash FROM history_nodes WHERE level = $1 AND node_index = $2", (short)level, index, static r => (Hash256?)ReadHash(r, 0));

    public async ValueTask<StateRetention> GetStateRetentionAsync(CancellationToken cancellationToken) =>
        new((await QueryAsync("SELECT retained_from FROM state_retention", [], r => r.GetInt64(0), cancellationToken).ConfigureAwait(false)) is [var floor] ? floor : 0);

    /// <summary>One synchronous single-row read (the state and history trees' synchronous walks).</summary>
    private T? ReadOne<T>(string sql, object first, object? second, Func<NpgsqlDataReader, T> read)
    {
        try
        {
            using var connection = _dataSource.OpenConnection();
            using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = first });
            if (second is not null)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = second });
            }

            using var reader = command.ExecuteReader();
            return reader.Read() ? read(reader) : default;
        }
        catch (NpgsqlException ex)
        {
            throw Failed(ex, "reading a tree node");
        }
    }

    public async ValueTask<Hash256?> GetHistoryNodeAsync(int level, long index, CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT hash FROM history_nodes WHERE level = $1 AND node_index = $2", [(short)level, index], r => ReadHash(r, 0), cancellationToken)
            .ConfigureAwait(false)) is [var hash] ? hash : null;

    public async ValueTask<byte[]?> GetStateAsync(Hash256 key, CancellationToken cancellationToken) =>
        await SingleAsync("SELECT value FROM state WHERE key = $1", [key.ToArray()], r => r.GetFieldValue<byte[]>(0), cancellationToken).ConfigureAwait(false);

    public async IAsyncEnumerable<StateEntry> EnumerateStateAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // One REPEATABLE READ transaction: every row comes from the same snapshot, however long the reader takes.
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT key, value FROM state ORDER BY key", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new StateEntry(ReadHash(reader, 0), reader.GetFieldValue<byte[]>(1));
        }
    }

    public async ValueTask<IReadOnlyList<CreditRecordRow>> GetCreditRecordsBySubjectAsync(string subject, CancellationToken cancellationToken) =>
        await QueryAsync($"SELECT {CreditColumns} FROM credit_records WHERE subject = $1 ORDER BY height, record_id", [subject], ReadCreditRecord, cancellationToken).ConfigureAwait(false);

    public async ValueTask<LicenceRow?> GetLicenceAsync(string identifier, CancellationToken cancellationToken) =>
        await SingleAsync($"SELECT {LicenceColumns} FROM licences WHERE identifier = $1 ORDER BY version DESC LIMIT 1", [identifier], ReadLicence, cancellationToken).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<LicenceRow>> GetLicenceVersionsAsync(string identifier, CancellationToken cancellationToken) =>
        await QueryAsync($"SELECT {LicenceColumns} FROM licences WHERE identifier = $1 ORDER BY version", [identifier], ReadLicence, cancellationToken).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<LicenceRow>> GetLicencesByHolderAsync(string holderCode, CancellationToken cancellationToken) =>
        await QueryAsync($"""
            SELECT {LicenceColumns} FROM licences l
            WHERE holder_code = $1 AND version = (SELECT max(version) FROM licences m WHERE m.identifier = l.identifier)
            ORDER BY height, identifier
            """, [holderCode], ReadLicence, cancellationToken).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<ListEntryRow>> GetListEntriesBySubjectAsync(string subject, CancellationToken cancellationToken) =>
        await QueryAsync($"SELECT {ListEntryColumns} FROM list_entries WHERE subject = $1 ORDER BY height, entry_id", [subject], ReadListEntry, cancellationToken).ConfigureAwait(false);

    public async ValueTask<MemorandumRow?> GetMemorandumAsync(string memorandumId, CancellationToken cancellationToken) =>
        await SingleAsync($"SELECT {MemorandumColumns} FROM memoranda WHERE memorandum_id = $1", [memorandumId], ReadMemorandum, cancellationToken).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<MemorandumRow>> GetMemorandaAsync(CancellationToken cancellationToken) =>
        await QueryAsync($"SELECT {MemorandumColumns} FROM memoranda ORDER BY height, memorandum_id", [], ReadMemorandum, cancellationToken).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<MeasureApplicationRow>> GetMeasureApplicationsBySubjectAsync(string subject, CancellationToken cancellationToken) =>
        await QueryAsync($"SELECT {ApplicationColumns} FROM measure_applications WHERE subject = $1 ORDER BY height, application_id", [subject], ReadApplication, cancellationToken).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<MeasureApplicationRow>> GetMeasureApplicationsByMemorandumAsync(string memorandumId, CancellationToken cancellationToken) =>
        await QueryAsync($"SELECT {ApplicationColumns} FROM measure_applications WHERE memorandum_id = $1 ORDER BY height, application_id", [memorandumId], ReadApplication, cancellationToken).ConfigureAwait(false);

    public async ValueTask<AccessLogEntry> AppendAccessAsync(AccessRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (await AppendAccessBatchAsync([request], cancellationToken).ConfigureAwait(false))[0];
    }

    public async ValueTask<IReadOnlyList<AccessLogEntry>> AppendAccessBatchAsync(IReadOnlyList<AccessRequest> requests, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requests);
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            // Appenders in any process queue on this lock, so each reads the true last entry before chaining to it.
            await using (var serialise = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.access_log'))", connection, transaction))
            {
                await serialise.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var (sequence, previous) = (0L, Hash256.Zero);
            await using (var last = new NpgsqlCommand("SELECT sequence, entry_hash FROM access_log ORDER BY sequence DESC LIMIT 1", connection, transaction))
            await using (var reader = await last.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    (sequence, previous) = (reader.GetInt64(0) + 1, ReadHash(reader, 1));
                }
            }

            // Every entry of the batch in one round trip and one commit (group commit).
            var entries = new AccessLogEntry[requests.Count];
            await using var batch = new NpgsqlBatch(connection, transaction);
            for (var i = 0; i < requests.Count; i++)
            {
                var request = requests[i];
                var entry = AccessLogChain.Seal(sequence + i, request, previous);
                previous = entry.EntryHash;
                entries[i] = entry;
                var insert = new NpgsqlBatchCommand($"INSERT INTO access_log ({AccessColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
                foreach (var value in new object[]
                {
                    entry.Sequence, request.Requester.ToArray(), request.Method, request.Subject, request.Timestamp, request.RequestDigest.ToArray(),
                    request.Signature.ToArray(), entry.PreviousHash.ToArray(), entry.EntryHash.ToArray(),
                })
                {
                    insert.Parameters.Add(new NpgsqlParameter { Value = value });
                }

                batch.BatchCommands.Add(insert);
            }

            if (entries.Length > 0)
            {
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return entries;
        }
        catch (NpgsqlException ex)
        {
            throw Failed(ex, "appending to the access log");
        }
    }

    public async ValueTask<IReadOnlyList<AccessLogEntry>> ReadAccessLogAsync(long fromSequence, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return await QueryAsync($"SELECT {AccessColumns} FROM access_log WHERE sequence >= $1 ORDER BY sequence LIMIT $2", [fromSequence, (long)limit],
            ReadAccessEntry, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<AccessLogVerification> VerifyAccessLogAsync(CancellationToken cancellationToken) =>
        AccessLogChain.Verify(await QueryAsync($"SELECT {AccessColumns} FROM access_log ORDER BY sequence", [], ReadAccessEntry, cancellationToken).ConfigureAwait(false));

    private async Task<StoredBlock?> WithTransactionsAsync(StoredBlockHeader? header, CancellationToken cancellationToken)
    {
        if (header is null)
        {
            return null;
        }

        var transactions = await QueryAsync(
            "SELECT tx_hash, history_index, bytes FROM transactions WHERE history_index >= $1 AND history_index < $2 ORDER BY history_index",
            [header.FirstHistoryIndex, header.FirstHistoryIndex + header.TransactionCount],
            r => new StoredTransaction(ReadHash(r, 0), r.GetInt64(1), r.GetFieldValue<byte[]>(2)), cancellationToken).ConfigureAwait(false);
        return new StoredBlock(header, transactions);
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException ex)
        {
            throw Failed(ex, "connecting");
        }
    }

    private async Task<T?> SingleAsync<T>(string sql, object[] parameters, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
        where T : class =>
        (await QueryAsync(sql, parameters, read, cancellationToken).ConfigureAwait(false)) is [var row] ? row : null;

    private async Task<List<T>> QueryAsync<T>(string sql, object[] parameters, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand(sql);
            foreach (var value in parameters)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = value });
            }

            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var rows = new List<T>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(read(reader));
            }

            return rows;
        }
        catch (NpgsqlException ex)
        {
            throw Failed(ex, "querying");
        }
    }

    private static StoredBlockHeader ReadHeader(NpgsqlDataReader r) => new(
        r.GetInt64(0), ReadHash(r, 1), ReadHash(r, 2), r.GetInt64(3), r.GetFieldValue<byte[]>(4), r.GetFieldValue<byte[]>(5), r.GetInt32(6), r.GetInt64(7));

    private static CreditRecordRow ReadCreditRecord(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetString(1), ReadHash(r, 2), r.GetInt64(3), r.GetInt16(4), r.GetInt16(5), r.GetInt16(6), ReadAddress(r, 7), r.GetInt64(8), r.GetInt64(9));

    private static LicenceRow ReadLicence(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetInt32(1), r.GetString(2), r.GetInt16(3), ReadAddress(r, 4), ReadHash(r, 5), ReadHash(r, 6), r.GetInt64(7), r.GetInt64(8));

    private static ListEntryRow ReadListEntry(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetInt16(2), r.GetInt16(3), ReadAddress(r, 4), ReadHash(r, 5), r.GetInt64(6), r.GetInt64(7), r.GetInt64(8));

    private static MemorandumRow ReadMemorandum(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetString(1), ReadAddress(r, 2), ReadHash(r, 3), r.GetInt64(4), r.GetFieldValue<byte[]>(5));

    private static MeasureApplicationRow ReadApplication(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt16(4), r.GetInt16(5), ReadAddress(r, 6), ReadHash(r, 7), r.GetInt64(8));

    private static AccessLogEntry ReadAccessEntry(NpgsqlDataReader r) => new(
        r.GetInt64(0),
        new AccessRequest(ReadAddress(r, 1), r.GetString(2), r.GetString(3), r.GetInt64(4), ReadHash(r, 5), r.GetFieldValue<byte[]>(6)),
        ReadHash(r, 7),
        ReadHash(r, 8));

    private static Address ReadAddress(NpgsqlDataReader r, int ordinal) => new(r.GetFieldValue<byte[]>(ordinal));
}
