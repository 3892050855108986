using System.Diagnostics;
using System.Globalization;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// Snapshot manifests <c>snapshot-{height:D12}.snap</c> in the snapshot directory and the index run files they name in
/// its <c>index/</c> directory (<c>{table}-{sequence}.run</c>, and the state-node locator's <c>locator-{sequence}.run</c>).
/// A snapshot first writes and flushes its new run files (the changes since the last snapshot), then writes its manifest to a <c>.tmp</c> name, flushes it, renames it into
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
            ? Directory.EnumerateFiles(_runDirectory, "*.run").Select(SequenceOf).DefaultIfEmpty(0).Max()
            : 0;
    }

    /// <summary>
    /// Writes a snapshot of <paramref name="index"/> now, in the caller's thread (whose writer is held, so the index
    /// does not move), and installs it under <paramref name="gate"/> (the readers' lock).
    /// </summary>
    public void Write(LedgerIndex index, Lock? gate)
    {
        gate ??= new Lock();
        Job job;
        lock (gate)
        {
            job = Capture(index);
        }

        try
        {
            WriteFiles(job);
        }
        catch
        {
            var combined = CombineFailed(job);
            lock (gate)
            {
                Restore(job, combined);
            }

            throw;
        }

        lock (gate)
        {
            Install(job);
        }

        Cleanup(job);
    }

    /// <summary>
    /// Freezes what a snapshot at the head needs (the caller holds the writer and the readers' lock): each table's
    /// delta becomes a frozen layer, and the manifest's other parts are captured. Cheap: no sorting, no I/O.
    /// </summary>
    public static Job Capture(LedgerIndex index) => new(index, [.. index.Tables.Select(table => table.Freeze())], index.CaptureManifest());

    /// <summary>
    /// Writes the job's run files and then its manifest, each flushed (no lock: it reads only what was frozen). On a
    /// failure the runs it wrote are removed and the exception propagates; nothing in memory has changed.
    /// </summary>
    public void WriteFiles(Job job)
    {
        var plans = job.Plans;
        string? locatorFile = null;
        try
        {
            Directory.CreateDirectory(_directory);
            Directory.CreateDirectory(_runDirectory);
            foreach (var frozen in job.Tables)
            {
                plans.Add(IndexTable.PrepareFlush(frozen, RunPath));
            }

            var locator = job.Manifest.Locator;
            locatorFile = RunPath(LocatorRunFile.NamePrefix);
            if (locator.Base is { } all && locator.Sorted)
            {
                var clock = Stopwatch.StartNew();
                var written = LocatorRunFile.WriteSortedBase(locatorFile, all);
                job.LocatorRuns = [written];
                job.NewLocatorBase = LocatorBase.Open(locatorFile, written); // read through once here, not under the lock
                job.LocatorBaseWritten = clock.Elapsed;
            }
            else if (locator.Base is { } everything)
            {
                job.LocatorRuns = [LocatorRunFile.WriteBase(locatorFile, everything)];
            }
            else
            {
                job.LocatorRuns = [.. locator.Chain, LocatorRunFile.WriteDelta(locatorFile, locator.Delta!)];
            }

            DirectorySync.Flush(_runDirectory);
            var final = Path.Combine(_directory, NameOf(job.Height));
            var temporary = final + ".tmp";
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                job.Index.WriteManifest(file, job.Manifest, [.. job.Tables.Select((frozen, i) => IndexTable.RunsAfter(frozen, plans[i]))], job.LocatorRuns);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, final, overwrite: true);
            DirectorySync.Flush(_directory);
            job.Index.ReturnLocatorCopy(locator);
        }
        catch
        {
            foreach (var plan in plans.OfType<IndexTable.FlushPlan>())
            {
                IndexTable.Abandon(plan);
            }

            plans.Clear();
            job.LocatorRuns = [];
            job.NewLocatorBase = null;
            if (locatorFile is not null)
            {
                File.Delete(locatorFile); // absent when its write failed first: Delete does not mind
            }

            throw;
        }
        finally
        {
            job.Manifest.Locator.Delta?.Dispose(); // written, or lost with the failed snapshot (the next writes a base)
        }
    }

    private string RunPath(string name) => Path.Combine(_runDirectory, $"{name}-{Interlocked.Increment(ref _nextRun).ToString("D10", CultureInfo.InvariantCulture)}.run");

    /// <summary>Installs a written job's runs and drops its frozen layers (the caller holds the writer and the readers' lock).</summary>
    public static void Install(Job job)
    {
        for (var t = 0; t < job.Tables.Count; t++)
        {
            job.Tables[t].Table.Commit(job.Tables[t], job.Plans[t]);
        }

        job.Index.InstallLocatorRuns(job.LocatorRuns);
        if (job.NewLocatorBase is { } newBase)
        {
            var clock = Stopwatch.StartNew();
            var changes = job.Index.StateNodes.LoggedChanges;
            if (job.Index.MoveLocatorOnto(newBase))
            {
                job.LocatorMoved = (changes, clock.Elapsed);
            }
        }
    }

    /// <summary>The folded frozen layers of a job that failed, computed without a lock (see <see cref="IndexTable.Combine"/>).</summary>
    public static Dictionary<Hash256, byte[]?>?[] CombineFailed(Job job) => [.. job.Tables.Select(IndexTable.Combine)];

    /// <summary>Keeps a failed job's frozen layers for the retry (the caller holds the writer and the readers' lock).</summary>
    public static void Restore(Job job, Dictionary<Hash256, byte[]?>?[] combined)
    {
        for (var t = 0; t < job.Tables.Count; t++)
        {
            job.Tables[t].Table.Restore(job.Tables[t], combined[t]);
        }

        job.Index.ForgetLocatorChanges();
    }

    /// <summary>
    /// After an installed job: removes the manifests above it and beyond the newest two, and the run files no kept
    /// manifest names (the installed job's manifest names exactly the runs the tables now have).
    /// </summary>
    public void Cleanup(Job job)
    {
        // Manifests above this one were passed over when the store opened (damaged, in the old format, naming a lost
        // run, or beyond the log: otherwise the index would have started from them), so this is the newest usable one.
        foreach (var stale in Heights().Where(h => h > job.Height))
        {
            File.Delete(Path.Combine(_directory, NameOf(stale)));
        }

        foreach (var stale in Heights().Skip(Keep))
        {
            File.Delete(Path.Combine(_directory, NameOf(stale)));
        }

        RemoveUnreferencedRuns(job.Tables.SelectMany((frozen, i) => IndexTable.RunsAfter(frozen, job.Plans[i])).Select(run => run.FileName)
            .Concat(job.LocatorRuns.Select(run => run.FileName)));
    }

    /// <summary>A snapshot in progress: what was frozen at its height, and the runs it wrote.</summary>
    internal sealed class Job(LedgerIndex index, List<IndexTable.FrozenTable> tables, ManifestParts manifest)
    {
        public LedgerIndex Index => index;

        public List<IndexTable.FrozenTable> Tables => tables;

        public ManifestParts Manifest => manifest;

        public long Height => manifest.Head.Height;

        public List<IndexTable.FlushPlan?> Plans { get; } = [];

        /// <summary>The locator files the job's manifest names, once written (base first).</summary>
        public IReadOnlyList<LocatorRunFile.Reference> LocatorRuns { get; set; } = [];

        /// <summary>The sorted base the job wrote, opened, for the locator to move onto once the job is installed.</summary>
        public LocatorBase? NewLocatorBase { get; set; }

        /// <summary>How long writing and checking <see cref="NewLocatorBase"/> took (in the background).</summary>
        public TimeSpan LocatorBaseWritten { get; set; }

        /// <summary>Once installed: the changes made while the base was written (the locator's tables over it), and how long moving held the writer and readers off (null: the locator did not move).</summary>
        public (int Changes, TimeSpan Took)? LocatorMoved { get; set; }
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
                // Left by a crash of a version that wrote a run's heap to a temporary file first.
                foreach (var path in Directory.EnumerateFiles(_runDirectory, "*.heap"))
                {
                    File.Delete(path);
                }
            }
        }

        foreach (var height in Heights())
        {
            var path = Path.Combine(_directory, NameOf(height));
            yield return (path, () => LedgerIndex.ReadSnapshot(File.ReadAllBytes(path), _runDirectory, recordChanges: !_readOnly));
        }
    }

    /// <summary>The snapshot files above <paramref name="height"/>, for repair to move aside.</summary>
    public IEnumerable<string> Above(long height) =>
        Directory.Exists(_directory) ? Heights().Where(h => h > height).Select(h => Path.Combine(_directory, NameOf(h))) : [];

    /// <summary>
    /// Deletes the run files neither a kept manifest nor the index in memory (<paramref name="live"/>) names (merged
    /// away, or left by a snapshot that failed).
    /// </summary>
    private void RemoveUnreferencedRuns(IEnumerable<string> live)
    {
        var referenced = new HashSet<string>(live, StringComparer.Ordinal);
        foreach (var height in Heights())
        {
            try
            {
                referenced.UnionWith(LedgerIndex.RunFilesOf(Path.Combine(_directory, NameOf(height))));
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
