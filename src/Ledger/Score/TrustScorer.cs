using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Score;

/// <summary>
/// Model v1's arithmetic (docs/score.md): a pure function of the state committed by one block header and of that
/// block's time. It reads the subject's index (<c>subject/{subject}</c>, one key for all its records and list
/// entries) and then only what the answer shows: the legal basis of each reason, member names, the active list
/// entries, the memoranda for them and the open objections. Integers only; no clock, no randomness, no I/O.
/// </summary>
public sealed class TrustScorer
{
    private const long BasisPoints = 10_000;

    private static readonly string[] MemorandumTexts = ["title", "measures", "regions"];

    private readonly ScoreModel _model;

    public TrustScorer(ScoreModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <summary>The scorer of model v1.</summary>
    public static TrustScorer V1 { get; } = new(ScoreModels.V1);

    public ScoreModel Model => _model;

    /// <summary>
    /// The score of <paramref name="subject"/> in <paramref name="state"/>, the state committed by
    /// <paramref name="header"/> (its state root), as of the header's block time.
    /// </summary>
    /// <exception cref="InvalidDataException">The state holds a value the state machine cannot have written (a bug).</exception>
    public TrustScore Score(IStateReader state, BlockHeader header, Subject subject)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(header);
        if (subject.Text is null)
        {
            throw new ArgumentException("the subject is the default value", nameof(subject));
        }

        var now = LedgerTime.ToUnixSeconds(header.Timestamp);
        var indexValue = state.Get(ScoreKeys.SubjectIndex(subject, state.Suite));
        if (!SubjectIndexView.TryParse(indexValue, out var index))
        {
            throw new InvalidDataException($"corrupt subject index of {subject} in state");
        }

        var items = ArrayPool<Item>.Shared.Rent(index.RecordCount + 1);
        var groups = ArrayPool<Group>.Shared.Rent(index.RecordCount + 1);
        var disputed = ArrayPool<int>.Shared.Rent(index.RecordCount + 1);
        try
        {
            var tally = Count(index, now, items, disputed);
            var itemCount = tally.Items;
            var raw = _model.BasePoints + tally.Points + tally.CleanYearPoints;
            var score = Math.Clamp(raw, _model.MinScore, _model.MaxScore);

            var groupCount = GroupItems(items.AsSpan(0, itemCount), groups);
            if (tally.CleanYearPoints != 0)
            {
                groups[groupCount++] = new Group(-1, 0, ReasonCode.CleanYears, tally.CleanYearPoints, int.MaxValue, 0);
            }

            groups.AsSpan(0, groupCount).Sort(static (a, b) => CompareByEffect(a, b));

            var reader = new SelectiveFieldReader();
            var entries = ActiveEntries(state, index, now, reader);
            var listed = Array.Exists(entries, static e => e.Colour == ListColour.Black);
            var shown = Math.Min(groupCount, Math.Max(0, _model.MaxReasons - (listed ? 1 : 0)));
            var reasons = new ScoreReason[shown + (listed ? 1 : 0)];
            var at = 0;
            if (listed)
            {
                reasons[at++] = ListedReason(entries);
            }

            var shownPoints = 0;
            for (var g = 0; g < shown; g++)
            {
                reasons[at++] = Reason(index, groups[g], items);
                shownPoints += groups[g].Points;
            }

            var band = listed ? ScoreBand.D : _model.BandOf(score);
            return new TrustScore(
                subject,
                score,
                band,
                listed,
                _model.Version,
                header.Height,
                header.Hash,
                header.Timestamp,
                _model.BasePoints,
                raw,
                raw - _model.BasePoints - shownPoints,
                tally.Counts,
                reasons,
                entries,
                Disputed(index, disputed.AsSpan(0, tally.Counts.Disputed), now),
                _model.Notice);
        }
        finally
        {
            ArrayPool<Item>.Shared.Return(items);
            ArrayPool<Group>.Shared.Return(groups);
            ArrayPool<int>.Shared.Return(disputed);
        }
    }

    /// <summary>
    /// d in basis points, rounded down: (horizon − full months since <paramref name="decidedAt"/>) × 10,000 / horizon,
    /// floored at 0.
    /// </summary>
    public static long DecayBasisPoints(int horizonMonths, ulong decidedAt, ulong now)
    {
        if (horizonMonths <= 0)
        {
            return 0;
        }

        var age = Math.Min(FullMonthsBetween(decidedAt, now), horizonMonths);
        return (horizonMonths - age) * BasisPoints / horizonMonths;
    }

    /// <summary>
    /// A record's points: its weight × d (<see cref="DecayBasisPoints"/>) / 10,000, rounded to the nearest whole
    /// point with halves away from zero, so a penalty and a bonus of the same size round alike.
    /// </summary>
    public static int Points(RecordWeight weight, ulong decidedAt, ulong now) => PointsAtAge(weight, FullMonthsBetween(decidedAt, now));

