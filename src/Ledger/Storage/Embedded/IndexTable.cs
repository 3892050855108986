using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// An index table keyed by 32-byte keys: the changes since the last snapshot in memory (the delta, with deletions) over
/// the frozen layers a snapshot in progress is writing (immutable dictionaries, newest first) over a stack of immutable
/// on-disk runs (<see cref="IndexRun"/>), newest first. A snapshot writes the delta as a new run,
/// merged with the newest runs when they are not much bigger (size-tiered: every entry is rewritten O(log n) times, and
/// a look-up probes O(log n) runs); the oldest run keeps no deletions. Not thread-safe: the store serialises writers
/// and guards readers with its lock; runs are reference-counted so an enumeration outlives a merge.
/// </summary>
internal sealed class IndexTable(string name)
{
    private const int MaxRuns = 8;

    private Dictionary<Hash256, byte[]?> _delta = [];
    private Dictionary<Hash256, byte[]?>[] _frozen = [];
    private List<IndexRun> _runs = [];

    public string Name => name;

    public IReadOnlyList<IndexRun> Runs => _runs;

    public int DeltaCount => _delta.Count;

    /// <summary>Entries in the frozen layers (a snapshot being written, or one that failed and is retried).</summary>
    public int FrozenCount => _frozen.Sum(layer => layer.Count);

