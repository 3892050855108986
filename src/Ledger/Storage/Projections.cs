using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage;

/// <summary>
/// The query rows one block produces. Each row has an identity (named in its doc) and a store upserts by it: the
/// row written by the later block (or later in the same list) replaces the earlier one. Codes (kind, status…) are
/// the domain's numeric codes; the store only filters and orders by them. A subject is the Unified Social Credit
/// Code of a legal person or the 0x-hex subject key of a natural person.
/// </summary>
public sealed record ProjectionRows(
    IReadOnlyList<CreditRecordRow> CreditRecords,
    IReadOnlyList<LicenceRow> Licences,
    IReadOnlyList<ListEntryRow> ListEntries,
    IReadOnlyList<MemorandumRow> Memoranda,
    IReadOnlyList<MeasureApplicationRow> MeasureApplications)
{
    public static ProjectionRows Empty { get; } = new([], [], [], [], []);

    public int Count => CreditRecords.Count + Licences.Count + ListEntries.Count + Memoranda.Count + MeasureApplications.Count;
}

/// <summary>A credit record's current form; identity <see cref="RecordId"/>.</summary>
public sealed record CreditRecordRow(
    string RecordId,
    string Subject,
    Hash256 TxHash,
    long Height,
    short Kind,
    short Status,
    short Severity,
    Address DesignatingMember,
    long PublishedAt,
    long ExpiresAt);

/// <summary>
/// One version of an e-licence; identity (<see cref="Identifier"/>, <see cref="Version"/>).
/// <see cref="PreviousTxHash"/> is the transaction that wrote the previous version, zero for version 1.
/// </summary>
public sealed record LicenceRow(
    string Identifier,
    int Version,
    string HolderCode,
    short Status,
    Address Issuer,
    Hash256 TxHash,
    Hash256 PreviousTxHash,
    long Height,
    long ValidUntil);

/// <summary>A red- or black-list entry; identity <see cref="EntryId"/>.</summary>
public sealed record ListEntryRow(
    string EntryId,
    string Subject,
    short ListKind,
    short Status,
    Address ListedBy,
    Hash256 TxHash,
    long Height,
    long ListedAt,
    long ExpiresAt);

/// <summary>
/// A published memorandum (which lists trigger which measures where); identity <see cref="MemorandumId"/>.
/// <see cref="Rules"/> are the memorandum's canonical rule bytes, opaque to the store.
/// </summary>
public sealed record MemorandumRow(
    string MemorandumId,
    string Title,
    Address Publisher,
    Hash256 TxHash,
    long Height,
    ReadOnlyMemory<byte> Rules);

/// <summary>An implementer's feedback on applying a measure; identity <see cref="ApplicationId"/>.</summary>
public sealed record MeasureApplicationRow(
    string ApplicationId,
    string MemorandumId,
    string EntryId,
    string Subject,
    short Measure,
    short Outcome,
    Address Implementer,
    Hash256 TxHash,
    long Height);
