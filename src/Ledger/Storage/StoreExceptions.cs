namespace SmartCity.Ledger.Storage;

/// <summary>A storage failure the engine cannot treat as a value: the base of every store exception.</summary>
public class StoreException : Exception
{
    public StoreException()
    {
    }

    public StoreException(string message)
        : base(message)
    {
    }

    public StoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The write contradicts what the store holds: a height already written, a gap, a parent hash that is not the head,
/// a transaction hash committed before, or a concurrent writer that won (serialization failure). Nothing was written.
/// </summary>
public sealed class StoreConflictException : StoreException
{
    public StoreConflictException()
    {
    }

    public StoreConflictException(string message)
        : base(message)
    {
    }

    public StoreConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The store's data fail a check that only damage explains: a checksum mismatch away from the tail, a broken
/// link between blocks, an unknown format. The node must stop rather than serve it.
/// </summary>
public class StoreCorruptedException : StoreException
{
    public StoreCorruptedException()
    {
    }

    public StoreCorruptedException(string message)
        : base(message)
    {
    }

    public StoreCorruptedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The store cannot be reached or has run out of a resource (connection, disk); retrying later may help.</summary>
public sealed class StoreUnavailableException : StoreException
{
    public StoreUnavailableException()
    {
    }

    public StoreUnavailableException(string message)
        : base(message)
    {
    }

    public StoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Blocks the store acknowledged as committed are not in its block log any more (media damage, a truncated or deleted
/// file): the store refuses to open rather than silently start from an older head. <see cref="MissingFrom"/> to
/// <see cref="MissingTo"/> are the heights that were acknowledged and are gone. The way back is in the message:
/// <c>smartcity store repair</c> moves the damaged bytes to a side file (never deleting them) and opens the store at
/// its last intact block, after which the missing blocks are fetched again from peers.
/// </summary>
public sealed class AcknowledgedBlocksMissingException : StoreCorruptedException
{
    public AcknowledgedBlocksMissingException()
    {
    }

    public AcknowledgedBlocksMissingException(string message)
        : base(message)
    {
    }

    public AcknowledgedBlocksMissingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public AcknowledgedBlocksMissingException(long missingFrom, long missingTo, string message)
        : base(message)
    {
        MissingFrom = missingFrom;
        MissingTo = missingTo;
    }

    /// <summary>The lowest acknowledged height that is missing.</summary>
    public long MissingFrom { get; }

    /// <summary>The highest acknowledged height (what the store had promised).</summary>
    public long MissingTo { get; }
}

/// <summary>
/// The store instance hit a failure after which its view of the disk cannot be trusted (a failed fsync: the kernel may
/// already have dropped the unwritten pages and cleared the error). Every later write is refused; reopening the store
/// runs recovery from what is really on disk. Nothing acknowledged is lost: the block whose flush failed was never
/// acknowledged.
/// </summary>
public sealed class StoreFailedException : StoreException
{
    public StoreFailedException()
    {
    }

    public StoreFailedException(string message)
        : base(message)
    {
    }

    public StoreFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
