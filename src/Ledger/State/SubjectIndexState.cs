using System.Buffers.Binary;
using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.State;

/// <summary>
/// The value of <c>subject/{subject}</c>: a summary of every credit record and list entry about the subject, in the
/// order they were first written, and the texts they cite, kept current by the state machine
/// (<c>CreditStateMachine.SubjectIndex.cs</c>). It is part of the certified state (so it is in the state root and
/// provable like any key) and holds everything the trust score needs of the subject's own records and entries, so a
/// score reads one key instead of one per record. The summaries are fixed-width and refer to their texts (legal bases,
/// list types, regions) by position in <see cref="Texts"/>, so a reader walks the value without decoding it into
/// objects (<see cref="SubjectIndexView"/>).
/// </summary>
/// <remarks>
/// Encoding: u32 record count, the records (<see cref="RecordSummary.EncodedSize"/> bytes each), u32 entry count, the
/// entries (<see cref="ListEntrySummary.EncodedSize"/> bytes each), u32 text count, the texts (u32 length + UTF-8).
/// <see cref="Texts"/> holds exactly the distinct texts the summaries refer to, in the order they are first referred to
/// (records, then entries as type, legal basis, region), so equal contents have equal bytes.
/// </remarks>
public sealed record SubjectIndexState(IReadOnlyList<RecordSummary> Records, IReadOnlyList<ListEntrySummary> Entries, IReadOnlyList<string> Texts) : IStateValue
{
    public static SubjectIndexState Empty { get; } = new([], [], []);

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

        writer.UInt32("textCount", (uint)Texts.Count);
        foreach (var text in Texts)
        {
            writer.String("text", text);
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

        var texts = new List<string>();
        for (var i = reader.UInt32("textCount"); i > 0 && !Failed(reader); i--)
        {
            texts.Add(reader.String("text"));
        }

        return new SubjectIndexState(records, entries, texts);
    }

    /// <summary>This index with <paramref name="record"/> (citing <paramref name="legalBasis"/>) replacing the summary of the same id, or appended.</summary>
    public SubjectIndexState With(RecordSummary record, string legalBasis)
    {
        // Every credit record a block applies comes through here: plain arrays and loops, no iterator chain.
        var records = new (RecordSummary Summary, string Basis)[Records.Count + 1];
        var count = 0;
        var replaced = false;
        foreach (var r in Records)
        {
            var isThis = !replaced && r.RecordId == record.RecordId;
            records[count++] = isThis ? (record, legalBasis) : (r, Texts[(int)r.LegalBasisText]);
            replaced |= isThis;
        }

        if (!replaced)
        {
            records[count++] = (record, legalBasis);
        }

        var entries = new (ListEntrySummary Summary, string Type, string Basis, string Region)[Entries.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var e = Entries[i];
            entries[i] = (e, Texts[(int)e.ListTypeText], Texts[(int)e.LegalBasisText], Texts[(int)e.RegionText]);
        }

        return Build(records.AsSpan(0, count), entries);
    }

    /// <summary>This index with <paramref name="entry"/> and its texts replacing the summary of the same id, or appended.</summary>
    public SubjectIndexState With(ListEntrySummary entry, string listType, string legalBasis, string region)
    {
        var entries = Entries.Select(e => (Summary: e, Type: Texts[(int)e.ListTypeText], Basis: Texts[(int)e.LegalBasisText], Region: Texts[(int)e.RegionText])).ToList();
        var at = entries.FindIndex(e => e.Summary.EntryId == entry.EntryId);
        if (at < 0)
        {
            entries.Add((entry, listType, legalBasis, region));
        }
        else
        {
            entries[at] = (entry, listType, legalBasis, region);
        }

        return Build([.. Records.Select(r => (r, Texts[(int)r.LegalBasisText]))], [.. entries]);
    }

    public bool Equals(SubjectIndexState? other)
        => other is not null && Records.SequenceEqual(other.Records) && Entries.SequenceEqual(other.Entries) && Texts.SequenceEqual(other.Texts, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Records.Count, Entries.Count, Texts.Count);

    /// <summary>The canonical index of these summaries and texts: the text table rebuilt, so no text is kept that nothing cites.</summary>
    private static SubjectIndexState Build(ReadOnlySpan<(RecordSummary Summary, string Basis)> records, ReadOnlySpan<(ListEntrySummary Summary, string Type, string Basis, string Region)> entries)
    {
        var texts = new List<string>();
        var positions = new Dictionary<string, uint>(StringComparer.Ordinal);
        uint Cite(string text)
        {
            if (!positions.TryGetValue(text, out var position))
            {
                position = (uint)texts.Count;
                positions[text] = position;
                texts.Add(text);
            }

            return position;
        }

        var recordSummaries = new RecordSummary[records.Length];
        for (var i = 0; i < records.Length; i++)
        {
            recordSummaries[i] = records[i].Summary with { LegalBasisText = Cite(records[i].Basis) };
        }

        var entrySummaries = new ListEntrySummary[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            var (summary, type, basis, region) = entries[i];
            entrySummaries[i] = summary with { ListTypeText = Cite(type), LegalBasisText = Cite(basis), RegionText = Cite(region) };
        }

        return new SubjectIndexState(recordSummaries, entrySummaries, texts);
    }

