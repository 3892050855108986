namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// The file-system seam the fault tests use to inject failures the real disk rarely produces on demand (a failing
/// fsync, EIO on write). Production uses <see cref="None"/>, whose hooks do nothing.
/// </summary>
internal class StorageFaults
{
    public static StorageFaults None { get; } = new();

    /// <summary>Called before data is written to <paramref name="file"/> (a segment number, <c>HEAD</c>, a snapshot name); may throw.</summary>
    public virtual void BeforeWrite(string file)
    {
    }

    /// <summary>Called before <paramref name="file"/> is flushed to the disk; may throw to simulate a failed fsync.</summary>
    public virtual void BeforeFlush(string file)
    {
    }
}