    private static int PointsAtAge(RecordWeight weight, int ageMonths)
    {
        if (weight.Points == 0 || weight.HorizonMonths <= 0)
        {
            return 0;
        }

        var age = Math.Min(ageMonths, weight.HorizonMonths);
        var decay = (weight.HorizonMonths - age) * BasisPoints / weight.HorizonMonths;
        var magnitude = ((Math.Abs((long)weight.Points) * decay) + (BasisPoints / 2)) / BasisPoints;
        return (int)(weight.Points < 0 ? -magnitude : magnitude);
    }

    /// <summary><see cref="RecordSummary.PublicationStatusAt"/>, with the end of publication from the integer calendar.</summary>
    private static PublicationStatus StatusAt(in RecordSummary record, in ScoreCalendar.Civil decided, ulong now)
        => Publication.StatusAt(record.Status, record.PublicationMonths, ScoreCalendar.AddMonths(decided, (int)record.PublicationMonths), !record.OpenObjection.IsZero, now);

    /// <summary>Whole calendar months m with <c>AddMonths(from, m) ≤ to</c> (UTC), 0 when <paramref name="to"/> is not after <paramref name="from"/>.</summary>
    public static int FullMonthsBetween(ulong from, ulong to)
    {
        if (to <= from)
        {
            return 0;
        }

        var a = DateTimeOffset.FromUnixTimeSeconds((long)from);
        var b = DateTimeOffset.FromUnixTimeSeconds((long)to);
        var months = ((b.Year - a.Year) * 12) + b.Month - a.Month;
        return months > 0 && LedgerTime.AddMonths(from, months) > to ? months - 1 : months;
    }

    /// <summary>
    /// One pass over the index: the status of every record at <paramref name="now"/>, the points of those that count
    /// (into <paramref name="items"/>), the disputed ones (into <paramref name="disputed"/>) and the clean years.
    /// </summary>
    private Tally Count(SubjectIndexView index, ulong now, Item[] items, int[] disputed)
    {
        var today = ScoreCalendar.ToCivil(now);

        // Only the latest published tax grade counts; earlier ones are superseded.
        var latestTaxGrade = -1;
        ulong latestTaxGradeAt = 0;
        ulong historyStart = ulong.MaxValue;
        for (var i = 0; i < index.RecordCount; i++)
        {
            var record = index.Record(i);
            if (record.Status != RecordStatus.Annulled)
            {
                historyStart = Math.Min(historyStart, record.DecidedAt);
            }

            if (record.Category == RecordCategory.TaxGrade && StatusAt(record, ScoreCalendar.ToCivil(record.DecidedAt), now) == PublicationStatus.Published && record.DecidedAt >= latestTaxGradeAt)
            {
                (latestTaxGrade, latestTaxGradeAt) = (i, record.DecidedAt);
            }
        }

        int included = 0, disputes = 0, repaired = 0, expired = 0, annulled = 0, notPublished = 0, superseded = 0, notScored = 0;
        var count = 0;
        var points = 0;
        ulong lastNegative = 0;
        for (var i = 0; i < index.RecordCount; i++)
        {
            var record = index.Record(i);
            var decided = ScoreCalendar.ToCivil(record.DecidedAt);
            switch (StatusAt(record, decided, now))
            {
                case PublicationStatus.Disputed:
                    disputed[disputes++] = i;
                    continue;
                case PublicationStatus.Repaired:
                    repaired++;
                    continue;
                case PublicationStatus.Expired:
                    expired++;
                    continue;
                case PublicationStatus.Annulled:
                    annulled++;
                    continue;
                case PublicationStatus.NotPublished:
                    notPublished++;
                    continue;
            }

            if (ScoreModels.CodeOf(record.Category, record.Severity, record.Grade) is not { } code || !_model.Weights.TryGetValue(code, out var weight))
            {
                notScored++;
                continue;
            }

            if (record.Category == RecordCategory.TaxGrade && i != latestTaxGrade)
            {
                superseded++;
                continue;
            }

            included++;
            if (weight.Points < 0)
            {
                lastNegative = Math.Max(lastNegative, record.DecidedAt);
            }

            var recordPoints = PointsAtAge(weight, ScoreCalendar.FullMonthsBetween(record.DecidedAt, decided, now, today));
            points += recordPoints;
            if (recordPoints != 0)
            {
                items[count++] = new Item(i, code, recordPoints, record.Designator, record.LegalBasisText, record.RepairEligibleAt, record.RecordId);
            }
        }

        // A clean year: 12 full months, from the start of the subject's history (its first record that was not
        // annulled) or from its latest negative record that still counts, whichever is later.
        var cleanYears = historyStart == ulong.MaxValue ? 0 : Math.Min(FullMonthsBetween(Math.Max(historyStart, lastNegative), now) / 12, _model.MaxCleanYears);
        return new Tally(
            new ScoreCounts(included, disputes, repaired, expired, annulled, notPublished, superseded, notScored),
            count,
            points,
            cleanYears * _model.CleanYearPoints);
    }

