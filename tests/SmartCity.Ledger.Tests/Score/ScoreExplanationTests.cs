using System.Text.Json.Nodes;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Score;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Tests.Score.ScoreKit;

namespace SmartCity.Ledger.Tests.Score;

/// <summary>What a subject, a bank and a regulator read in an answer: reasons they can act on, lists, notice.</summary>
public sealed class ScoreExplanationTests
{
    private const string FoodSafety = "Food Safety Law, art. 124";
    private const string Advertising = "Advertising Law, art. 55";
    private static readonly string Company = TestKeys.Company;

    /// <summary>
    /// At T0 + 6 months: court defaulter −208, serious penalty −167, tax grade A +42, moderate penalty −30, honour +25,
    /// two minor penalties −7 each. Raw 700 − 208 − 167 + 42 − 30 + 25 − 14 = 348.
    /// </summary>
    private static (TestLedger Ledger, Dictionary<string, Hash256> Ids) SixRecordKinds()
    {
        var ledger = TestLedger.Start();
        var ids = new Dictionary<string, Hash256>
        {
            ["serious"] = ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(Company).Penalty(Severity.Serious, 36).Citing(FoodSafety)),
            ["moderate"] = ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(Company).Penalty(Severity.Moderate, 12).Citing(Advertising)),
            ["taxA"] = ledger.Record(Build.A.CreditRecord.By(TestKeys.HebeiRegulator).For(Company).InDivision("130102").Of(RecordCategory.TaxGrade, 12, "A")),
            ["honour"] = ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(Company).Of(RecordCategory.Honour, 36)),
            ["court"] = ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingCourt).For(Company).Of(RecordCategory.CourtDefaulter, 24).Citing("Civil Procedure Law, art. 262")),
        };
        ledger.MoveTo(T0.AddMonths(5));
        ids["minor1"] = ledger.Record(Build.A.CreditRecord.By(TestKeys.TianjinRegulator).For(Company).InDivision("120101").Penalty(Severity.Minor, 3), T0.AddMonths(5));
        ids["minor2"] = ledger.Record(Build.A.CreditRecord.By(TestKeys.TianjinRegulator).For(Company).InDivision("120101").Penalty(Severity.Minor, 3), T0.AddMonths(5));
        ledger.MoveTo(T0.AddMonths(6));
        return (ledger, ids);
    }

    [Fact]
    public void The_top_four_reasons_are_the_largest_effects_with_code_texts_points_records_member_legal_basis_and_repair_date()
    {
        var (ledger, ids) = SixRecordKinds();

        var score = ledger.ScoreOf(Company);

        Assert.Equal(348, score.Score);
        Assert.Equal(["N04", "N03", "P01", "N02"], score.Reasons.Select(r => r.Text.Code));
        Assert.Equal([-208, -167, 42, -30], score.Reasons.Select(r => r.Points));

        var serious = score.Reasons[1];
        Assert.Equal(ReasonCode.SeriousPenalty, serious.Code);
        Assert.Equal(("严重违法行为行政处罚", "Administrative penalty for a serious violation"), (serious.Text.Chinese, serious.Text.English));
        Assert.Equal([ids["serious"]], serious.RecordIds);
        Assert.Equal(TestKeys.BeijingRegulator.Address, serious.SourceMember);
        Assert.Equal(FoodSafety, serious.LegalBasis);
        Assert.Equal(T0.AddMonths(12), serious.RepairEligibleAt); // a serious penalty may be repaired after a year

        Assert.Null(score.Reasons[0].RepairEligibleAt); // a court record is not repaired, it is annulled when the debt is paid
        Assert.Equal(T0.AddMonths(3), score.Reasons[3].RepairEligibleAt);
        Assert.Equal((TestKeys.HebeiRegulator.Address, "纳税信用等级为A级"), (score.Reasons[2].SourceMember, score.Reasons[2].Text.Chinese));

        Assert.Equal(25 - 14, score.OtherPoints);
        Assert.Equal(score.RawPoints, score.BasePoints + score.Reasons.Sum(r => r.Points) + score.OtherPoints);
        Assert.Equal((7, 0), (score.Counts.Included, score.Counts.Excluded));
    }

    [Fact]
    public void Records_of_one_kind_from_one_member_under_one_legal_basis_make_one_reason()
    {
        var ledger = TestLedger.Start();
        ledger.MoveTo(T0.AddMonths(1));
        var sameBasis = Enumerable.Range(0, 3).Select(_ => ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(Company).Penalty(Severity.Minor, 3).Citing(FoodSafety), T0.AddMonths(1))).ToList();
        var otherBasis = ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(Company).Penalty(Severity.Minor, 3).Citing(Advertising), T0.AddMonths(1));
        var otherMember = ledger.Record(Build.A.CreditRecord.By(TestKeys.TianjinRegulator).For(Company).InDivision("120101").Penalty(Severity.Minor, 3).Citing(FoodSafety), T0.AddMonths(1));

        var score = ledger.ScoreOf(Company);

        Assert.Equal(3, score.Reasons.Count);
        Assert.Equal(sameBasis, score.Reasons[0].RecordIds);
        Assert.Equal(-30, score.Reasons[0].Points);
        Assert.Equal([otherBasis], score.Reasons.Single(r => r.LegalBasis == Advertising).RecordIds);
        Assert.Equal([otherMember], score.Reasons.Single(r => r.SourceMember == TestKeys.TianjinRegulator.Address).RecordIds);
        Assert.Equal(650, score.Score);
    }

    [Fact]
    public void Every_answer_carries_the_model_version_the_block_it_was_computed_at_and_the_notice_in_Chinese_and_English()
    {
        var ledger = TestLedger.Start();
        ledger.Penalty(Severity.Serious, 36);
        var header = HeaderAt(ledger.Now, height: 42);

        var score = TrustScorer.V1.Score(ledger.State, header, SmartCity.Ledger.Domain.Identifiers.Subject.Parse(Company).Value);

        Assert.Equal("trust-v1", score.ModelVersion);
        Assert.Equal((42L, header.Hash, ledger.Now), (score.Height, score.HeaderHash, score.AsOf));
        Assert.Contains("个人信息保护法", score.Notice.Chinese, StringComparison.Ordinal);
        Assert.Contains("人工复核", score.Notice.Chinese, StringComparison.Ordinal);
        Assert.Contains("异议", score.Notice.Chinese, StringComparison.Ordinal);
        Assert.Contains("信用修复", score.Notice.Chinese, StringComparison.Ordinal);
        Assert.Contains("Article 24 of the Personal Information Protection Law", score.Notice.English, StringComparison.Ordinal);
        Assert.Contains("human review", score.Notice.English, StringComparison.Ordinal);
        Assert.Contains("within 20 days", score.Notice.English, StringComparison.Ordinal);
    }

    [Fact]
    public void An_active_list_entry_is_shown_with_the_measures_of_the_memoranda_in_force_that_cover_its_region()
    {
        var ledger = TestLedger.Start();
        var inForce = Build.A.Memorandum.Covering(ListColour.Black, "court-defaulter").WithMeasures("restrict-high-consumption", "ban-public-procurement").InRegions("BJ", "TJ", "HE", "XA");
        var lapsed = Build.A.Memorandum.Covering(ListColour.Black, "court-defaulter").InForceUntil(T0.AddMonths(1));
        var elsewhere = Build.A.Memorandum.Covering(ListColour.Black, "court-defaulter").InRegions("BJ", "HE");
        var otherList = Build.A.Memorandum.Covering(ListColour.Black, "tax-evader");
        foreach (var memorandum in new[] { inForce, lapsed, elsewhere, otherList })
        {
            ledger.Accept(memorandum);
        }

        var entry = Build.A.ListEntry.By(TestKeys.TianjinRegulator).For(Company).InDivision("120101").On(ListColour.Black, "court-defaulter");
        ledger.Accept(entry);
        ledger.MoveTo(T0.AddMonths(2));

        var listed = Assert.Single(ledger.ScoreOf(Company).ListEntries);

        Assert.Equal((entry.Id, ListColour.Black, "court-defaulter", "TJ"), (listed.EntryId, listed.Colour, listed.ListType, listed.Region));
        Assert.Equal(("Civil Procedure Law, art. 262", TestKeys.TianjinRegulator.Address), (listed.LegalBasis, listed.Initiator));
        var measures = Assert.Single(listed.Measures);
        Assert.Equal(inForce.Id, measures.MemorandumId);
        Assert.Equal(["restrict-high-consumption", "ban-public-procurement"], measures.Measures);
        Assert.Equal(["BJ", "TJ", "HE", "XA"], measures.Regions);
    }

    [Fact]
    public void A_removed_or_expired_list_entry_is_not_shown_and_does_not_cap_the_band()
    {
        var ledger = TestLedger.Start();
        var removed = Build.A.ListEntry.By(TestKeys.BeijingCourt).For(Company).On(ListColour.Black, "court-defaulter");
        ledger.Accept(removed);
        ledger.Accept(Build.A.ListEntry.By(TestKeys.BeijingCourt).For(Company).On(ListColour.Black, "court-defaulter").ExpiringAt(T0.AddMonths(1)));
        Assert.True(ledger.ScoreOf(Company).Listed);

        ledger.Accept(TestKeys.BeijingCourt, new ListEntryRemove(removed.Id, "the debtor performed"));
        ledger.MoveTo(T0.AddMonths(1));
        var score = ledger.ScoreOf(Company);

        Assert.False(score.Listed);
        Assert.Empty(score.ListEntries);
        Assert.Equal(ScoreBand.B, score.Band);
    }

    [Fact]
    public void The_JSON_answer_has_every_part_of_the_answer_with_Chinese_written_as_is()
    {
        var (ledger, ids) = SixRecordKinds();
        ledger.Objection(ids["honour"]);
        ledger.Accept(Build.A.Memorandum.Covering(ListColour.Black, "court-defaulter"));
        ledger.Accept(Build.A.ListEntry.By(TestKeys.BeijingCourt).For(Company).On(ListColour.Black, "court-defaulter"));
        var score = ledger.ScoreOf(Company);

        var text = TrustScoreJson.Write(score);
        var json = JsonNode.Parse(text)!;

        Assert.Contains("严重违法行为行政处罚", text, StringComparison.Ordinal);
        Assert.Equal(("smartcity.trust-score", 1), (json["format"]!.GetValue<string>(), json["version"]!.GetValue<int>()));
        Assert.Equal((Company, score.Score, "D", true, "trust-v1"), (json["subject"]!.GetValue<string>(), json["score"]!.GetValue<int>(), json["band"]!.GetValue<string>(), json["listed"]!.GetValue<bool>(), json["model"]!.GetValue<string>()));
        Assert.Equal((7L, score.HeaderHash.ToString(), "2026-07-01T00:00:00Z"), (json["height"]!.GetValue<long>(), json["headerHash"]!.GetValue<string>(), json["asOf"]!.GetValue<string>()));
        Assert.Equal((700, score.RawPoints), (json["points"]!["base"]!.GetValue<int>(), json["points"]!["raw"]!.GetValue<int>()));
        Assert.Equal(score.RawPoints, json["points"]!["base"]!.GetValue<int>() + json["points"]!["shownReasons"]!.GetValue<int>() + json["points"]!["otherReasons"]!.GetValue<int>());
        Assert.Equal((6, 1, 1), (json["records"]!["included"]!.GetValue<int>(), json["records"]!["excluded"]!.GetValue<int>(), json["records"]!["excludedBecause"]!["disputed"]!.GetValue<int>()));

        var reasons = json["reasons"]!.AsArray();
        Assert.Equal(["L01", "N04", "N03", "P01"], reasons.Select(r => r!["code"]!.GetValue<string>()));
        var serious = reasons[2]!;
        Assert.Equal(("SeriousPenalty", "严重违法行为行政处罚", "Administrative penalty for a serious violation", -167), (serious["reason"]!.GetValue<string>(), serious["textZh"]!.GetValue<string>(), serious["textEn"]!.GetValue<string>(), serious["points"]!.GetValue<int>()));
        Assert.Equal([ids["serious"].ToString()], serious["recordIds"]!.AsArray().Select(i => i!.GetValue<string>()));
        Assert.Equal((TestKeys.BeijingRegulator.Address.ToString(), FoodSafety, "2027-01-01T00:00:00Z"), (serious["sourceMember"]!.GetValue<string>(), serious["legalBasis"]!.GetValue<string>(), serious["repairEligibleFrom"]!.GetValue<string>()));
        Assert.Null(reasons[1]!["repairEligibleFrom"]);

        var entry = json["listEntries"]!.AsArray().Single()!;
        Assert.Equal(("black", "court-defaulter"), (entry["list"]!.GetValue<string>(), entry["listType"]!.GetValue<string>()));
        Assert.Equal(["restrict-high-consumption", "ban-public-procurement"], entry["measures"]!.AsArray().Single()!["measures"]!.AsArray().Select(m => m!.GetValue<string>()));

        var disputed = json["disputed"]!.AsArray().Single()!;
        Assert.Equal((ids["honour"].ToString(), "P04", false), (disputed["recordId"]!.GetValue<string>(), disputed["wouldCountAs"]!.GetValue<string>(), disputed["overdue"]!.GetValue<bool>()));
        Assert.Equal((score.Notice.Chinese, score.Notice.English), (json["notice"]!["zh"]!.GetValue<string>(), json["notice"]!["en"]!.GetValue<string>()));
    }
}
