namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// An in-memory projection: rows by identity plus secondary indexes from a lookup value to identities. Upserting a
/// row replaces the row with the same identity and moves it between secondary keys when they change.
/// </summary>
internal sealed class ProjectionTable<TRow>(Func<TRow, string> identity, params Func<TRow, string>[] secondaryKeys)
    where TRow : class
{
    private readonly Dictionary<string, TRow> _rows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>>[] _indexes =
        [.. secondaryKeys.Select(_ => new Dictionary<string, HashSet<string>>(StringComparer.Ordinal))];

    public int Count => _rows.Count;

    public IEnumerable<TRow> Rows => _rows.Values;

    public TRow? Get(string id) => _rows.GetValueOrDefault(id);

    public void Upsert(TRow row)
    {
        var id = identity(row);
        if (_rows.TryGetValue(id, out var previous))
        {
            for (var i = 0; i < _indexes.Length; i++)
            {
                Unlink(_indexes[i], secondaryKeys[i](previous), id);
            }
        }

        _rows[id] = row;
        for (var i = 0; i < _indexes.Length; i++)
        {
            var key = secondaryKeys[i](row);
            if (!_indexes[i].TryGetValue(key, out var ids))
            {
                _indexes[i][key] = ids = new HashSet<string>(StringComparer.Ordinal);
            }

            ids.Add(id);
        }
    }

    /// <summary>The rows whose secondary key number <paramref name="index"/> is <paramref name="key"/>.</summary>
    public List<TRow> Find(int index, string key) =>
        _indexes[index].TryGetValue(key, out var ids) ? [.. ids.Select(id => _rows[id])] : [];

    private static void Unlink(Dictionary<string, HashSet<string>> index, string key, string id)
    {
        if (index.TryGetValue(key, out var ids) && ids.Remove(id) && ids.Count == 0)
        {
            index.Remove(key);
        }
    }
}
