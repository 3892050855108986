using System.Globalization;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// Snapshot files <c>snapshot-{height:D12}.snap</c> in the snapshot directory. A snapshot is written to a
/// <c>.tmp</c> name, flushed, renamed into place and the directory flushed, so a crash leaves either the old set or
/// the new set of snapshots, never a half-written one under a final name. The newest two are kept.
/// </summary>
internal sealed class SnapshotFiles(string directory, bool readOnly = false)
{
    private const int Keep = 2;

    public void Write(LedgerIndex index)
    {
        Directory.CreateDirectory(directory);
        var height = index.Head?.Height ?? throw new InvalidOperationException("an empty store has no snapshot");
        var final = Path.Combine(directory, NameOf(height));
        var temporary = final + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
        {
            index.WriteSnapshot(file);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, final, overwrite: true);
        DirectorySync.Flush(directory);
        foreach (var stale in Heights().Skip(Keep))
        {
            File.Delete(Path.Combine(directory, NameOf(stale)));
        }
    }

    /// <summary>
    /// Every snapshot, newest first, with a loader that rebuilds the index from it or throws
    /// <see cref="StoreCorruptedException"/>. Leftover <c>.tmp</c> files (a snapshot interrupted before its rename) are
    /// removed first unless read-only.
    /// </summary>
    public IEnumerable<(string Path, Func<LedgerIndex> Load)> NewestFirst()
    {
        if (!Directory.Exists(directory))
        {
            yield break;
        }

        if (!readOnly)
        {
            foreach (var path in Directory.EnumerateFiles(directory, "*.tmp"))
            {
                File.Delete(path);
            }
        }

        foreach (var height in Heights())
        {
            var path = Path.Combine(directory, NameOf(height));
            yield return (path, () => LedgerIndex.ReadSnapshot(File.ReadAllBytes(path)));
        }
    }

    /// <summary>The snapshot files above <paramref name="height"/>, for repair to move aside.</summary>
    public IEnumerable<string> Above(long height) =>
        Directory.Exists(directory) ? Heights().Where(h => h > height).Select(h => Path.Combine(directory, NameOf(h))) : [];

    private IEnumerable<long> Heights() =>
        Directory.EnumerateFiles(directory, "snapshot-*.snap")
            .Select(path => long.TryParse(Path.GetFileNameWithoutExtension(path).AsSpan("snapshot-".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var h) ? h : -1)
            .Where(h => h >= 0)
            .OrderDescending()
            .ToList();

    private static string NameOf(long height) => $"snapshot-{height.ToString("D12", CultureInfo.InvariantCulture)}.snap";
}
