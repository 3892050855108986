using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.Score;

/// <summary>
/// A trust-score model as data: its version, the points and decay horizon of each kind of record, the clean-year
/// bonus, the bands, the reason texts and the notice. The arithmetic that uses them is <see cref="TrustScorer"/>.
/// A published version is never edited: a new model is a new <see cref="ScoreModel"/> with a new
/// <see cref="Version"/> (and, if its rules differ and not only its numbers, a new scorer), so every answer ever
/// given under a version can be given again (docs/score.md).
/// </summary>
public sealed record ScoreModel
{
    /// <summary>Written into every answer, e.g. <c>trust-v1</c>.</summary>
    public required string Version { get; init; }

    public required int BasePoints { get; init; }

    public required int MinScore { get; init; }

    public required int MaxScore { get; init; }

    /// <summary>The signed full weight and the decay horizon of each kind of record that carries points.</summary>
    public required IReadOnlyDictionary<ReasonCode, RecordWeight> Weights { get; init; }

    /// <summary>Points for each full clean year (12 calendar months with no negative record decided that still counts).</summary>
    public required int CleanYearPoints { get; init; }

    public required int MaxCleanYears { get; init; }

    /// <summary>Lowest score of band A, B and C; below <see cref="BandCFrom"/> is D.</summary>
    public required int BandAFrom { get; init; }

    public required int BandBFrom { get; init; }

    public required int BandCFrom { get; init; }

    /// <summary>How many reasons an answer gives (adverse-action practice: four).</summary>
    public required int MaxReasons { get; init; }

    public required IReadOnlyDictionary<ReasonCode, ReasonText> Reasons { get; init; }

    public required ScoreNotice Notice { get; init; }

    public ScoreBand BandOf(int score) => score >= BandAFrom ? ScoreBand.A : score >= BandBFrom ? ScoreBand.B : score >= BandCFrom ? ScoreBand.C : ScoreBand.D;

    public RecordWeight WeightOf(ReasonCode code) => Weights.TryGetValue(code, out var weight) ? weight : default;

    public ReasonText TextOf(ReasonCode code) => Reasons[code];
}

/// <summary>
/// A record's full points (negative for penalties) and the months over which they decay linearly to 0:
/// d = (horizon − full months elapsed) / horizon, floored at 0.
/// </summary>
public readonly record struct RecordWeight(int Points, int HorizonMonths);

/// <summary>A reason code as people read it: the short code (e.g. N03) and the text in Chinese and English.</summary>
public sealed record ReasonText(string Code, string Chinese, string English);

/// <summary>The objection and human-review notice every answer carries (PIPL Art. 24), in Chinese and English.</summary>
public sealed record ScoreNotice(string Chinese, string English);

public enum ScoreBand : byte
{
    A = 1,
    B = 2,
    C = 3,
    D = 4,
}

/// <summary>
/// What moves a score, one code per kind of record (negative N…, positive P…) and the band cap L01. Numbers are
/// stable: a code is never reused for another meaning.
/// </summary>
public enum ReasonCode : byte
{
    MinorPenalty = 1,
    ModeratePenalty = 2,
    SeriousPenalty = 3,
    CourtDefaulter = 4,
    TaxGradeC = 5,
    TaxGradeD = 6,
    TaxGradeA = 21,
    TaxGradeB = 22,
    TaxGradeM = 23,
    Honour = 24,
    CleanYears = 25,
    BlackListed = 41,
}