    private static bool Failed(IFieldReader reader) => reader is CanonicalReader { Failed: true };
}

/// <summary>
/// What scoring needs of one credit record, as of its current version. <see cref="RecordKey"/> is the hashed state key
/// <c>record/{id}</c>; <see cref="Grade"/> the tax grade's letter as an ASCII byte (0 for other categories);
/// <see cref="RepairEligibleAt"/> when the designator may repair it (0 when it is not repairable: not a penalty);
/// <see cref="LegalBasisText"/> the position of its legal basis in <see cref="SubjectIndexState.Texts"/>; the open
/// objection (zero when none) with when it was filed and when its answer is due.
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
    uint LegalBasisText,
    Hash256 OpenObjection,
    ulong ObjectionFiledAt,
    ulong ObjectionDueAt)
{
    /// <summary>32 + 32 + 1 + 1 + 1 + 1 + 8 + 4 + 8 + 20 + 4 + 32 + 8 + 8.</summary>
    public const int EncodedSize = 160;

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
        writer.UInt32("legalBasisText", LegalBasisText);
        writer.Bytes32("openObjection", OpenObjection);
        writer.UInt64("objectionFiledAt", ObjectionFiledAt);
        writer.UInt64("objectionDueAt", ObjectionDueAt);
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
        reader.UInt32("legalBasisText"),
        reader.Bytes32("openObjection"),
        reader.UInt64("objectionFiledAt"),
        reader.UInt64("objectionDueAt"));

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
        BinaryPrimitives.ReadUInt32BigEndian(bytes[108..]),
        new Hash256(bytes.Slice(112, 32)),
        BinaryPrimitives.ReadUInt64BigEndian(bytes[144..]),
        BinaryPrimitives.ReadUInt64BigEndian(bytes[152..]));
}

/// <summary>
/// What scoring needs of one list entry: whether it is active at a time, its colour and initiator, the positions of its
/// list type, legal basis and region in <see cref="SubjectIndexState.Texts"/>, and the hashed state keys of the entry
/// (<c>list/{id}</c>) and of the memoranda for its list (<c>memoranda/{colour}/{H(listType)}</c>).
/// </summary>
public readonly record struct ListEntrySummary(
    Hash256 EntryId,
    Hash256 EntryKey,
    ListColour Colour,
    ulong EffectiveFrom,
    ulong ExpiresAt,
    ulong RemovedAt,
    Hash256 MemorandaKey,
    Address Initiator,
    uint ListTypeText,
    uint LegalBasisText,
    uint RegionText)
{
    /// <summary>32 + 32 + 1 + 8 + 8 + 8 + 32 + 20 + 4 + 4 + 4.</summary>
    public const int EncodedSize = 153;

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
        writer.Address("initiator", Initiator);
        writer.UInt32("listTypeText", ListTypeText);
        writer.UInt32("legalBasisText", LegalBasisText);
        writer.UInt32("regionText", RegionText);
    }

    public static ListEntrySummary Read(IFieldReader reader) => new(
        reader.Bytes32("entryId"),
        reader.Bytes32("entryKey"),
        (ListColour)reader.UInt8("colour"),
        reader.UInt64("effectiveFrom"),
        reader.UInt64("expiresAt"),
        reader.UInt64("removedAt"),
        reader.Bytes32("memorandaKey"),
        reader.Address("initiator"),
        reader.UInt32("listTypeText"),
        reader.UInt32("legalBasisText"),
        reader.UInt32("regionText"));

    /// <summary>Reads one summary from exactly <see cref="EncodedSize"/> bytes, without allocating.</summary>
    public static ListEntrySummary Read(ReadOnlySpan<byte> bytes) => new(
        new Hash256(bytes[..32]),
        new Hash256(bytes.Slice(32, 32)),
        (ListColour)bytes[64],
        BinaryPrimitives.ReadUInt64BigEndian(bytes[65..]),
        BinaryPrimitives.ReadUInt64BigEndian(bytes[73..]),
        BinaryPrimitives.ReadUInt64BigEndian(bytes[81..]),
        new Hash256(bytes.Slice(89, 32)),
        new Address(bytes.Slice(121, Address.Size)),
        BinaryPrimitives.ReadUInt32BigEndian(bytes[141..]),
        BinaryPrimitives.ReadUInt32BigEndian(bytes[145..]),
        BinaryPrimitives.ReadUInt32BigEndian(bytes[149..]));
}

