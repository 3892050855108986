using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// An index table keyed by 32-byte keys: the changes since the last snapshot in memory (the delta, with deletions) over
/// a stack of immutable on-disk runs (<see cref="IndexRun"/>), newest first. A snapshot writes the delta as a new run,
/// merged with the newest runs when they are not much bigger (size-tiered: every entry is rewritten O(log n) times, and
/// a look-up probes O(log n) runs); the oldest run keeps no deletions. Not thread-safe: the store serialises writers
/// and guards readers with its lock; runs are reference-counted so an enumeration outlives a merge.
/// </summary>
internal sealed class IndexTable(string name)
{
    private const int MaxRuns = 8;

    private Dictionary<Hash256, byte[]?> _delta = [];
    private List<IndexRun> _runs = [];

    public string Name => name;

    public IReadOnlyList<IndexRun> Runs => _runs;

    public int DeltaCount => _delta.Count;

    /// <summary>The value under <paramref name="key"/>, or null when absent or deleted.</summary>
    public byte[]? Get(in Hash256 key)
    {
        if (_delta.TryGetValue(key, out var value))
        {
            return value;
        }

        foreach (var run in _runs)
        {
            if (run.TryGet(key, out value))
            {
                return value;
            }
        }

        return null;
    }

    public bool Contains(in Hash256 key) => Get(key) is not null;

    /// <summary>Sets (or, with null, deletes) the value under <paramref name="key"/>; the table keeps the array.</summary>
    public void Put(in Hash256 key, byte[]? value) => _delta[key] = value;

    /// <summary>Installs the runs a snapshot names (load time; the table takes over their references).</summary>
    public void Load(List<IndexRun> runs) => _runs = runs;

    /// <summary>
    /// Writes what a snapshot needs for this table (the delta as a new run, merged with the newest runs when due) and
    /// returns the plan; nothing in memory changes until <see cref="Commit"/>. Null when nothing needs writing.
    /// </summary>
    public FlushPlan? PrepareFlush(Func<string, string> newRunPath)
    {
        if (_delta.Count == 0 && _runs.Count <= MaxRuns)
        {
            return null;
        }

        long size = _delta.Count;
        var merged = 0;
        while (merged < _runs.Count && (_runs[merged].Count <= 2 * size || _runs.Count - merged + 1 > MaxRuns))
        {
            size += _runs[merged].Count;
            merged++;
        }

        var delta = _delta.OrderBy(pair => pair.Key).ToList();
        var sources = new List<IEnumerable<KeyValuePair<Hash256, byte[]?>>> { delta };
        sources.AddRange(_runs.Take(merged).Select(run => run.Entries()));
        var run = IndexRun.Write(newRunPath(name), Merge(sources, dropDeletions: merged == _runs.Count));
        return new FlushPlan(this, run, merged);
    }

    /// <summary>The runs the table will have once <paramref name="plan"/> is committed, newest first.</summary>
    public IReadOnlyList<IndexRun> RunsAfter(FlushPlan? plan) => plan is null ? _runs : [plan.Run, .. _runs.Skip(plan.Merged)];

    /// <summary>Installs the new run and empties the delta (the caller holds the readers' lock).</summary>
    public void Commit(FlushPlan plan)
    {
        var replaced = _runs.Take(plan.Merged).ToList();
        _runs = [plan.Run, .. _runs.Skip(plan.Merged)];
        _delta = [];
        foreach (var run in replaced)
        {
            run.Release();
        }
    }

    /// <summary>Drops the run a failed snapshot wrote.</summary>
    public static void Abandon(FlushPlan plan)
    {
        plan.Run.Release();
        File.Delete(plan.Run.FilePath);
    }

    public void Close()
    {
        foreach (var run in _runs)
        {
            run.Release();
        }

        _runs = [];
    }

    /// <summary>
    /// A stable view of every live entry in key order: the delta is copied and the runs referenced here (under the
    /// caller's lock); enumerating it later needs no lock, and disposing it releases the runs.
    /// </summary>
    public TableView View()
    {
        foreach (var run in _runs)
        {
            run.Acquire();
        }

        return new TableView([.. _delta.OrderBy(pair => pair.Key)], [.. _runs]);
    }

    /// <summary>Merges sorted sources, the first the newest: for a key in several, the newest wins.</summary>
    public static IEnumerable<KeyValuePair<Hash256, byte[]?>> Merge(IReadOnlyList<IEnumerable<KeyValuePair<Hash256, byte[]?>>> sources, bool dropDeletions)
    {
        var cursors = sources.Select(source => source.GetEnumerator()).ToArray();
        try
        {
            var live = new bool[cursors.Length];
            for (var i = 0; i < cursors.Length; i++)
            {
                live[i] = cursors[i].MoveNext();
            }

            while (true)
            {
                var best = -1;
                for (var i = 0; i < cursors.Length; i++)
                {
                    if (live[i] && (best < 0 || cursors[i].Current.Key.CompareTo(cursors[best].Current.Key) < 0))
                    {
                        best = i;
                    }
                }

                if (best < 0)
                {
                    yield break;
                }

                var winner = cursors[best].Current;
                for (var i = best; i < cursors.Length; i++)
                {
                    if (live[i] && cursors[i].Current.Key == winner.Key)
                    {
                        live[i] = cursors[i].MoveNext();
                    }
                }

                if (winner.Value is not null || !dropDeletions)
                {
                    yield return winner;
                }
            }
        }
        finally
        {
            foreach (var cursor in cursors)
            {
                cursor.Dispose();
            }
        }
    }

    internal sealed record FlushPlan(IndexTable Table, IndexRun Run, int Merged);
}

/// <summary>A table's entries at one moment (see <see cref="IndexTable.View"/>).</summary>
internal sealed class TableView(List<KeyValuePair<Hash256, byte[]?>> delta, List<IndexRun> runs) : IDisposable
{
    private bool _disposed;

    public IEnumerable<KeyValuePair<Hash256, byte[]>> Live()
    {
        IEnumerable<KeyValuePair<Hash256, byte[]?>>[] sources = [delta, .. runs.Select(run => run.Entries())];
        foreach (var (key, value) in IndexTable.Merge(sources, dropDeletions: true))
        {
            yield return new KeyValuePair<Hash256, byte[]>(key, value!);
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            foreach (var run in runs)
            {
                run.Release();
            }
        }
    }
}
