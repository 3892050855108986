using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.Score;

/// <summary>
/// A subject's trust score as of one certified block, with everything needed to understand and contest it:
/// the score and band, the model version, the block it was computed at (height, header hash, block time), how many
/// records counted and why the others did not, the active list entries with the measures they trigger, the top
/// reasons, the disputed records (shown, not counted) and the objection / human-review notice.
/// </summary>
/// <param name="Subject">Who is scored: a legal person by its USCC, a natural person by its keyed-hash subject key only.</param>
/// <param name="Score">clamp(<see cref="ScoreModel.MinScore"/>, <see cref="ScoreModel.MaxScore"/>, <see cref="RawPoints"/>).</param>
/// <param name="RawPoints">The base plus every record's and the clean years' points, before clamping.</param>
/// <param name="Band">From the score, except that an active black-list entry caps it at D.</param>
/// <param name="Listed">The LISTED flag: at least one black-list entry is active at the block time.</param>
/// <param name="ModelVersion">The <see cref="ScoreModel.Version"/> that computed it.</param>
/// <param name="Height">The block whose state was scored.</param>
/// <param name="HeaderHash">That block's header hash (its certificate seals it).</param>
/// <param name="AsOf">That block's time: every period and decay is measured to it.</param>
/// <param name="BasePoints">The model's base (700 in v1).</param>
/// <param name="Counts">How many records counted, and why the others did not.</param>
/// <param name="Reasons">At most <see cref="ScoreModel.MaxReasons"/>: L01 first when listed, then the largest effects.</param>
/// <param name="OtherPoints">The points of the reasons not shown, so that base + shown + other = raw points.</param>
/// <param name="ListEntries">Red- and black-list entries active at the block time.</param>
/// <param name="Disputed">Records under an open objection: shown, not counted.</param>
/// <param name="Notice">The objection and human-review notice, in Chinese and English.</param>
public sealed record TrustScore(
    Subject Subject,
    int Score,
    ScoreBand Band,
    bool Listed,
    string ModelVersion,
    long Height,
    Hash256 HeaderHash,
    DateTimeOffset AsOf,
    int BasePoints,
    int RawPoints,
    int OtherPoints,
    ScoreCounts Counts,
    IReadOnlyList<ScoreReason> Reasons,
    IReadOnlyList<ActiveListEntry> ListEntries,
    IReadOnlyList<DisputedRecord> Disputed,
    ScoreNotice Notice);

/// <summary>How many of the subject's records counted, and why each of the others did not.</summary>
/// <param name="Included">Published and counted (a tax grade M counts with 0 points).</param>
/// <param name="Disputed">Under an open objection: shown in <see cref="TrustScore.Disputed"/>, counted 0.</param>
/// <param name="Repaired">Repaired by their designator (信用修复).</param>
/// <param name="Expired">Past their publication period.</param>
/// <param name="Annulled">Annulled by their designator.</param>
/// <param name="NotPublished">Never published (a warning, publication period 0).</param>
/// <param name="Superseded">Tax grades replaced by a later published grade.</param>
/// <param name="NotScored">Records of a kind this model version does not score (kinds added to the ledger after it).</param>
public readonly record struct ScoreCounts(int Included, int Disputed, int Repaired, int Expired, int Annulled, int NotPublished, int Superseded, int NotScored)
{
    public int Excluded => Disputed + Repaired + Expired + Annulled + NotPublished + Superseded + NotScored;

    public int Total => Included + Excluded;
}

/// <summary>
/// One reason: the records of one kind from one member under one legal basis, with their points together.
/// For <see cref="ReasonCode.CleanYears"/> there are no records; for <see cref="ReasonCode.BlackListed"/> the
/// <see cref="RecordIds"/> are the active black-list entries and the member and legal basis are the first entry's.
/// </summary>
/// <param name="Code">The reason code.</param>
/// <param name="Text">Its short code (e.g. N03) and its text in Chinese and English.</param>
/// <param name="Points">The points these records move the score by (negative lowers it).</param>
/// <param name="RecordIds">The records (or list entries) behind the reason, in the order they were recorded.</param>
/// <param name="SourceMember">The member that designated the records (its name and code are <c>member/{address}</c> in the state).</param>
/// <param name="LegalBasis">The legal basis the member cited.</param>
/// <param name="RepairEligibleAt">The earliest date from which the designator may repair one of these records (信用修复);
/// null when none can be repaired (only administrative penalties can).</param>
public sealed record ScoreReason(
    ReasonCode Code,
    ReasonText Text,
    int Points,
    IReadOnlyList<Hash256> RecordIds,
    Address SourceMember,
    string LegalBasis,
    DateTimeOffset? RepairEligibleAt);

/// <summary>A red- or black-list entry active at the block time, and what the memoranda in force make of it.</summary>
public sealed record ActiveListEntry(
    Hash256 EntryId,
    ListColour Colour,
    string ListType,
    string LegalBasis,
    string Region,
    Address Initiator,
    DateTimeOffset EffectiveFrom,
    DateTimeOffset? ExpiresAt,
    IReadOnlyList<TriggeredMeasures> Measures);

/// <summary>The measures one memorandum in force attaches to a list entry, and the regions where they apply.</summary>
public sealed record TriggeredMeasures(Hash256 MemorandumId, string Title, IReadOnlyList<string> Measures, IReadOnlyList<string> Regions);

/// <summary>A record under an open objection: shown, not counted, until its designator answers.</summary>
/// <param name="RecordId">The disputed record.</param>
/// <param name="WouldCountAs">The reason it would count under if the objection is not upheld (null for a kind the model does not score).</param>
/// <param name="SourceMember">The member that designated it and must answer.</param>
/// <param name="ObjectionId">The open objection.</param>
/// <param name="FiledAt">When the objection was filed.</param>
/// <param name="AnswerDueBy">When the answer is due (20 days after filing).</param>
/// <param name="Overdue">The answer is late (past the deadline at the block time).</param>
public sealed record DisputedRecord(Hash256 RecordId, ReasonText? WouldCountAs, Address SourceMember, Hash256 ObjectionId, DateTimeOffset FiledAt, DateTimeOffset AnswerDueBy, bool Overdue);
