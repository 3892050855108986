namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>Settings of the embedded store (section <c>Storage:Embedded</c>).</summary>
public sealed record EmbeddedStoreOptions
{
    /// <summary>The node's data directory; created if missing. Holds <c>segments/</c>, <c>snapshots/</c> and <c>access.log</c>.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>A segment is closed once the next record would take it past this size.</summary>
    public long SegmentSize { get; init; } = 64L << 20;

    /// <summary>A state snapshot is written after this many blocks…</summary>
    public int SnapshotEveryBlocks { get; init; } = 4096;

    /// <summary>…or after this many bytes of block records, whichever comes first: this bounds the replay at start-up.</summary>
    public long SnapshotEveryBytes { get; init; } = 256L << 20;

    /// <summary>Write a snapshot when the store is disposed, so a clean restart replays nothing.</summary>
    public bool SnapshotOnClose { get; init; } = true;

    /// <summary>How many of the newest blocks are re-read from disk and checked at start-up.</summary>
    public int VerifyTailBlocks { get; init; } = 16;

    /// <summary>
    /// How much less CPU priority a background snapshot's writing gets than the node's own threads: the nice value
    /// added on Linux (0-19; 0, the default: the same). At 5 a snapshot on a busy two-core machine takes about a
    /// quarter of the CPU share a normal thread would (the kernel's weights: 335 against 1,024), so a new locator base
    /// (~1 s of CPU per 4 M entries) stretches over a few seconds instead of stalling commits. Off by default because
    /// the lowering is not contained: a thread the runtime starts from the lowered one (the background collector's,
    /// the tiered compiler's) inherits its nice value, and CI caught the background GC thread at +5. Ignored on other
    /// systems.
    /// </summary>
    public int SnapshotNice { get; init; }

    /// <summary>
    /// Open for reading only (<c>store verify</c>): nothing on disk is changed, not even a torn tail, and appends are
    /// refused.
    /// </summary>
    public bool ReadOnly { get; init; }

    /// <summary>
    /// Changes to the state-node locator since its sorted base below which a snapshot writes a delta rather than a new
    /// base (a store that keeps every state version; see <c>LedgerIndex.CaptureManifest</c>). Lowered by tests, so a
    /// small store moves onto new bases too.
    /// </summary>
    internal int LocatorChangesBeforeNewBase { get; init; } = LedgerIndex.DefaultChangesBeforeNewBase;

    /// <summary>Failure injection for the fault tests.</summary>
    internal StorageFaults Faults { get; init; } = StorageFaults.None;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new ArgumentException("Storage:Embedded:DataDirectory must name a directory");
        }

        if (SegmentSize < 1 << 20 || SnapshotEveryBlocks < 1 || SnapshotEveryBytes < 1 || VerifyTailBlocks < 0)
        {
            throw new ArgumentException("Storage:Embedded needs SegmentSize ≥ 1 MiB, SnapshotEveryBlocks ≥ 1, SnapshotEveryBytes ≥ 1 and VerifyTailBlocks ≥ 0");
        }

        if (SnapshotNice is < 0 or > BackgroundThread.MaxNice)
        {
            throw new ArgumentException($"Storage:Embedded:SnapshotNice must be 0-{BackgroundThread.MaxNice}");
        }
    }
}
