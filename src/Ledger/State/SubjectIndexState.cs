using System.Buffers.Binary;
using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.State;

/// <summary>
/// The value of <c>subject/{subject}</c>: a summary of every credit record and list entry about the subject, in the
/// order they were first written, kept current by the state machine (<c>CreditStateMachine.SubjectIndex.cs</c>).
/// It is part of the certified state (so it is in the state root and provable like any key) and holds what the trust
/// score needs, so a score reads one key instead of one per record. Fixed-width entries, so a reader can walk the
/// value without decoding it into objects (<see cref="SubjectIndexView"/>).
/// </summary>
/// <remarks>Encoding: u32 record count, the records (<see cref="RecordSummary.EncodedSize"/> bytes each), u32 entry
/// count, the entries (<see cref="ListEntrySummary.EncodedSize"/> bytes each).</remarks>
public sealed record SubjectIndexState(IReadOnlyList<RecordSummary> Records, IReadOnlyList<ListEntrySummary> Entries) : IStateValue
{
    public static SubjectIndexState Empty { get; } = new([], []);

    public void WriteFields(IFieldWriter writer)
    {
        writer.UInt32("recordCount", (uint)Records.Count);
        foreach (var record in Records)
        {
            record.WriteFields(writer);
        }

        writer.UInt32("entryCount", (uint)Entries.Count);
        foreach (var entry in Entries)
        {
            entry.WriteFields(writer);
        }
    }

    public static SubjectIndexState Read(IFieldReader reader)
    {
        var records = new List<RecordSummary>();
        for (var i = reader.UInt32("recordCount"); i > 0 && !Failed(reader); i--)
        {
            records.Add(RecordSummary.Read(reader));
        }

        var entries = new List<ListEntrySummary>();
        for (var i = reader.UInt32("entryCount"); i > 0 && !Failed(reader); i--)
        {
            entries.Add(ListEntrySummary.Read(reader));
        }

        return new SubjectIndexState(records, entries);
    }

    /// <summary>This index with <paramref name="record"/> replacing the summary of the same id, or appended.</summary>
    public SubjectIndexState With(RecordSummary record)
    {
        var records = Records.ToList();
        var at = records.FindIndex(r => r.RecordId == record.RecordId);
        if (at < 0)
        {
            records.Add(record);
        }
        else
        {
            records[at] = record;
        }

        return this with { Records = records };
    }

    /// <summary>This index with <paramref name="entry"/> replacing the summary of the same id, or appended.</summary>
    public SubjectIndexState With(ListEntrySummary entry)
    {
        var entries = Entries.ToList();
        var at = entries.FindIndex(e => e.EntryId == entry.EntryId);
        if (at < 0)
        {
            entries.Add(entry);
        }
        else
        {
            entries[at] = entry;
        }

        return this with { Entries = entries };
    }

    public bool Equals(SubjectIndexState? other)
        => other is not null && Records.SequenceEqual(other.Records) && Entries.SequenceEqual(other.Entries);

    public override int GetHashCode() => HashCode.Combine(Records.Count, Entries.Count);

    private static bool Failed(IFieldReader reader) => reader is CanonicalReader { Failed: true };
}

