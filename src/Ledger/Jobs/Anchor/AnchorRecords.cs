using System.Text.Json;
using Npgsql;

namespace SmartCity.Ledger.Jobs.Anchor;

/// <summary>A checkpoint this node anchored, confirmed on the EVM chain.</summary>
/// <param name="Contract">The CheckpointAnchor contract's address.</param>
/// <param name="Height">The anchored ledger height.</param>
/// <param name="HeaderHash">The anchored header's hash (0x…).</param>
/// <param name="TransactionHash">The EVM transaction that anchored it.</param>
/// <param name="EvmBlock">The EVM block that holds the transaction.</param>
/// <param name="AnchoredAt">When the job saw it confirmed.</param>
public sealed record AnchorRecord(string Contract, long Height, string HeaderHash, string TransactionHash, long EvmBlock, DateTimeOffset AnchoredAt);

/// <summary>An anchor sent and not yet confirmed: followed by the next run (after a restart too) instead of sending another.</summary>
/// <param name="Contract">The contract it was sent to.</param>
/// <param name="Height">The ledger height it anchors.</param>
/// <param name="HeaderHash">That header's hash.</param>
/// <param name="TransactionHash">The EVM transaction's hash.</param>
/// <param name="Nonce">The submitter's nonce it used (decimal).</param>
/// <param name="SentAt">When it was sent.</param>
public sealed record PendingAnchor(string Contract, long Height, string HeaderHash, string TransactionHash, string Nonce, DateTimeOffset SentAt);

/// <summary>What the AnchorJob persisted for one contract: the latest anchor it saw confirmed and the one in flight.</summary>
public sealed record AnchorJobState(AnchorRecord? Last, PendingAnchor? Pending)
{
    public static AnchorJobState Empty { get; } = new(null, null);
}

/// <summary>
/// Where the AnchorJob keeps what it anchored, so a restarted node neither re-anchors nor loses an anchor in flight:
/// the embedded node in a file of its data directory (<see cref="FileAnchorRecordStore"/>), the PostgreSQL node in the
/// tables <c>anchor_record</c> and <c>anchor_pending</c> of the ledger schema (migration 3,
/// <see cref="PostgresAnchorRecordStore"/>).
/// </summary>
public interface IAnchorRecordStore
{
    /// <summary>The state for <paramref name="contract"/> (records of another contract do not count).</summary>
    ValueTask<AnchorJobState> GetAsync(string contract, CancellationToken cancellationToken);

    /// <summary>Durably notes an anchor sent and not yet confirmed.</summary>
    ValueTask SavePendingAsync(PendingAnchor pending, CancellationToken cancellationToken);

    /// <summary>Durably records a confirmed anchor and clears the pending one.</summary>
    ValueTask RecordAnchoredAsync(AnchorRecord record, CancellationToken cancellationToken);

    /// <summary>Forgets the pending anchor (it was refused, or dropped by the EVM node).</summary>
    ValueTask ClearPendingAsync(string contract, CancellationToken cancellationToken);
}

/// <summary>
/// The embedded node's anchor state: one JSON file, <c>DIR/anchoring.json</c> (normally <c>DATA/jobs/</c>), replaced
/// atomically on every change (written to a temporary file, flushed to disk, renamed over the old one, the directory
/// flushed), so a crash leaves the old state or the new one, never a torn file. It keeps the latest anchor, the one in
/// flight and the anchored count; the full list of checkpoints is the contract's (<c>smartcity anchor show</c>).
/// </summary>
public sealed class FileAnchorRecordStore : IAnchorRecordStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _directory;

    public FileAnchorRecordStore(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = directory;
    }

    public string Path => System.IO.Path.Combine(_directory, "anchoring.json");

    public async ValueTask<AnchorJobState> GetAsync(string contract, CancellationToken cancellationToken)
    {
        var file = await ReadAsync(cancellationToken).ConfigureAwait(false);
        return file is null ? AnchorJobState.Empty : new AnchorJobState(
            file.Last is { } last && Same(last.Contract, contract) ? last : null,
            file.Pending is { } pending && Same(pending.Contract, contract) ? pending : null);
    }

    public ValueTask SavePendingAsync(PendingAnchor pending, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pending);
        return UpdateAsync(f => f with { Pending = pending }, cancellationToken);
    }

    public ValueTask RecordAnchoredAsync(AnchorRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return UpdateAsync(f => f with { Last = record, Pending = null, Anchored = (f.Last is { } last && Same(last.Contract, record.Contract) ? f.Anchored : 0) + 1 }, cancellationToken);
    }

    public ValueTask ClearPendingAsync(string contract, CancellationToken cancellationToken)
        => UpdateAsync(f => f.Pending is { } p && Same(p.Contract, contract) ? f with { Pending = null } : f, cancellationToken);

    private async ValueTask UpdateAsync(Func<AnchorStateFile, AnchorStateFile> change, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var next = change(await ReadAsync(cancellationToken).ConfigureAwait(false) ?? new AnchorStateFile(1, null, null, 0));
            Directory.CreateDirectory(_directory);
            var temporary = Path + ".tmp";
            await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
            {
                await file.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(next, Json), cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, Path, overwrite: true);
            FlushDirectory();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<AnchorStateFile?> ReadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<AnchorStateFile>(await File.ReadAllBytesAsync(Path, cancellationToken).ConfigureAwait(false), Json);
        }
        catch (JsonException e)
        {
            // Written only by rename, so a damaged file is damage, not a torn write: stop rather than re-anchor blindly.
            throw new InvalidDataException($"{Path} is not an anchoring state file: {e.Message}", e);
        }
    }

    /// <summary>Makes the rename durable (the directory entry) where the platform allows opening a directory.</summary>
    private void FlushDirectory()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            using var handle = File.OpenHandle(_directory, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Some file systems refuse to open or flush a directory; the file's own contents are flushed already.
        }
    }

    private static bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private sealed record AnchorStateFile(int Version, AnchorRecord? Last, PendingAnchor? Pending, long Anchored);
}