/// <summary>
/// A subject index read in place: the summaries are decoded one at a time from the value's bytes, and a text only when
/// asked for, so walking the index allocates nothing. <see cref="TryParse"/> checks the layout; a value that does not
/// parse is corrupt state.
/// </summary>
public readonly ref struct SubjectIndexView
{
    private readonly ReadOnlySpan<byte> _records;
    private readonly ReadOnlySpan<byte> _entries;
    private readonly ReadOnlySpan<byte> _texts;

    private SubjectIndexView(ReadOnlySpan<byte> records, ReadOnlySpan<byte> entries, ReadOnlySpan<byte> texts, int textCount)
    {
        _records = records;
        _entries = entries;
        _texts = texts;
        TextCount = textCount;
    }

    public int RecordCount => _records.Length / RecordSummary.EncodedSize;

    public int EntryCount => _entries.Length / ListEntrySummary.EncodedSize;

    public int TextCount { get; }

    public RecordSummary Record(int index) => RecordSummary.Read(_records.Slice(index * RecordSummary.EncodedSize, RecordSummary.EncodedSize));

    public ListEntrySummary Entry(int index) => ListEntrySummary.Read(_entries.Slice(index * ListEntrySummary.EncodedSize, ListEntrySummary.EncodedSize));

    /// <summary>The UTF-8 bytes of text <paramref name="position"/> (a position a summary holds).</summary>
    public ReadOnlySpan<byte> Text(uint position)
    {
        if (position >= (uint)TextCount)
        {
            throw new InvalidDataException($"a summary cites text {position} of a subject index holding {TextCount}");
        }

        var rest = _texts;
        for (var i = 0u; ; i++)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(rest);
            if (i == position)
            {
                return rest.Slice(4, length);
            }

            rest = rest[(4 + length)..];
        }
    }

    /// <summary>Parses the value of <c>subject/{subject}</c>; an absent key (empty value) is the empty index.</summary>
    public static bool TryParse(ReadOnlySpan<byte> value, out SubjectIndexView view)
    {
        view = default;
        if (value.IsEmpty)
        {
            return true;
        }

        if (!TryCount(value, 0, RecordSummary.EncodedSize, out var recordBytes) || !TryCount(value, 4 + recordBytes, ListEntrySummary.EncodedSize, out var entryBytes))
        {
            return false;
        }

        var records = value.Slice(4, recordBytes);
        var entries = value.Slice(8 + recordBytes, entryBytes);
        value = value[(8 + recordBytes + entryBytes)..];
        if (value.Length < 4)
        {
            return false;
        }

        var textCount = BinaryPrimitives.ReadUInt32BigEndian(value);
        var texts = value[4..];
        var rest = texts;
        for (var i = 0u; i < textCount; i++)
        {
            if (rest.Length < 4 || BinaryPrimitives.ReadUInt32BigEndian(rest) > (uint)(rest.Length - 4))
            {
                return false;
            }

            rest = rest[(4 + (int)BinaryPrimitives.ReadUInt32BigEndian(rest))..];
        }

        if (!rest.IsEmpty || textCount > int.MaxValue)
        {
            return false;
        }

        view = new SubjectIndexView(records, entries, texts, (int)textCount);
        return true;
    }

    /// <summary>Reads the u32 count at <paramref name="at"/>: how many bytes its items of <paramref name="size"/> take, if they fit.</summary>
    private static bool TryCount(ReadOnlySpan<byte> value, int at, int size, out int bytes)
    {
        bytes = 0;
        if (value.Length - at < 4)
        {
            return false;
        }

        var length = (long)BinaryPrimitives.ReadUInt32BigEndian(value[at..]) * size;
        if (length > value.Length - at - 4)
        {
            return false;
        }

        bytes = (int)length;
        return true;
    }
}

/// <summary>
/// The value of <c>memoranda/{colour}/{H(listType)}</c>: the memoranda for that list, in publication order, each as its
/// id and its hashed state key <c>memo/{id}</c> (hashed in the chain's suite). Encoding: u32 count, then 64 bytes a
/// memorandum.
/// </summary>
public sealed record MemorandumListState(IReadOnlyList<Hash256> Ids, IReadOnlyList<Hash256> Keys) : IStateValue
{
    public const int EntrySize = 2 * Hash256.Size;

    public void WriteFields(IFieldWriter writer)
    {
        writer.UInt32("count", (uint)Ids.Count);
        if (Keys.Count != Ids.Count)
        {
            throw new InvalidOperationException("a memorandum list has one state key per id");
        }

        for (var i = 0; i < Ids.Count; i++)
        {
            writer.Bytes32("memorandumId", Ids[i]);
            writer.Bytes32("memorandumKey", Keys[i]);
        }
    }

    public static MemorandumListState Read(IFieldReader reader)
    {
        var count = reader.UInt32("count");
        var ids = new List<Hash256>();
        var keys = new List<Hash256>();
        for (var i = 0u; i < count && reader is not CanonicalReader { Failed: true }; i++)
        {
            ids.Add(reader.Bytes32("memorandumId"));
            keys.Add(reader.Bytes32("memorandumKey"));
        }

        return new MemorandumListState(ids, keys);
    }

    public bool Equals(MemorandumListState? other) => other is not null && Ids.SequenceEqual(other.Ids) && Keys.SequenceEqual(other.Keys);

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
