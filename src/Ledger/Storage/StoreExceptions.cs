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
public sealed class StoreCorruptedException : StoreException
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