/// <summary>
/// What scoring needs of one credit record, as of its current version: everything but the texts. The legal basis is
/// kept as its Keccak-256 (to group a subject's records by it; the text is read from <c>record/{id}</c> when shown).
/// <see cref="RepairEligibleAt"/> is when the designator may repair it (0 when it is not repairable: not a penalty).
/// <see cref="Grade"/> is the tax grade's letter as an ASCII byte, 0 for other categories. <see cref="RecordKey"/> is the
/// hashed state key <c>record/{id}</c>, kept so a reader does not hash the key text again.
/// </summary>
public readonly record struct RecordSummary(
    Hash256 RecordId,
    Hash256 RecordKey,
    RecordCategory Category,
    Severity Severity,
    byte Grade,
    RecordStatus Status,
    ulong DecidedAt,
    uint PublicationMonths,
    ulong RepairEligibleAt,
    Address Designator,
    Hash256 LegalBasisHash,
    Hash256 OpenObjection)
{
    /// <summary>32 + 32 + 1 + 1 + 1 + 1 + 8 + 4 + 8 + 20 + 32 + 32.</summary>
    public const int EncodedSize = 172;

    public ulong PublicationEndsAt => LedgerTime.AddMonths(DecidedAt, (int)PublicationMonths);

    /// <summary>The same answer as <see cref="CreditRecordState.PublicationStatusAt"/> for the record it summarises.</summary>
    public PublicationStatus PublicationStatusAt(ulong time)
        => Publication.StatusAt(Status, PublicationMonths, PublicationEndsAt, !OpenObjection.IsZero, time);

    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("recordId", RecordId);
        writer.Bytes32("recordKey", RecordKey);
        writer.UInt8("category", (byte)Category);
        writer.UInt8("severity", (byte)Severity);
        writer.UInt8("grade", Grade);
        writer.UInt8("status", (byte)Status);
        writer.UInt64("decidedAt", DecidedAt);
        writer.UInt32("publicationMonths", PublicationMonths);
        writer.UInt64("repairEligibleAt", RepairEligibleAt);
        writer.Address("designator", Designator);
        writer.Bytes32("legalBasisHash", LegalBasisHash);
        writer.Bytes32("openObjection", OpenObjection);
    }

    public static RecordSummary Read(IFieldReader reader) => new(
        reader.Bytes32("recordId"),
        reader.Bytes32("recordKey"),
        (RecordCategory)reader.UInt8("category"),
        (Severity)reader.UInt8("severity"),
        reader.UInt8("grade"),
        (RecordStatus)reader.UInt8("status"),
        reader.UInt64("decidedAt"),
        reader.UInt32("publicationMonths"),
        reader.UInt64("repairEligibleAt"),
        reader.Address("designator"),
        reader.Bytes32("legalBasisHash"),
        reader.Bytes32("openObjection"));

    /// <summary>Reads one summary from exactly <see cref="EncodedSize"/> bytes, without allocating.</summary>
    public static RecordSummary Read(ReadOnlySpan<byte> bytes) => new(
        new Hash256(bytes[..32]),
        new Hash256(bytes.Slice(32, 32)),
        (RecordCategory)bytes[64],
        (Severity)bytes[65],
        bytes[66],
        (RecordStatus)bytes[67],
        BinaryPrimitives.ReadUInt64BigEndian(bytes[68..]),
        BinaryPrimitives.ReadUInt32BigEndian(bytes[76..]),
        BinaryPrimitives.ReadUInt64BigEndian(bytes[80..]),
        new Address(bytes.Slice(88, Address.Size)),
        new Hash256(bytes.Slice(108, 32)),
        new Hash256(bytes.Slice(140, 32)));
}

/// <summary>
/// What scoring needs of one list entry: whether it is active at a time, its colour, and the hashed state keys of the
/// entry (<c>list/{id}</c>) and of the memoranda for its list (<c>memoranda/{colour}/{H(listType)}</c>).
/// </summary>
public readonly record struct ListEntrySummary(Hash256 EntryId, Hash256 EntryKey, ListColour Colour, ulong EffectiveFrom, ulong ExpiresAt, ulong RemovedAt, Hash256 MemorandaKey)
{
    /// <summary>32 + 32 + 1 + 8 + 8 + 8 + 32.</summary>
    public const int EncodedSize = 121;

    /// <summary>The same answer as <see cref="ListEntryState.IsActiveAt"/> for the entry it summarises.</summary>
    public bool IsActiveAt(ulong time) => Publication.IsListingActiveAt(EffectiveFrom, ExpiresAt, RemovedAt, time);

    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("entryId", EntryId);
        writer.Bytes32("entryKey", EntryKey);
        writer.UInt8("colour", (byte)Colour);
        writer.UInt64("effectiveFrom", EffectiveFrom);
        writer.UInt64("expiresAt", ExpiresAt);
        writer.UInt64("removedAt", RemovedAt);
        writer.Bytes32("memorandaKey", MemorandaKey);
    }

    public static ListEntrySummary Read(IFieldReader reader) => new(
        reader.Bytes32("entryId"),
        reader.Bytes32("entryKey"),
        (ListColour)reader.UInt8("colour"),
        reader.UInt64("effectiveFrom"),
        reader.UInt64("expiresAt"),
        reader.UInt64("removedAt"),
        reader.Bytes32("memorandaKey"));

    /// <summary>Reads one summary from exactly <see cref="EncodedSize"/> bytes, without allocating.</summary>
    public static ListEntrySummary Read(ReadOnlySpan<byte> bytes) => new(
        new Hash256(bytes[..32]),
        new Hash256(bytes.Slice(32, 32)),
        (ListColour)bytes[64],
        BinaryPrimitives.ReadUInt64BigEndian(bytes[65..]),
        BinaryPrimitives.ReadUInt64BigEndian(bytes[73..]),
        BinaryPrimitives.ReadUInt64BigEndian(bytes[81..]),
        new Hash256(bytes.Slice(89, 32)));
}