    /// <summary>Groups the counted records by (code, designator, legal basis); returns how many groups.</summary>
    private static int GroupItems(Span<Item> items, Group[] groups)
    {
        items.Sort(static (a, b) =>
        {
            var c = ((byte)a.Code).CompareTo((byte)b.Code);
            c = c != 0 ? c : a.Designator.CompareTo(b.Designator);
            c = c != 0 ? c : a.LegalBasisText.CompareTo(b.LegalBasisText);
            return c != 0 ? c : a.Index.CompareTo(b.Index);
        });
        var count = 0;
        for (var start = 0; start < items.Length;)
        {
            var end = start;
            var points = 0;
            var repairAt = ulong.MaxValue;
            while (end < items.Length && items[end].Code == items[start].Code && items[end].Designator == items[start].Designator && items[end].LegalBasisText == items[start].LegalBasisText)
            {
                points += items[end].Points;
                if (items[end].RepairEligibleAt != 0)
                {
                    repairAt = Math.Min(repairAt, items[end].RepairEligibleAt);
                }

                end++;
            }

            groups[count++] = new Group(start, end - start, items[start].Code, points, items[start].Index, repairAt == ulong.MaxValue ? 0 : repairAt);
            start = end;
        }

        return count;
    }

    /// <summary>Largest effect first; at equal size a loss before a gain; then by code and by the first record.</summary>
    private static int CompareByEffect(in Group a, in Group b)
    {
        var c = Math.Abs(b.Points).CompareTo(Math.Abs(a.Points));
        c = c != 0 ? c : a.Points.CompareTo(b.Points);
        c = c != 0 ? c : ((byte)a.Code).CompareTo((byte)b.Code);
        return c != 0 ? c : a.FirstIndex.CompareTo(b.FirstIndex);
    }

    private ScoreReason Reason(SubjectIndexView index, in Group group, Item[] items)
    {
        var text = _model.TextOf(group.Code);
        if (group.Start < 0)
        {
            return new ScoreReason(group.Code, text, group.Points, [], Address.Zero, string.Empty, null);
        }

        var ids = new Hash256[group.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = items[group.Start + i].RecordId;
        }

        var first = items[group.Start];
        return new ScoreReason(
            group.Code,
            text,
            group.Points,
            ids,
            first.Designator,
            Encoding.UTF8.GetString(index.Text(first.LegalBasisText)),
            group.RepairEligibleAt == 0 ? null : FromSeconds(group.RepairEligibleAt));
    }

    /// <summary>L01: the active black-list entries, with the first one's initiator and legal basis.</summary>
    private ScoreReason ListedReason(ActiveListEntry[] entries)
    {
        var black = 0;
        foreach (var entry in entries)
        {
            black += entry.Colour == ListColour.Black ? 1 : 0;
        }

        var ids = new Hash256[black];
        ActiveListEntry? first = null;
        var at = 0;
        foreach (var entry in entries)
        {
            if (entry.Colour == ListColour.Black)
            {
                first ??= entry;
                ids[at++] = entry.EntryId;
            }
        }

        return new ScoreReason(ReasonCode.BlackListed, _model.TextOf(ReasonCode.BlackListed), 0, ids, first!.Initiator, first.LegalBasis, null);
    }

    /// <summary>The entries active at <paramref name="now"/>, in index order, with the measures of the memoranda in force.</summary>
    private static ActiveListEntry[] ActiveEntries(IStateReader state, SubjectIndexView index, ulong now, SelectiveFieldReader reader)
    {
        var active = 0;
        for (var i = 0; i < index.EntryCount; i++)
        {
            active += index.Entry(i).IsActiveAt(now) ? 1 : 0;
        }

        if (active == 0)
        {
            return [];
        }

        var entries = new ActiveListEntry[active];
        var inForce = new (Hash256 List, TriggeredMeasures[] Measures)[active];
        var lists = 0;
        var at = 0;
        for (var i = 0; i < index.EntryCount; i++)
        {
            var entry = index.Entry(i);
            if (!entry.IsActiveAt(now))
            {
                continue;
            }

            // Entries on the same list share its memoranda: read them once per answer.
            var list = Array.FindIndex(inForce, 0, lists, l => l.List == entry.MemorandaKey);
            if (list < 0)
            {
                inForce[lists] = (entry.MemorandaKey, InForce(state, entry.MemorandaKey, now, reader));
                list = lists++;
            }

            var region = Encoding.UTF8.GetString(index.Text(entry.RegionText));
            entries[at++] = new ActiveListEntry(
                entry.EntryId,
                entry.Colour,
                Encoding.UTF8.GetString(index.Text(entry.ListTypeText)),
                Encoding.UTF8.GetString(index.Text(entry.LegalBasisText)),
                region,
                entry.Initiator,
                FromSeconds(entry.EffectiveFrom),
                entry.ExpiresAt == 0 ? null : FromSeconds(entry.ExpiresAt),
                Covering(inForce[list].Measures, region));
        }

        return entries;
    }

