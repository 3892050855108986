using Npgsql;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Postgres;

/// <summary>
/// The statements that write one block apart from its transactions, as one <see cref="NpgsqlBatch"/> (one round
/// trip). Rows go in as array parameters expanded by <c>unnest</c>; rows with the same identity inside one block are
/// reduced to the last first, because one upsert statement may not touch a row twice.
/// </summary>
internal static class BlockWrites
{
    public static NpgsqlBatch Build(NpgsqlConnection connection, NpgsqlTransaction transaction, BlockCommit block, StoreHead next)
    {
        var batch = new NpgsqlBatch(connection, transaction);
        Add(batch, """
            INSERT INTO head (singleton, height, block_hash, history_size) VALUES (true, $1, $2, $3)
            ON CONFLICT (singleton) DO UPDATE SET height = excluded.height, block_hash = excluded.block_hash, history_size = excluded.history_size
            """, next.Height, next.BlockHash.ToArray(), next.HistorySize);
        Add(batch, """
            INSERT INTO blocks (height, block_hash, parent_hash, timestamp_ms, header, certificate, tx_count, first_history_index)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, block.Height, block.BlockHash.ToArray(), block.ParentHash.ToArray(), block.Timestamp, block.Header, block.Certificate,
            block.Transactions.Count, next.HistorySize - block.Transactions.Count);
        AddTransactions(batch, block);
        AddState(batch, block);
        AddHistoryNodes(batch, block.HistoryNodes);
        AddProjections(batch, block.Projections);
        AddStateTree(batch, block);
        return batch;
    }

    private static void AddStateTree(NpgsqlBatch batch, BlockCommit block)
    {
        if (block.StateNodes.Count > 0)
        {
            var nodes = LastPerKey(block.StateNodes, n => n.Hash);
            Add(batch, """
                INSERT INTO state_nodes (hash, node, created_height) SELECT t.hash, t.node, $3 FROM unnest($1::bytea[], $2::bytea[]) AS t (hash, node)
                ON CONFLICT (hash) DO UPDATE SET created_height = excluded.created_height
                """, Col(nodes, n => n.Hash.ToArray()), Col(nodes, n => n.Encoded.ToArray()), block.Height);
        }

        if (block.StaleStateNodes.Count > 0)
        {
            Add(batch, "INSERT INTO state_stale_nodes (stale_height, hash) SELECT $1, h FROM unnest($2::bytea[]) AS h",
                block.Height, block.StaleStateNodes.Select(h => h.ToArray()).ToArray());
        }

        if (block.StateRetainedFrom > 0)
        {
            // Versions below the floor go: a node stale at s <= floor is deleted unless a block at or after s created it again.
            // The join must walk the few stale rows and look each node up by its primary key. Left to its estimates the
            // planner hashes the stale rows and scans all of state_nodes, so each block's prune cost grew with the table
            // (7.6 s against 1.5 s for one height at 7.3M nodes, measured in docs/storage.md). SET LOCAL ends with this
            // block's transaction, and these statements are its last.
            var floor = Math.Min(block.StateRetainedFrom, block.Height);
            Add(batch, "SET LOCAL enable_hashjoin = off");
            Add(batch, "SET LOCAL enable_mergejoin = off");
            Add(batch, """
                DELETE FROM state_nodes n USING state_stale_nodes s
                WHERE s.stale_height <= $1 AND n.hash = s.hash AND n.created_height < s.stale_height
                """, floor);
            Add(batch, "DELETE FROM state_stale_nodes WHERE stale_height <= $1", floor);
            Add(batch, "UPDATE state_retention SET retained_from = GREATEST(retained_from, $1)", floor);
        }
    }

    private static void AddTransactions(NpgsqlBatch batch, BlockCommit block)
    {
        var count = block.Transactions.Count;
        if (count == 0)
        {
            return;
        }

        var (hashes, indexes, history, bytes) = (new byte[count][], new int[count], new long[count], new byte[count][]);
        for (var i = 0; i < count; i++)
        {
            var tx = block.Transactions[i];
            (hashes[i], indexes[i], history[i], bytes[i]) = (tx.TxHash.ToArray(), i, tx.HistoryIndex, tx.Bytes.ToArray());
        }

        Add(batch, """
            INSERT INTO transactions (tx_hash, height, index_in_block, history_index, bytes)
            SELECT t.tx_hash, $2, t.index_in_block, t.history_index, t.bytes FROM unnest($1::bytea[], $3::integer[], $4::bigint[], $5::bytea[])
                AS t (tx_hash, index_in_block, history_index, bytes)
            """, hashes, block.Height, indexes, history, bytes);
    }

    private static void AddState(NpgsqlBatch batch, BlockCommit block)
    {
        var final = new Dictionary<Hash256, byte[]?>(block.StateWrites.Count);
        foreach (var write in block.StateWrites)
        {
            final[write.Key] = write.Value;
        }

        var upserts = final.Where(p => p.Value is not null).ToArray();
        var deletes = final.Where(p => p.Value is null).Select(p => p.Key.ToArray()).ToArray();
        if (upserts.Length > 0)
        {
            Add(batch, """
                INSERT INTO state (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[])
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """, upserts.Select(p => p.Key.ToArray()).ToArray(), upserts.Select(p => p.Value!).ToArray());
        }

        if (deletes.Length > 0)
        {
            Add(batch, "DELETE FROM state WHERE key = ANY($1)", (object)deletes); // one bytea[] parameter, not params
        }
    }

    private static void AddHistoryNodes(NpgsqlBatch batch, IReadOnlyList<HistoryNode> nodes)
    {
        if (nodes.Count == 0)
        {
            return;
        }

        var rows = LastPerKey(nodes, n => (n.Level, n.Index));
        Add(batch, """
            INSERT INTO history_nodes (level, node_index, hash) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])
            ON CONFLICT (level, node_index) DO UPDATE SET hash = excluded.hash
            """, rows.Select(n => (short)n.Level).ToArray(), rows.Select(n => n.Index).ToArray(), rows.Select(n => n.Hash.ToArray()).ToArray());
    }

    private static void AddProjections(NpgsqlBatch batch, ProjectionRows projections)
    {
        if (projections.CreditRecords.Count > 0)
        {
            var r = LastPerKey(projections.CreditRecords, x => x.RecordId);
            Add(batch, """
                INSERT INTO credit_records (record_id, subject, tx_hash, height, kind, status, severity, designating_member, published_at, expires_at)
                SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bigint[], $5::smallint[], $6::smallint[], $7::smallint[], $8::bytea[], $9::bigint[], $10::bigint[])
                ON CONFLICT (record_id) DO UPDATE SET subject = excluded.subject, tx_hash = excluded.tx_hash, height = excluded.height,
                    kind = excluded.kind, status = excluded.status, severity = excluded.severity, designating_member = excluded.designating_member,
                    published_at = excluded.published_at, expires_at = excluded.expires_at
                """,
                Col(r, x => x.RecordId), Col(r, x => x.Subject), Col(r, x => x.TxHash.ToArray()), Col(r, x => x.Height), Col(r, x => x.Kind),
                Col(r, x => x.Status), Col(r, x => x.Severity), Col(r, x => x.DesignatingMember.ToArray()), Col(r, x => x.PublishedAt), Col(r, x => x.ExpiresAt));
        }

        if (projections.Licences.Count > 0)
        {
            var r = LastPerKey(projections.Licences, x => (x.Identifier, x.Version));
            Add(batch, """
                INSERT INTO licences (identifier, version, holder_code, status, issuer, tx_hash, previous_tx_hash, height, valid_until)
                SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::smallint[], $5::bytea[], $6::bytea[], $7::bytea[], $8::bigint[], $9::bigint[])
                ON CONFLICT (identifier, version) DO UPDATE SET holder_code = excluded.holder_code, status = excluded.status, issuer = excluded.issuer,
                    tx_hash = excluded.tx_hash, previous_tx_hash = excluded.previous_tx_hash, height = excluded.height, valid_until = excluded.valid_until
                """,
                Col(r, x => x.Identifier), Col(r, x => x.Version), Col(r, x => x.HolderCode), Col(r, x => x.Status), Col(r, x => x.Issuer.ToArray()),
                Col(r, x => x.TxHash.ToArray()), Col(r, x => x.PreviousTxHash.ToArray()), Col(r, x => x.Height), Col(r, x => x.ValidUntil));
        }

        if (projections.ListEntries.Count > 0)
        {
            var r = LastPerKey(projections.ListEntries, x => x.EntryId);
            Add(batch, """
                INSERT INTO list_entries (entry_id, subject, list_kind, status, listed_by, tx_hash, height, listed_at, expires_at)
                SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::smallint[], $5::bytea[], $6::bytea[], $7::bigint[], $8::bigint[], $9::bigint[])
                ON CONFLICT (entry_id) DO UPDATE SET subject = excluded.subject, list_kind = excluded.list_kind, status = excluded.status,
                    listed_by = excluded.listed_by, tx_hash = excluded.tx_hash, height = excluded.height, listed_at = excluded.listed_at, expires_at = excluded.expires_at
                """,
                Col(r, x => x.EntryId), Col(r, x => x.Subject), Col(r, x => x.ListKind), Col(r, x => x.Status), Col(r, x => x.ListedBy.ToArray()),
                Col(r, x => x.TxHash.ToArray()), Col(r, x => x.Height), Col(r, x => x.ListedAt), Col(r, x => x.ExpiresAt));
        }

        if (projections.Memoranda.Count > 0)
        {
            var r = LastPerKey(projections.Memoranda, x => x.MemorandumId);
            Add(batch, """
                INSERT INTO memoranda (memorandum_id, title, publisher, tx_hash, height, rules)
                SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bytea[], $5::bigint[], $6::bytea[])
                ON CONFLICT (memorandum_id) DO UPDATE SET title = excluded.title, publisher = excluded.publisher, tx_hash = excluded.tx_hash,
                    height = excluded.height, rules = excluded.rules
                """,
                Col(r, x => x.MemorandumId), Col(r, x => x.Title), Col(r, x => x.Publisher.ToArray()), Col(r, x => x.TxHash.ToArray()),
                Col(r, x => x.Height), Col(r, x => x.Rules.ToArray()));
        }

        if (projections.MeasureApplications.Count > 0)
        {
            var r = LastPerKey(projections.MeasureApplications, x => x.ApplicationId);
            Add(batch, """
                INSERT INTO measure_applications (application_id, memorandum_id, entry_id, subject, measure, outcome, implementer, tx_hash, height)
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::smallint[], $6::smallint[], $7::bytea[], $8::bytea[], $9::bigint[])
                ON CONFLICT (application_id) DO UPDATE SET memorandum_id = excluded.memorandum_id, entry_id = excluded.entry_id, subject = excluded.subject,
                    measure = excluded.measure, outcome = excluded.outcome, implementer = excluded.implementer, tx_hash = excluded.tx_hash, height = excluded.height
                """,
                Col(r, x => x.ApplicationId), Col(r, x => x.MemorandumId), Col(r, x => x.EntryId), Col(r, x => x.Subject), Col(r, x => x.Measure),
                Col(r, x => x.Outcome), Col(r, x => x.Implementer.ToArray()), Col(r, x => x.TxHash.ToArray()), Col(r, x => x.Height));
        }
    }

    private static void Add(NpgsqlBatch batch, string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        batch.BatchCommands.Add(command);
    }

    private static TValue[] Col<TRow, TValue>(List<TRow> rows, Func<TRow, TValue> column)
    {
        var values = new TValue[rows.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = column(rows[i]);
        }

        return values;
    }

    /// <summary>The rows in first-seen order of their key, each key holding its last row.</summary>
    private static List<TRow> LastPerKey<TRow, TKey>(IReadOnlyList<TRow> rows, Func<TRow, TKey> key)
        where TKey : notnull
    {
        var positions = new Dictionary<TKey, int>(rows.Count);
        var result = new List<TRow>(rows.Count);
        foreach (var row in rows)
        {
            if (positions.TryGetValue(key(row), out var at))
            {
                result[at] = row;
            }
            else
            {
                positions[key(row)] = result.Count;
                result.Add(row);
            }
        }

        return result;
    }
}
