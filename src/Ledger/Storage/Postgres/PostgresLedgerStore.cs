using Npgsql;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Postgres;

/// <summary>
/// The production store: one schema per node, the whole block (header, transactions, state, history nodes and
/// projections) written in one database transaction with <c>synchronous_commit = on</c>, so a block is durable and
/// visible to readers at the same instant. Transactions, state, nodes and projections go in as array-parameter
/// statements (<c>unnest</c>) in one <see cref="NpgsqlBatch"/>: one round trip after the head lock. Binary COPY
/// for the transactions was measured and did not pay at 2,000 rows a block (an extra round trip, more client CPU).
/// </summary>
public sealed partial class PostgresLedgerStore : ILedgerStore
{
    private readonly NpgsqlDataSource _dataSource;

    private PostgresLedgerStore(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    /// <summary>
    /// How long one block's append may run: at least five minutes, or no limit when the connection string says 0. A
    /// block of thousands of transactions writes ~100,000 rows; on a loaded database that can pass Npgsql's 30 s
    /// default, and an append cut off there is rolled back and retried in full, so it would never get through.
    /// </summary>
    internal static int AppendTimeoutSeconds(int commandTimeout) => commandTimeout == 0 ? 0 : Math.Max(commandTimeout, 300);

    /// <summary>
    /// Translates a failure; when the server is unreachable (stopped, restarted, network), the idle pooled connections
    /// are dropped as well, so the first call after the server is back opens a fresh connection instead of failing
    /// once on every stale one.
    /// </summary>
    private StoreException Failed(NpgsqlException exception, string operation)
    {
        var translated = PostgresErrors.Translate(exception, operation);
        if (translated is StoreUnavailableException)
        {
            _dataSource.Clear();
        }

        return translated;
    }

    /// <summary>Opens the store in <see cref="PostgresStoreOptions.Schema"/>, migrating it first unless told not to.</summary>
    public static async Task<PostgresLedgerStore> OpenAsync(PostgresStoreOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.MigrateOnOpen)
        {
            await PostgresMigrator.MigrateOnlyAsync(options, cancellationToken).ConfigureAwait(false);
        }

        var connection = new NpgsqlConnectionStringBuilder(options.ConnectionString)
        {
            SearchPath = options.Schema,
            Options = "-c synchronous_commit=on -c jit=off", // short statements: LLVM compilation (~0.4 s) costs more than it saves
        };
        return new PostgresLedgerStore(NpgsqlDataSource.Create(connection));
    }

    public async ValueTask AppendAsync(BlockCommit block, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(block);
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            StoreHead? head;
            await using (var lockHead = new NpgsqlCommand("SELECT height, block_hash, history_size FROM head FOR UPDATE", connection, transaction))
            {
                head = await ReadHeadAsync(lockHead, cancellationToken).ConfigureAwait(false);
            }

            BlockCommitRules.EnsureAppendable(block, head);
            var next = BlockCommitRules.HeadAfter(block, head);
            await using (var batch = BlockWrites.Build(connection, transaction, block, next))
            {
                batch.Timeout = AppendTimeoutSeconds(connection.CommandTimeout);
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException ex)
        {
            throw Failed(ex, $"appending block {block.Height}");
        }
    }

    /// <summary>PostgreSQL recovers its own write-ahead log; the store itself has nothing to repair at start-up.</summary>
    public StoreRecoveryReport Recovery { get; } = StoreRecoveryReport.None;

    public async ValueTask DisposeAsync() => await _dataSource.DisposeAsync().ConfigureAwait(false);

    private static async Task<StoreHead?> ReadHeadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new StoreHead(reader.GetInt64(0), ReadHash(reader, 1), reader.GetInt64(2))
            : null;
    }

    private static Hash256 ReadHash(NpgsqlDataReader reader, int ordinal) => new(reader.GetFieldValue<byte[]>(ordinal));
}