/// <summary>
/// A subject index read in place: the summaries are decoded one at a time from the value's bytes, so walking the
/// index allocates nothing. <see cref="TryParse"/> checks the layout; a value that does not parse is corrupt state.
/// </summary>
public readonly ref struct SubjectIndexView
{
    private readonly ReadOnlySpan<byte> _records;
    private readonly ReadOnlySpan<byte> _entries;

    private SubjectIndexView(ReadOnlySpan<byte> records, ReadOnlySpan<byte> entries)
    {
        _records = records;
        _entries = entries;
    }

    public int RecordCount => _records.Length / RecordSummary.EncodedSize;

    public int EntryCount => _entries.Length / ListEntrySummary.EncodedSize;

    public RecordSummary Record(int index) => RecordSummary.Read(_records.Slice(index * RecordSummary.EncodedSize, RecordSummary.EncodedSize));

    public ListEntrySummary Entry(int index) => ListEntrySummary.Read(_entries.Slice(index * ListEntrySummary.EncodedSize, ListEntrySummary.EncodedSize));

    /// <summary>Parses the value of <c>subject/{subject}</c>; an absent key (empty value) is the empty index.</summary>
    public static bool TryParse(ReadOnlySpan<byte> value, out SubjectIndexView view)
    {
        view = default;
        if (value.IsEmpty)
        {
            return true;
        }

        if (value.Length < 8)
        {
            return false;
        }

        var records = BinaryPrimitives.ReadUInt32BigEndian(value);
        var recordBytes = (long)records * RecordSummary.EncodedSize;
        if (recordBytes > value.Length - 8)
        {
            return false;
        }

        var entries = BinaryPrimitives.ReadUInt32BigEndian(value[(4 + (int)recordBytes)..]);
        var entryBytes = (long)entries * ListEntrySummary.EncodedSize;
        if (4 + recordBytes + 4 + entryBytes != value.Length)
        {
            return false;
        }

        view = new SubjectIndexView(value.Slice(4, (int)recordBytes), value.Slice(8 + (int)recordBytes, (int)entryBytes));
        return true;
    }
}

/// <summary>
/// The value of <c>memoranda/{colour}/{H(listType)}</c>: the memoranda for that list, in publication order, each as its
/// id and its hashed state key <c>memo/{id}</c>. Encoding: u32 count, then 64 bytes a memorandum.
/// </summary>
public sealed record MemorandumListState(IReadOnlyList<Hash256> Ids) : IStateValue
{
    public const int EntrySize = 2 * Hash256.Size;

    public void WriteFields(IFieldWriter writer)
    {
        writer.UInt32("count", (uint)Ids.Count);
        foreach (var id in Ids)
        {
            writer.Bytes32("memorandumId", id);
            writer.Bytes32("memorandumKey", StateKeys.Memorandum(id).Hash);
        }
    }

    public static MemorandumListState Read(IFieldReader reader)
    {
        var count = reader.UInt32("count");
        var ids = new List<Hash256>();
        for (var i = 0u; i < count && reader is not CanonicalReader { Failed: true }; i++)
        {
            ids.Add(reader.Bytes32("memorandumId"));
            reader.Bytes32("memorandumKey");
        }

        return new MemorandumListState(ids);
    }

    public bool Equals(MemorandumListState? other) => other is not null && Ids.SequenceEqual(other.Ids);

    public override int GetHashCode() => Ids.Count;
}

/// <summary>
/// The publication rules as pure functions of block time, shared by the full state values and their summaries so
/// the two can never disagree.
/// </summary>
public static class Publication
{
    public static PublicationStatus StatusAt(RecordStatus status, uint publicationMonths, ulong publicationEndsAt, bool disputed, ulong time) => status switch
    {
        RecordStatus.Annulled => PublicationStatus.Annulled,
        RecordStatus.Repaired => PublicationStatus.Repaired,
        _ when publicationMonths == 0 => PublicationStatus.NotPublished,
        _ when time >= publicationEndsAt => PublicationStatus.Expired,
        _ when disputed => PublicationStatus.Disputed,
        _ => PublicationStatus.Published,
    };

    public static bool IsListingActiveAt(ulong effectiveFrom, ulong expiresAt, ulong removedAt, ulong time)
        => removedAt == 0 && time >= effectiveFrom && (expiresAt == 0 || time < expiresAt);
}
