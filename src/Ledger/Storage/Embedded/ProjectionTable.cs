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
        if (table.Get(KeyOf(index + 1, key)) is not { } bytes)
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
        if (ids.Count == 0)
        {
            table.Put(KeyOf(index + 1, key), null);
            return;
        }

        using var encoder = new BinaryEncoder(64 + ids.Sum(id => 8 + id.Length * 3));
        encoder.WriteByte(IdsTag);
        encoder.WriteInt32(ids.Count);
        foreach (var id in ids)
        {
            encoder.WriteString(id);
        }

        table.Put(KeyOf(index + 1, key), encoder.WrittenSpan.ToArray());
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
