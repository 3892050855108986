using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>Decodes one projection row.</summary>
internal delegate TRow RowReader<TRow>(ref BinaryDecoder decoder);

/// <summary>
/// A projection kept in an on-disk <see cref="IndexTable"/>: each row under the SHA-256 of its identity, and for each
/// secondary index the list of identities under the SHA-256 of the index number and the lookup value. Upserting a row
/// replaces the row with the same identity and moves it between secondary keys when they change. A value begins with
/// a tag (0: row, 1: identity list, 2: the head of a list continued in chunks) so <see cref="Rows"/> can tell them apart.
/// A list is <c>1 ‖ count ‖ identities</c> until it holds <see cref="ChunkSize"/>; then its head becomes
/// <c>2 ‖ chunks ‖ count ‖ identities</c> and later identities go to chunks 1, 2, … (each <c>1 ‖ count ‖ identities</c>)
/// under their own keys, so an append copies one chunk, never the whole list. Lists written before chunks existed are
/// heads without chunks, whatever their length; they read as before and take chunks when they next grow.
/// </summary>
internal sealed class ProjectionTable<TRow>(IndexTable table, Func<TRow, string> identity, Action<BinaryEncoder, TRow> write, RowReader<TRow> read,
    params Func<TRow, string>[] secondaryKeys)
    where TRow : class
{
    private const byte RowTag = 0;
    private const byte IdsTag = 1;
    private const byte ChunkedTag = 2;

    // Identities a list's head or chunk holds before the next goes to a new chunk: an append copies at most this many
    // (~9 KB), however many rows the key has. One list of its own grew without bound, so a subject with 5,000 records
    // cost each new one a 340 KB copy (docs/storage.md, "Index").
    internal const int ChunkSize = 128;

    // Bytes before the first identity: tag and count; a chunked head has the number of its chunks between them.
    private const int ListHeader = 1 + sizeof(int);
    private const int ChunkedHeader = 1 + (2 * sizeof(int));

    // A list with no identities, the start of every new list and chunk (only ever copied).
    private static readonly byte[] EmptyList = [IdsTag, 0, 0, 0, 0];

    // Identity lists read or written lately, by key (null: none), so a row for a subject seen before does not read the
    // subject's list back from a run: a page and a heap read per row, ~4 % of a loaded node's CPU when every credit
    // record adds itself to its subject's list (100,000 subjects: the list is rarely still in the delta). The table is
    // the truth; every list is written through PutIds, which keeps this in step, and the store's lock serialises all
    // access. Bounded by bytes (values plus a fixed cost an entry): when over, it starts again empty.
    private const long RecentListsBytes = 32L << 20;
    private const int RecentListEntryBytes = 96;
    private readonly Dictionary<Hash256, byte[]?> _recentLists = [];
    private long _recentListsSize;

    public IndexTable Table => table;

    /// <summary>Every row (a scan of the table; for small projections).</summary>
    public List<TRow> Rows()
    {
        using var view = table.View();
        var rows = new List<TRow>();
        foreach (var (_, value) in view.Live())
        {
            if (value.Length > 0 && value[0] == RowTag)
            {
                rows.Add(Decode(value));
            }
        }

        return rows;
    }

    public TRow? Get(string id) => Get(KeyOf(0, id));

    private TRow? Get(in Hash256 rowKey) => table.Get(rowKey) is { } bytes ? Decode(bytes) : null;

    public void Upsert(TRow row)
    {
        var id = identity(row);
        var rowKey = KeyOf(0, id);
        var previous = secondaryKeys.Length == 0 ? null : Get(rowKey);
        using (var encoder = new BinaryEncoder(256))
        {
            encoder.WriteByte(RowTag);
            write(encoder, row);
            table.Put(rowKey, encoder.WrittenSpan.ToArray());
        }

        if (secondaryKeys.Length == 0)
        {
            return;
        }

        // The identity once as UTF-8, as the lists hold it: a list is changed as bytes, never decoded into strings (a
        // subject's list grows with every record it gets, and decoding it whole for each one cost a string per entry).
        var idBytes = Encoding.UTF8.GetBytes(id);
        for (var i = 0; i < secondaryKeys.Length; i++)
        {
            var key = secondaryKeys[i](row);
            if (previous is not null)
            {
                var before = secondaryKeys[i](previous);
                if (string.Equals(before, key, StringComparison.Ordinal))
                {
                    continue;
                }

                RemoveId(i, before, idBytes);
            }

            AddId(i, key, idBytes);
        }
    }

    /// <summary>The rows whose secondary key number <paramref name="index"/> is <paramref name="key"/>, in the order they joined it.</summary>
    public List<TRow> Find(int index, string key)
    {
        var rows = new List<TRow>();
        if (ListBytes(KeyOf(index + 1, key)) is not { } head)
        {
            return rows;
        }

        var chunks = ReadRows(head, rows);
        for (var chunk = 1; chunk <= chunks; chunk++)
        {
            if (ListBytes(ChunkKey(index, key, chunk)) is { } bytes)
            {
                ReadRows(bytes, rows);
            }
        }

        return rows;
    }

    private int ReadRows(byte[] list, List<TRow> rows)
    {
        var decoder = ListDecoder(list, out var chunks, out var count);
        for (var i = 0; i < count; i++)
        {
            if (Get(decoder.ReadString()) is { } row)
            {
                rows.Add(row);
            }
        }

        return chunks;
    }

    // Appends the identity to the key's list: to its head while that has room, then to its last chunk, or to a new one.
    // The identity is not in the list already: a list holds exactly the identities of the rows whose key it is, and a
    // row joins a list only when it is new or leaves another (Upsert).
    private void AddId(int index, string key, byte[] id)
    {
        var headKey = KeyOf(index + 1, key);
        if (ListBytes(headKey) is not { } head)
        {
            PutList(headKey, Appended(EmptyList, 0, id));
            return;
        }

        ListDecoder(head, out var chunks, out var count);
        if (chunks == 0 && count < ChunkSize)
        {
            PutList(headKey, Appended(head, count, id));
            return;
        }

        if (chunks > 0)
        {
            var lastKey = ChunkKey(index, key, chunks);
            var last = ListBytes(lastKey);
            var lastCount = 0;
            if (last is not null)
            {
                ListDecoder(last, out _, out lastCount);
            }

            if (lastCount < ChunkSize)
            {
                PutList(lastKey, Appended(last ?? EmptyList, lastCount, id));
                return;
            }
        }

        // The head (or the last chunk) is full: a new chunk, and the head counts it. A head written before chunks
        // existed (tag 1, any length) becomes a chunked head with the same identities.
        PutList(ChunkKey(index, key, chunks + 1), Appended(EmptyList, 0, id));
        var entries = head.AsSpan(chunks == 0 ? ListHeader : ChunkedHeader);
        var chunked = new byte[ChunkedHeader + entries.Length];
        chunked[0] = ChunkedTag;
        BinaryPrimitives.WriteInt32LittleEndian(chunked.AsSpan(1), chunks + 1);
        BinaryPrimitives.WriteInt32LittleEndian(chunked.AsSpan(1 + sizeof(int)), count);
        entries.CopyTo(chunked.AsSpan(ChunkedHeader));
        PutList(headKey, chunked);
    }

    // Removes the identity from the key's list wherever it is; an emptied chunk is deleted, and so is an emptied list
    // that has no chunks.
    private void RemoveId(int index, string key, byte[] id)
    {
        var headKey = KeyOf(index + 1, key);
        if (ListBytes(headKey) is not { } head)
        {
            return;
        }

        ListDecoder(head, out var chunks, out _);
        for (var chunk = 0; chunk <= chunks; chunk++)
        {
            var listKey = chunk == 0 ? headKey : ChunkKey(index, key, chunk);
            if ((chunk == 0 ? head : ListBytes(listKey)) is not { } list)
            {
                continue;
            }

            var at = IndexOf(list, id, out var count);
            if (at < 0)
            {
                continue;
            }

            if (count == 1 && (chunk > 0 || chunks == 0))
            {
                PutList(listKey, null);
                return;
            }

            var entry = sizeof(int) + id.Length;
            var shorter = new byte[list.Length - entry];
            list.AsSpan(0, at).CopyTo(shorter);
            list.AsSpan(at + entry).CopyTo(shorter.AsSpan(at));
            BinaryPrimitives.WriteInt32LittleEndian(shorter.AsSpan(CountOffset(list)), count - 1);
            PutList(listKey, shorter);
            return;
        }
    }

    // The list (head or chunk) with one more identity at its end: its bytes copied, its count one higher.
    private static byte[] Appended(byte[] list, int count, byte[] id)
    {
        var longer = new byte[list.Length + sizeof(int) + id.Length];
        list.CopyTo(longer, 0);
        BinaryPrimitives.WriteInt32LittleEndian(longer.AsSpan(CountOffset(list)), count + 1);
        BinaryPrimitives.WriteInt32LittleEndian(longer.AsSpan(list.Length), id.Length);
        id.CopyTo(longer, list.Length + sizeof(int));
        return longer;
    }

    // Where a list's count is: after the tag, and after the number of chunks in a chunked head.
    private static int CountOffset(byte[] list) => list[0] == ChunkedTag ? 1 + sizeof(int) : 1;

    // Where the entry of the identity starts (its length prefix), or -1; the list's count besides.
    private int IndexOf(byte[] list, ReadOnlySpan<byte> id, out int count)
    {
        var decoder = ListDecoder(list, out _, out count);
        for (var i = 0; i < count; i++)
        {
            var at = decoder.Position;
            if (decoder.ReadBytes().SequenceEqual(id))
            {
                return at;
            }
        }

        return -1;
    }

    // A decoder at the first identity of a list: a head (tag 1 without chunks, tag 2 with) or a chunk (tag 1).
    private BinaryDecoder ListDecoder(byte[] list, out int chunks, out int count)
    {
        var decoder = new BinaryDecoder(list);
        var tag = decoder.ReadByte();
        if (tag is not (IdsTag or ChunkedTag))
        {
            throw new StoreCorruptedException($"the projection index {table.Name} holds a row where an identity list belongs");
        }

        chunks = tag == ChunkedTag ? BlockRecordCodec.CheckCount(decoder.ReadInt32()) : 0;
        count = BlockRecordCodec.CheckCount(decoder.ReadInt32());
        return decoder;
    }

    private byte[]? ListBytes(in Hash256 listKey)
    {
        if (!_recentLists.TryGetValue(listKey, out var bytes))
        {
            bytes = table.Get(listKey);
            Remember(listKey, bytes);
        }

        return bytes;
    }

    private void PutList(in Hash256 listKey, byte[]? list)
    {
        table.Put(listKey, list);
        Remember(listKey, list);
    }

    private void Remember(in Hash256 listKey, byte[]? bytes)
    {
        if (_recentListsSize > RecentListsBytes)
        {
            _recentLists.Clear();
            _recentListsSize = 0;
        }

        _recentLists[listKey] = bytes;
        _recentListsSize += RecentListEntryBytes + (bytes?.Length ?? 0);
    }

    private TRow Decode(byte[] bytes)
    {
        var decoder = new BinaryDecoder(bytes);
        if (decoder.ReadByte() != RowTag)
        {
            throw new StoreCorruptedException($"the projection {table.Name} holds an identity list where a row belongs");
        }

        return read(ref decoder);
    }

    /// <summary>The key of the head of the list of secondary key number <paramref name="index"/> for <paramref name="key"/> (tests).</summary>
    internal static Hash256 ListKey(int index, string key) => KeyOf(index + 1, key);

    /// <summary>The key of the row of identity <paramref name="id"/> (tests).</summary>
    internal static Hash256 RowKey(string id) => KeyOf(0, id);

    // Chunk c (≥ 1) of a list: its kind has the high bit set, so it is never the key of a row or of a head.
    private static Hash256 ChunkKey(int index, string key, int chunk) => KeyOf(0x80 | (index + 1), key, chunk);

    private static Hash256 KeyOf(int kind, string value, int chunk = 0)
    {
        var max = 1 + Encoding.UTF8.GetMaxByteCount(value.Length) + sizeof(int);
        var rented = max > 512 ? ArrayPool<byte>.Shared.Rent(max) : null;
        var bytes = rented ?? stackalloc byte[max];
        bytes[0] = (byte)kind;
        var length = 1 + Encoding.UTF8.GetBytes(value, bytes[1..]);
        if (chunk > 0)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes[length..], chunk);
            length += sizeof(int);
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes[..length], hash);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return new Hash256(hash);
    }
}
