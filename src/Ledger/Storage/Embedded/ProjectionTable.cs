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
/// a tag (0: row, 1: identity list) so <see cref="Rows"/> can tell them apart.
/// </summary>
internal sealed class ProjectionTable<TRow>(IndexTable table, Func<TRow, string> identity, Action<BinaryEncoder, TRow> write, RowReader<TRow> read,
    params Func<TRow, string>[] secondaryKeys)
    where TRow : class
{
    private const byte RowTag = 0;
    private const byte IdsTag = 1;

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

    public TRow? Get(string id) => table.Get(KeyOf(0, id)) is { } bytes ? Decode(bytes) : null;

    public void Upsert(TRow row)
    {
        var id = identity(row);
        var previous = Get(id);
        using (var encoder = new BinaryEncoder(256))
        {
            encoder.WriteByte(RowTag);
            write(encoder, row);
            table.Put(KeyOf(0, id), encoder.WrittenSpan.ToArray());
        }

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

                var old = Ids(i, before);
                if (old.Remove(id))
                {
                    PutIds(i, before, old);
                }
            }

            var ids = Ids(i, key);
            if (!ids.Contains(id, StringComparer.Ordinal))
            {
                ids.Add(id);
                PutIds(i, key, ids);
            }
        }
    }

    /// <summary>The rows whose secondary key number <paramref name="index"/> is <paramref name="key"/>.</summary>
    public List<TRow> Find(int index, string key) => [.. Ids(index, key).Select(id => Get(id)).OfType<TRow>()];

    private List<string> Ids(int index, string key)
    {
        var listKey = KeyOf(index + 1, key);
        if (!_recentLists.TryGetValue(listKey, out var bytes))
        {
            bytes = table.Get(listKey);
            Remember(listKey, bytes);
        }

        if (bytes is null)
        {
            return [];
        }

        var decoder = new BinaryDecoder(bytes);
        if (decoder.ReadByte() != IdsTag)
        {
            throw new StoreCorruptedException($"the projection index {table.Name} holds a row where an identity list belongs");
        }

        var ids = new List<string>(BlockRecordCodec.CheckCount(decoder.ReadInt32()));
        for (var i = ids.Capacity; i > 0; i--)
        {
            ids.Add(decoder.ReadString());
        }

        return ids;
    }

    private void PutIds(int index, string key, List<string> ids)
    {
        var listKey = KeyOf(index + 1, key);
        if (ids.Count == 0)
        {
            table.Put(listKey, null);
            Remember(listKey, null);
            return;
        }

        using var encoder = new BinaryEncoder(64 + ids.Sum(id => 8 + id.Length * 3));
        encoder.WriteByte(IdsTag);
        encoder.WriteInt32(ids.Count);
        foreach (var id in ids)
        {
            encoder.WriteString(id);
        }

        var bytes = encoder.WrittenSpan.ToArray();
        table.Put(listKey, bytes);
        Remember(listKey, bytes);
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

    private static Hash256 KeyOf(int kind, string value)
    {
        var bytes = new byte[1 + Encoding.UTF8.GetMaxByteCount(value.Length)];
        bytes[0] = (byte)kind;
        var length = 1 + Encoding.UTF8.GetBytes(value, bytes.AsSpan(1));
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes.AsSpan(0, length), hash);
        return new Hash256(hash);
    }
}