    /// <summary>The memoranda of one list (<c>memoranda/{colour}/{H(listType)}</c>) in force at <paramref name="now"/>.</summary>
    private static TriggeredMeasures[] InForce(IStateReader state, in Hash256 listKey, ulong now, SelectiveFieldReader reader)
    {
        var list = state.Get(listKey);
        if (list is null)
        {
            return [];
        }

        var count = list.Length >= 4 ? (int)BinaryPrimitives.ReadUInt32BigEndian(list) : -1;
        if (count < 0 || list.Length != 4 + ((long)count * MemorandumListState.EntrySize))
        {
            throw new InvalidDataException($"corrupt memorandum list {listKey}");
        }

        TriggeredMeasures[]? found = null;
        var foundCount = 0;
        for (var i = 0; i < count; i++)
        {
            var at = 4 + (i * MemorandumListState.EntrySize);
            var id = new Hash256(list.AsSpan(at, Hash256.Size));
            var memorandum = reader.Read(Require(state, new Hash256(list.AsSpan(at + Hash256.Size, Hash256.Size)), "memorandum", id), MemorandumTexts, MemorandumState.Read);
            if (memorandum.IsInForceAt(now))
            {
                found ??= new TriggeredMeasures[count];
                found[foundCount++] = new TriggeredMeasures(id, memorandum.Title, memorandum.Measures, memorandum.Regions);
            }
        }

        return found is null ? [] : foundCount == found.Length ? found : found[..foundCount];
    }

    /// <summary>Those of <paramref name="inForce"/> that cover <paramref name="region"/> (cross-region mutual recognition).</summary>
    private static TriggeredMeasures[] Covering(TriggeredMeasures[] inForce, string region)
    {
        var covering = 0;
        foreach (var memorandum in inForce)
        {
            covering += Contains(memorandum.Regions, region) ? 1 : 0;
        }

        if (covering == inForce.Length)
        {
            return inForce;
        }

        var result = new TriggeredMeasures[covering];
        var at = 0;
        foreach (var memorandum in inForce)
        {
            if (Contains(memorandum.Regions, region))
            {
                result[at++] = memorandum;
            }
        }

        return result;
    }

    private DisputedRecord[] Disputed(SubjectIndexView index, ReadOnlySpan<int> disputed, ulong now)
    {
        if (disputed.IsEmpty)
        {
            return [];
        }

        var records = new DisputedRecord[disputed.Length];
        for (var i = 0; i < disputed.Length; i++)
        {
            var record = index.Record(disputed[i]);
            records[i] = new DisputedRecord(
                record.RecordId,
                ScoreModels.CodeOf(record.Category, record.Severity, record.Grade) is { } code ? _model.Reasons.GetValueOrDefault(code) : null,
                record.Designator,
                record.OpenObjection,
                FromSeconds(record.ObjectionFiledAt),
                FromSeconds(record.ObjectionDueAt),
                now > record.ObjectionDueAt);
        }

        return records;
    }

    private static bool Contains(IReadOnlyList<string> values, string value)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (values[i] == value)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A key the subject's index says exists; its absence is corrupt state.</summary>
    private static byte[] Require(IStateReader state, in Hash256 key, string what, in Hash256 id)
        => state.Get(key) ?? throw new InvalidDataException($"the subject index names {what} {id}, which is not in the state");

    private static DateTimeOffset FromSeconds(ulong seconds) => DateTimeOffset.FromUnixTimeSeconds((long)seconds);

    /// <summary>One counted record with points: where it is in the index, its reason code and its grouping key.</summary>
    private readonly record struct Item(int Index, ReasonCode Code, int Points, Address Designator, uint LegalBasisText, ulong RepairEligibleAt, Hash256 RecordId);

    /// <summary>Items [Start, Start + Count) share a reason; Start −1 is the clean-year bonus.</summary>
    private readonly record struct Group(int Start, int Count, ReasonCode Code, int Points, int FirstIndex, ulong RepairEligibleAt);

    private readonly record struct Tally(ScoreCounts Counts, int Items, int Points, int CleanYearPoints);
}
