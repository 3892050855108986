using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Score;
using SmartCity.Testing;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Tests.Score.ScoreKit;

namespace SmartCity.Ledger.Tests.Score;

/// <summary>A model version, once it has answered, answers the same forever; a new version is added beside it.</summary>
public sealed class ScoreVersioningTests
{
    private const string ExamplePath = "docs/examples/scores/trust-v1-company.json";

    /// <summary>A second model that changes numbers and texts, as a v2 would: it must not change a v1 answer.</summary>
    private static readonly ScoreModel V2 = ScoreModels.V1 with
    {
        Version = "trust-v2-draft",
        BasePoints = 650,
        Weights = new Dictionary<ReasonCode, RecordWeight>(ScoreModels.V1.Weights) { [ReasonCode.SeriousPenalty] = new(-300, 60) },
        MaxCleanYears = 10,
        Notice = new ScoreNotice("v2", "v2"),
    };

    /// <summary>
    /// The answer model v1 gives for a fixed history (ids fixed by name) is committed in docs/examples/scores and
    /// must never change. Set SMARTCITY_WRITE_EXAMPLES=1 to write it again only when the state layout changes the
    /// ids or hashes it shows, never for a change in the model's arithmetic.
    /// </summary>
    [Fact]
    public void Model_v1_gives_the_committed_answer_for_a_fixed_history_after_another_model_version_exists()
    {
        var ledger = FixedHistory();
        var v2 = ledger.ScoreOf(TestKeys.Company, new TrustScorer(V2));
        var v1 = ledger.ScoreOf(TestKeys.Company, new TrustScorer(ScoreModels.Find("trust-v1")!));

        var json = TrustScoreJson.Write(v1) + "\n";
        if (Environment.GetEnvironmentVariable("SMARTCITY_WRITE_EXAMPLES") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(RepositoryFiles.PathOf(ExamplePath))!);
            File.WriteAllText(RepositoryFiles.PathOf(ExamplePath), json);
        }

        Assert.Equal(RepositoryFiles.Read(ExamplePath), json);
        Assert.Equal("trust-v2-draft", v2.ModelVersion);
        Assert.NotEqual(v1.RawPoints, v2.RawPoints);
        Assert.Equal(json, TrustScoreJson.Write(ledger.ScoreOf(TestKeys.Company)) + "\n");
    }

    [Fact]
    public void The_published_models_have_distinct_versions_and_v1_is_the_current_one()
    {
        Assert.Equal(ScoreModels.All.Count, ScoreModels.All.Select(m => m.Version).Distinct().Count());
        Assert.Same(ScoreModels.V1, ScoreModels.Current);
        Assert.Null(ScoreModels.Find("trust-v0"));
        Assert.All(Enum.GetValues<ReasonCode>(), code => Assert.True(ScoreModels.V1.Reasons.ContainsKey(code), $"{code} has no text"));
        Assert.Equal(Enum.GetValues<ReasonCode>().Length, ScoreModels.V1.Reasons.Values.Select(t => t.Code).Distinct().Count());
    }

    /// <summary>Every kind of record, a repair, an objection, a memorandum and a black-list entry, at T0 + 8 months.</summary>
    private static TestLedger FixedHistory()
    {
        var ledger = TestLedger.Start();
        ledger.Accept(Build.A.Memorandum.WithId(Build.Id("example memorandum")).Covering(ListColour.Black, "court-defaulter"));
        ledger.Record(Build.A.CreditRecord.WithId(Build.Id("example serious")).By(TestKeys.BeijingRegulator).For(TestKeys.Company).Penalty(Severity.Serious, 36).Citing("Food Safety Law, art. 124"));
        ledger.Record(Build.A.CreditRecord.WithId(Build.Id("example moderate")).By(TestKeys.BeijingRegulator).For(TestKeys.Company).Penalty(Severity.Moderate, 12).Citing("Advertising Law, art. 55"));
        ledger.Record(Build.A.CreditRecord.WithId(Build.Id("example court")).By(TestKeys.BeijingCourt).For(TestKeys.Company).Of(RecordCategory.CourtDefaulter, 24).Citing("Civil Procedure Law, art. 262"));
        ledger.Record(Build.A.CreditRecord.WithId(Build.Id("example tax")).By(TestKeys.HebeiRegulator).For(TestKeys.Company).InDivision("130102").Of(RecordCategory.TaxGrade, 12, "B").Citing("Tax Credit Management Measures"));
        ledger.Record(Build.A.CreditRecord.WithId(Build.Id("example honour")).By(TestKeys.TianjinRegulator).For(TestKeys.Company).InDivision("120101").Of(RecordCategory.Honour, 36).Citing("Provincial commendation"));
        ledger.Accept(Build.A.ListEntry.WithId(Build.Id("example entry")).By(TestKeys.BeijingCourt).For(TestKeys.Company).On(ListColour.Black, "court-defaulter"));
        ledger.MoveTo(T0.AddMonths(4));
        ledger.Accept(TestKeys.BeijingRegulator, new CreditRecordRepair(Build.Id("example moderate"), "rectified and fine paid"));
        ledger.MoveTo(T0.AddMonths(8));
        ledger.Accept(TestKeys.HebeiRegulator, new ObjectionFile(Build.Id("example objection"), Build.Id("example honour"), Build.Id("grounds")));
        return ledger;
    }
}