/// <summary>
/// The PostgreSQL node's anchor state in its ledger schema: <c>anchor_record</c> (one row per confirmed anchor: the
/// node's anchoring history) and <c>anchor_pending</c> (the anchor in flight per contract), created by the store's
/// migration 3. Every instance of a region shares them.
/// </summary>
public sealed class PostgresAnchorRecordStore : IAnchorRecordStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    /// <param name="connectionString">The node's connection string (its search path is replaced by <paramref name="schema"/>).</param>
    /// <param name="schema">The ledger schema, migrated by the store (the tables come from migration 3).</param>
    public PostgresAnchorRecordStore(string connectionString, string schema)
        => _dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = schema }.ConnectionString);

    public async ValueTask<AnchorJobState> GetAsync(string contract, CancellationToken cancellationToken)
    {
        AnchorRecord? last = null;
        await using (var command = _dataSource.CreateCommand(
            "SELECT contract, height, header_hash, transaction_hash, evm_block, anchored_at FROM anchor_record WHERE lower(contract) = lower($1) ORDER BY height DESC LIMIT 1"))
        {
            command.Parameters.AddWithValue(contract);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                last = new AnchorRecord(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), new DateTimeOffset(reader.GetDateTime(5), TimeSpan.Zero));
            }
        }

        PendingAnchor? pending = null;
        await using (var command = _dataSource.CreateCommand(
            "SELECT contract, height, header_hash, transaction_hash, nonce, sent_at FROM anchor_pending WHERE lower(contract) = lower($1)"))
        {
            command.Parameters.AddWithValue(contract);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                pending = new PendingAnchor(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), new DateTimeOffset(reader.GetDateTime(5), TimeSpan.Zero));
            }
        }

        return new AnchorJobState(last, pending);
    }

    public async ValueTask SavePendingAsync(PendingAnchor pending, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pending);
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO anchor_pending (contract, height, header_hash, transaction_hash, nonce, sent_at) VALUES (lower($1), $2, $3, $4, $5, $6)
            ON CONFLICT (contract) DO UPDATE SET height = excluded.height, header_hash = excluded.header_hash,
              transaction_hash = excluded.transaction_hash, nonce = excluded.nonce, sent_at = excluded.sent_at
            """);
        command.Parameters.AddWithValue(pending.Contract);
        command.Parameters.AddWithValue(pending.Height);
        command.Parameters.AddWithValue(pending.HeaderHash);
        command.Parameters.AddWithValue(pending.TransactionHash);
        command.Parameters.AddWithValue(pending.Nonce);
        command.Parameters.AddWithValue(pending.SentAt.ToUniversalTime());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask RecordAnchoredAsync(AnchorRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO anchor_record (contract, height, header_hash, transaction_hash, evm_block, anchored_at) VALUES (lower($1), $2, $3, $4, $5, $6)
            ON CONFLICT (contract, height) DO NOTHING
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue(record.Contract);
            insert.Parameters.AddWithValue(record.Height);
            insert.Parameters.AddWithValue(record.HeaderHash);
            insert.Parameters.AddWithValue(record.TransactionHash);
            insert.Parameters.AddWithValue(record.EvmBlock);
            insert.Parameters.AddWithValue(record.AnchoredAt.ToUniversalTime());
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var clear = new NpgsqlCommand("DELETE FROM anchor_pending WHERE contract = lower($1)", connection, transaction))
        {
            clear.Parameters.AddWithValue(record.Contract);
            await clear.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask ClearPendingAsync(string contract, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("DELETE FROM anchor_pending WHERE contract = lower($1)");
        command.Parameters.AddWithValue(contract);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
