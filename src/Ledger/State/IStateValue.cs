using SmartCity.Ledger.Codec;

namespace SmartCity.Ledger.State;

/// <summary>A value stored in state, encoded canonically from its fields.</summary>
public interface IStateValue
{
    void WriteFields(IFieldWriter writer);
}

public static class StateValue
{
    public static byte[] Encode(IStateValue value)
    {
        var writer = new CanonicalWriter();
        value.WriteFields(writer);
        return writer.ToArray();
    }

    /// <summary>Decodes a value this machine wrote; a value that does not decode is corrupt state, a bug, so it throws.</summary>
    public static T Decode<T>(byte[] bytes, Func<IFieldReader, T> read)
    {
        var reader = new CanonicalReader(bytes);
        var value = read(reader);
        return reader.Finish() ? value : throw new InvalidDataException($"corrupt {typeof(T).Name} in state: {reader.Error}");
    }

    /// <summary>
    /// Decodes a value that came from outside (a receipt, a peer): false with the reason when the bytes are not one
    /// canonical <typeparamref name="T"/>. Never throws for bad bytes.
    /// </summary>
    public static bool TryDecode<T>(ReadOnlyMemory<byte> bytes, Func<IFieldReader, T> read, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? value, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(read);
        var reader = new CanonicalReader(bytes);
        var decoded = read(reader);
        if (reader.Finish())
        {
            value = decoded;
            error = null;
            return true;
        }

        value = null;
        error = reader.Error!;
        return false;
    }

    public static T? Read<T>(this IStateReader state, StateKey key, Func<IFieldReader, T> read)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(state);
        var hash = key.HashIn(state.Suite);
        if (state is StateOverlay overlay && overlay.TryGetDecoded<T>(hash, out var written))
        {
            return written; // the object this transaction wrote: its bytes are its encoding (StateValue.Encode)
        }

        return state.Get(hash) is { } bytes ? Decode(bytes, read) : null;
    }
}

/// <summary>Recorded status of a credit record (publication expiry is computed from block time).</summary>
public enum RecordStatus : byte
{
    Active = 1,
    Repaired = 2,
    Annulled = 3,
}

/// <summary>GB/T 36901-36906 licence status codes.</summary>
public enum LicenceStatus : byte
{
    Valid = 1,
    Suspended = 2,
    Revoked = 3,
    Cancelled = 4,
    Expired = 5,
    TransferredOut = 6,
    RevokedAsPenalty = 7,
    Other = 99,
}

public enum ProposalStatus : byte
{
    Open = 1,
    Executed = 2,
    Rejected = 3,
}

/// <summary>What the public sees of a record at a given time: a pure function of the record and block time.</summary>
public enum PublicationStatus
{
    Published,
    Disputed,
    NotPublished,
    Expired,
    Repaired,
    Annulled,
}
