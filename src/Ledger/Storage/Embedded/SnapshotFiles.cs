using System.Globalization;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// Snapshot manifests <c>snapshot-{height:D12}.snap</c> in the snapshot directory and the index run files they name in
/// its <c>index/</c> directory (<c>{table}-{sequence}.run</c>). A snapshot first writes and flushes its new run files
/// (the changes since the last snapshot), then writes its manifest to a <c>.tmp</c> name, flushes it, renames it into
/// place and flushes the directory, so a crash leaves either the old set or the new set of snapshots, never a
/// half-written one under a final name. The newest two manifests are kept, and the run files either names.
/// </summary>
internal sealed class SnapshotFiles
{
    private const int Keep = 2;
    private readonly string _directory;
    private readonly string _runDirectory;
    private readonly bool _readOnly;
    private long _nextRun;

    public SnapshotFiles(string directory, bool readOnly = false)
    {
        _directory = directory;
        _runDirectory = Path.Combine(directory, "index");
        _readOnly = readOnly;
        _nextRun = Directory.Exists(_runDirectory)
            ? Directory.EnumerateFiles(_runDirectory, "*.run").Select(SequenceOf).DefaultIfEmpty(0).Max() + 1
            : 1;
    }

    /// <summary>
    /// Writes a snapshot of <paramref name="index"/> (whose writer is held, so it does not move) and then, under
    /// <paramref name="gate"/> (the readers' lock), moves the tables' deltas into their new runs.
    /// </summary>
    public void Write(LedgerIndex index, Lock? gate)
    {
        Directory.CreateDirectory(_directory);
        Directory.CreateDirectory(_runDirectory);
        var height = index.Head?.Height ?? throw new InvalidOperationException("an empty store has no snapshot");
        var plans = new List<IndexTable.FlushPlan?>();
        try
        {
            foreach (var table in index.Tables)
            {
                plans.Add(table.PrepareFlush(name => Path.Combine(_runDirectory, $"{name}-{(_nextRun++).ToString("D10", CultureInfo.InvariantCulture)}.run")));
            }

            DirectorySync.Flush(_runDirectory);
            var final = Path.Combine(_directory, NameOf(height));
            var temporary = final + ".tmp";
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                index.WriteManifest(file, [.. index.Tables.Select((table, i) => table.RunsAfter(plans[i]))]);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, final, overwrite: true);
            DirectorySync.Flush(_directory);
        }
        catch
        {
            foreach (var plan in plans.OfType<IndexTable.FlushPlan>())
            {
                IndexTable.Abandon(plan);
            }

            throw;
        }

        lock (gate ?? new Lock())
        {
            foreach (var plan in plans.OfType<IndexTable.FlushPlan>())
            {
                plan.Table.Commit(plan);
            }
        }

        // Manifests above this one were passed over when the store opened (damaged, in the old format, naming a lost
        // run, or beyond the log: otherwise the index would have started from them), so this is the newest usable one.
        foreach (var stale in Heights().Where(h => h > height))
        {
            File.Delete(Path.Combine(_directory, NameOf(stale)));
        }

        foreach (var stale in Heights().Skip(Keep))
        {
            File.Delete(Path.Combine(_directory, NameOf(stale)));
        }

        RemoveUnreferencedRuns(index);
    }

    /// <summary>
    /// Every snapshot, newest first, with a loader that rebuilds the index from it or throws
    /// <see cref="StoreCorruptedException"/>. Leftover <c>.tmp</c> files (a snapshot interrupted before its rename) are
    /// removed first unless read-only.
    /// </summary>
    public IEnumerable<(string Path, Func<LedgerIndex> Load)> NewestFirst()
    {
        if (!Directory.Exists(_directory))
        {
            yield break;
        }

        if (!_readOnly)
        {
            foreach (var path in Directory.EnumerateFiles(_directory, "*.tmp"))
            {
                File.Delete(path);
            }

            if (Directory.Exists(_runDirectory))
            {
                foreach (var path in Directory.EnumerateFiles(_runDirectory, "*.heap"))
                {
                    File.Delete(path);
                }
            }
        }

        foreach (var height in Heights())
        {
            var path = Path.Combine(_directory, NameOf(height));
            yield return (path, () => LedgerIndex.ReadSnapshot(File.ReadAllBytes(path), _runDirectory));
        }
    }

    /// <summary>The snapshot files above <paramref name="height"/>, for repair to move aside.</summary>
    public IEnumerable<string> Above(long height) =>
        Directory.Exists(_directory) ? Heights().Where(h => h > height).Select(h => Path.Combine(_directory, NameOf(h))) : [];

    /// <summary>
    /// Deletes the run files neither a kept manifest nor the index in memory names (merged away, or left by a snapshot
    /// that failed).
    /// </summary>
    private void RemoveUnreferencedRuns(LedgerIndex index)
    {
        var referenced = new HashSet<string>(index.Tables.SelectMany(table => table.Runs).Select(run => run.FileName), StringComparer.Ordinal);
        foreach (var height in Heights())
        {
            try
            {
                referenced.UnionWith(LedgerIndex.RunFilesOf(File.ReadAllBytes(Path.Combine(_directory, NameOf(height)))));
            }
            catch (Exception ex) when (ex is StoreCorruptedException or IOException or ArgumentOutOfRangeException)
            {
                // A damaged manifest cannot be loaded anyway; its runs go.
            }
        }

        foreach (var path in Directory.EnumerateFiles(_runDirectory, "*.run"))
        {
            if (!referenced.Contains(Path.GetFileName(path)))
            {
                File.Delete(path);
            }
        }
    }

    private static long SequenceOf(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        var dash = name.LastIndexOf('-');
        return dash >= 0 && long.TryParse(name.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) ? sequence : 0;
    }

    private IEnumerable<long> Heights() =>
        Directory.EnumerateFiles(_directory, "snapshot-*.snap")
            .Select(path => long.TryParse(Path.GetFileNameWithoutExtension(path).AsSpan("snapshot-".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var h) ? h : -1)
            .Where(h => h >= 0)
            .OrderDescending()
            .ToList();

    private static string NameOf(long height) => $"snapshot-{height.ToString("D12", CultureInfo.InvariantCulture)}.snap";
}