/// <summary>The published models, by version. Add a version here; never change one that has answered.</summary>
public static class ScoreModels
{
    /// <summary>Model v1 of DOMAIN.md §8 (docs/score.md §2).</summary>
    public static ScoreModel V1 { get; } = new()
    {
        Version = "trust-v1",
        BasePoints = 700,
        MinScore = 0,
        MaxScore = 1000,
        Weights = new Dictionary<ReasonCode, RecordWeight>
        {
            [ReasonCode.MinorPenalty] = new(-10, 3),
            [ReasonCode.ModeratePenalty] = new(-60, 12),
            [ReasonCode.SeriousPenalty] = new(-200, 36),
            [ReasonCode.CourtDefaulter] = new(-250, 36),
            [ReasonCode.TaxGradeA] = new(50, 36),
            [ReasonCode.TaxGradeB] = new(20, 36),
            [ReasonCode.TaxGradeM] = new(0, 36),
            [ReasonCode.TaxGradeC] = new(-40, 36),
            [ReasonCode.TaxGradeD] = new(-120, 36),
            [ReasonCode.Honour] = new(30, 36),
        },
        CleanYearPoints = 10,
        MaxCleanYears = 5,
        BandAFrom = 800,
        BandBFrom = 700,
        BandCFrom = 600,
        MaxReasons = 4,
        Reasons = new Dictionary<ReasonCode, ReasonText>
        {
            [ReasonCode.MinorPenalty] = new("N01", "轻微违法行为行政处罚", "Administrative penalty for a minor violation"),
            [ReasonCode.ModeratePenalty] = new("N02", "一般违法行为行政处罚", "Administrative penalty for a moderate violation"),
            [ReasonCode.SeriousPenalty] = new("N03", "严重违法行为行政处罚", "Administrative penalty for a serious violation"),
            [ReasonCode.CourtDefaulter] = new("N04", "失信被执行人记录", "Court record of a dishonest judgment debtor"),
            [ReasonCode.TaxGradeC] = new("N05", "纳税信用等级为C级", "Tax credit grade C"),
            [ReasonCode.TaxGradeD] = new("N06", "纳税信用等级为D级", "Tax credit grade D"),
            [ReasonCode.TaxGradeA] = new("P01", "纳税信用等级为A级", "Tax credit grade A"),
            [ReasonCode.TaxGradeB] = new("P02", "纳税信用等级为B级", "Tax credit grade B"),
            [ReasonCode.TaxGradeM] = new("P03", "纳税信用等级为M级", "Tax credit grade M"),
            [ReasonCode.Honour] = new("P04", "获得表彰或荣誉", "Honour or commendation"),
            [ReasonCode.CleanYears] = new("P05", "连续无不良记录的整年数", "Full years without a negative record"),
            [ReasonCode.BlackListed] = new("L01", "被列入严重失信主体名单，信用等级限定为D", "On a black list (serious dishonesty): the band is capped at D"),
        },
        Notice = new ScoreNotice(
            "本评分由模型 trust-v1 依据账本在所示区块高度经验证的状态自动计算，仅供参考。根据《个人信息保护法》第二十四条，您有权要求说明，并有权拒绝仅通过自动化决策方式作出的决定、要求人工复核；请向出示本评分的机构提出。对所列记录有异议的，可通过任一成员机构提出异议：该记录即标注为“异议中”、不计入评分，并应在20日内核查答复（《征信业管理条例》第二十五条）。行政处罚信息可在所示日期后向认定该信息的机构申请信用修复（谁认定谁修复）。",
            "This score was computed automatically by model trust-v1 from the certified ledger state at the height shown, and is for reference. Under Article 24 of the Personal Information Protection Law you may ask for an explanation, refuse a decision made solely by automated means and ask for human review: ask the institution that showed you this score. If a record listed here is wrong, object to it through any member institution: the record is then marked disputed, is not counted, and must be checked and answered within 20 days (Credit Reporting Industry Regulation, Article 25). An administrative penalty may be repaired (credit repair) from the date shown, on application to the institution that recorded it."),
    };

    /// <summary>The model new answers use unless a caller asks for another version.</summary>
    public static ScoreModel Current => V1;

    public static IReadOnlyList<ScoreModel> All { get; } = [V1];

    public static ScoreModel? Find(string version) => All.FirstOrDefault(m => m.Version == version);

    /// <summary>The reason code under which model v1 counts a record (category, severity, tax grade letter).</summary>
    public static ReasonCode? CodeOf(RecordCategory category, Severity severity, byte grade) => category switch
    {
        RecordCategory.AdministrativePenalty => severity switch
        {
            Severity.Minor => ReasonCode.MinorPenalty,
            Severity.Moderate => ReasonCode.ModeratePenalty,
            Severity.Serious => ReasonCode.SeriousPenalty,
            _ => null,
        },
        RecordCategory.CourtDefaulter => ReasonCode.CourtDefaulter,
        RecordCategory.TaxGrade => (char)grade switch
        {
            'A' => ReasonCode.TaxGradeA,
            'B' => ReasonCode.TaxGradeB,
            'M' => ReasonCode.TaxGradeM,
            'C' => ReasonCode.TaxGradeC,
            'D' => ReasonCode.TaxGradeD,
            _ => null,
        },
        RecordCategory.Honour => ReasonCode.Honour,
        _ => null,
    };
}