    /// <summary>The value under <paramref name="key"/>, or null when absent or deleted.</summary>
    public byte[]? Get(in Hash256 key)
    {
        if (_delta.TryGetValue(key, out var value))
        {
            return value;
        }

        foreach (var layer in _frozen)
        {
            if (layer.TryGetValue(key, out value))
            {
                return value;
            }
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
    /// Freezes the delta for a snapshot (O(1): the dictionary becomes an immutable layer and a new empty one takes the
    /// writes) and returns what the snapshot writes for this table. The caller holds the writer and the readers' lock.
    /// Until <see cref="Commit"/> or <see cref="Restore"/>, only that snapshot changes the frozen layers and the runs.
    /// </summary>
    public FrozenTable Freeze()
    {
        if (_delta.Count > 0)
        {
            // The next delta is sized for as many entries as this one took: a table gets about as many writes between
            // two snapshots as between the two before, and a dictionary grown from empty to hundreds of thousands of
            // entries reallocates its arrays a dozen times (8 % of a loaded node's allocated bytes).
            _frozen = [_delta, .. _frozen];
            _delta = new Dictionary<Hash256, byte[]?>(_delta.Count);
        }

        return new FrozenTable(this, _frozen, _runs);
    }

    /// <summary>
    /// Writes what a snapshot needs for this table (its frozen layers as a new run, merged with the newest runs when
    /// due) and returns the plan; nothing in memory changes until <see cref="Commit"/>. Null when nothing needs
    /// writing. Runs without a lock: the frozen layers and the captured runs do not change meanwhile.
    /// </summary>
    public static FlushPlan? PrepareFlush(FrozenTable frozen, Func<string, string> newRunPath)
    {
        var runs = frozen.Runs;
        if (frozen.Layers.Length == 0 && runs.Count <= MaxRuns)
        {
            return null;
        }

        long size = frozen.Layers.Sum(layer => (long)layer.Count);
        var merged = 0;
        while (merged < runs.Count && (runs[merged].Count <= 2 * size || runs.Count - merged + 1 > MaxRuns))
        {
            size += runs[merged].Count;
            merged++;
        }

        // Two passes over the same merge (the layers sorted once, the merged runs read twice): the run's pages need each
        // entry's key, length and short value, then its heap takes the long values, so each is written once.
        var layers = frozen.Layers.Select(Sorted).ToArray();
        var merging = runs.Take(merged).ToArray();
        var dropDeletions = merged == runs.Count;
        var heads = new List<IEnumerable<KeyValuePair<Hash256, EntryHead>>>();
        heads.AddRange(layers.Select(EntryHead.Of));
        heads.AddRange(merging.Select(run => run.Heads()));
        var values = new List<IEnumerable<KeyValuePair<Hash256, byte[]?>>>(layers);
        values.AddRange(merging.Select(run => run.Entries()));
        var run = IndexRun.Write(newRunPath(frozen.Table.Name), Merge(heads, static head => head.IsDeletion, dropDeletions), Merge(values, dropDeletions));
        return new FlushPlan(frozen.Table, run, merged);
    }

    /// <summary>A layer's entries in key order (a sorted copy; the layer is not changed).</summary>
    public static KeyValuePair<Hash256, byte[]?>[] Sorted(Dictionary<Hash256, byte[]?> layer)
    {
        // The keys sorted with the values alongside, by Hash256's own comparison (no delegate): a snapshot sorts
        // hundreds of thousands of entries, and sorting the key-value pairs through a comparison delegate was ~2 % of a
        // loaded node's CPU.
        var keys = new Hash256[layer.Count];
        var values = new byte[]?[layer.Count];
        layer.Keys.CopyTo(keys, 0);
        layer.Values.CopyTo(values, 0);
        Array.Sort(keys, values);
        var sorted = new KeyValuePair<Hash256, byte[]?>[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            sorted[i] = new(keys[i], values[i]);
        }

        return sorted;
    }

    /// <summary>The runs the table will have once <paramref name="plan"/> is committed, newest first.</summary>
    public static IReadOnlyList<IndexRun> RunsAfter(FrozenTable frozen, FlushPlan? plan) => plan is null ? frozen.Runs : [plan.Run, .. frozen.Runs.Skip(plan.Merged)];

    /// <summary>
    /// Installs the snapshot's new run (if it wrote one) and drops the frozen layers it saved (the caller holds the
    /// writer and the readers' lock).
    /// </summary>
    public void Commit(FrozenTable frozen, FlushPlan? plan)
    {
        _frozen = _frozen.Except(frozen.Layers).ToArray(); // empty: nothing froze since
        if (plan is null)
        {
            return;
        }

        var replaced = _runs.Take(plan.Merged).ToList();
        _runs = [plan.Run, .. _runs.Skip(plan.Merged)];
        foreach (var run in replaced)
        {
            run.Release();
        }
    }

    /// <summary>
    /// After a failed snapshot: folds its frozen layers into one (built without a lock; the layers are immutable) so
    /// that retries do not stack layers. Null when there is at most one layer.
    /// </summary>
    public static Dictionary<Hash256, byte[]?>? Combine(FrozenTable frozen)
    {
        if (frozen.Layers.Length <= 1)
        {
            return null;
        }

        var combined = new Dictionary<Hash256, byte[]?>(frozen.Layers[^1]);
        for (var i = frozen.Layers.Length - 2; i >= 0; i--)
        {
            foreach (var (key, value) in frozen.Layers[i])
            {
                combined[key] = value;
            }
        }

        return combined;
    }

    /// <summary>Keeps a failed snapshot's frozen layers (folded into <paramref name="combined"/> when given) for the retry.</summary>
    public void Restore(FrozenTable frozen, Dictionary<Hash256, byte[]?>? combined)
    {
        if (combined is not null)
        {
            _frozen = [.. _frozen.Except(frozen.Layers), combined];
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
        _frozen = [];
    }

    /// <summary>
    /// A stable view of every live entry in key order: the delta is copied, the frozen layers (immutable) and the runs
    /// referenced here (under the caller's lock); enumerating it later needs no lock, and disposing it releases the runs.
    /// </summary>
    public TableView View()
    {
        foreach (var run in _runs)
        {
            run.Acquire();
        }

        return new TableView([.. _delta.OrderBy(pair => pair.Key)], _frozen, [.. _runs]);
    }

    /// <summary>Merges sorted sources, the first the newest: for a key in several, the newest wins.</summary>
    public static IEnumerable<KeyValuePair<Hash256, byte[]?>> Merge(IReadOnlyList<IEnumerable<KeyValuePair<Hash256, byte[]?>>> sources, bool dropDeletions) =>
        Merge(sources, static value => value is null, dropDeletions);

    /// <summary>Merges sorted sources, the first the newest: for a key in several, the newest wins; a deletion is what <paramref name="isDeletion"/> says.</summary>
    public static IEnumerable<KeyValuePair<Hash256, T>> Merge<T>(IReadOnlyList<IEnumerable<KeyValuePair<Hash256, T>>> sources, Func<T, bool> isDeletion, bool dropDeletions)
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

                if (!dropDeletions || !isDeletion(winner.Value))
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

    /// <summary>What a snapshot writes for one table: its frozen layers (newest first) and the runs under them.</summary>
    internal sealed record FrozenTable(IndexTable Table, Dictionary<Hash256, byte[]?>[] Layers, List<IndexRun> Runs);
}

/// <summary>A table's entries at one moment (see <see cref="IndexTable.View"/>).</summary>
internal sealed class TableView(List<KeyValuePair<Hash256, byte[]?>> delta, Dictionary<Hash256, byte[]?>[] frozen, List<IndexRun> runs) : IDisposable
{
    private bool _disposed;

    public IEnumerable<KeyValuePair<Hash256, byte[]>> Live()
    {
        // The frozen layers never change, so they are sorted here, outside the store's lock.
        IEnumerable<KeyValuePair<Hash256, byte[]?>>[] sources = [delta, .. frozen.Select(IndexTable.Sorted), .. runs.Select(run => run.Entries())];
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
