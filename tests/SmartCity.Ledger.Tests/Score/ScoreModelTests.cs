using CsCheck;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Score;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Tests.Score.ScoreKit;

namespace SmartCity.Ledger.Tests.Score;

/// <summary>Each rule of model v1 (DOMAIN.md §8, docs/score.md §2) as a credit officer would state it.</summary>
public sealed class ScoreModelTests
{
    private static readonly string Company = TestKeys.Company;

    [Fact]
    public void A_subject_the_ledger_knows_nothing_about_scores_the_base_700_in_band_B_with_no_reasons()
    {
        var score = TestLedger.Start().ScoreOf(Company);

        Assert.Equal(700, score.Score);
        Assert.Equal(ScoreBand.B, score.Band);
        Assert.False(score.Listed);
        Assert.Empty(score.Reasons);
        Assert.Equal(0, score.Counts.Total);
    }

    [Fact]
    public void A_serious_penalty_six_months_old_costs_200_times_two_and_a_half_thirds_rounded_half_up_to_167_points()
    {
        var ledger = TestLedger.Start();
        var id = ledger.Penalty(Severity.Serious, 36);
        ledger.MoveTo(T0.AddMonths(6));

        var score = ledger.ScoreOf(Company);

        // d = (36 − 6) / 36 = 8,333 basis points (rounded down); 200 × 0.8333 = 166.66 → 167 (nearest, halves away from 0).
        Assert.Equal(8_333, TrustScorer.DecayBasisPoints(36, LedgerTime.ToUnixSeconds(T0), ledger.UnixNow));
        Assert.Equal(700 - 167, score.Score);
        var reason = Assert.Single(score.Reasons);
        Assert.Equal(("N03", -167), (reason.Text.Code, reason.Points));
        Assert.Equal([id], reason.RecordIds);
        Assert.Equal(ScoreBand.D, score.Band);
    }

    [Theory]
    [InlineData(0, 60)]
    [InlineData(1, 55)]
    [InlineData(3, 45)]
    [InlineData(6, 30)]
    [InlineData(11, 5)]
    public void A_moderate_penalty_loses_a_twelfth_of_its_60_points_with_each_full_month(int months, int cost)
    {
        var ledger = TestLedger.Start();
        ledger.Penalty(Severity.Moderate, 12);
        ledger.MoveTo(T0.AddMonths(months).AddHours(1));

        Assert.Equal(700 - cost, ledger.ScoreOf(Company).Score);
    }

    [Fact]
    public void A_penalty_ages_by_whole_calendar_months_so_a_day_short_of_six_months_is_five_months_old()
    {
        var ledger = TestLedger.Start();
        ledger.Penalty(Severity.Serious, 36);
        ledger.MoveTo(T0.AddMonths(6).AddDays(-1));

        // d = 31/36 = 8,611 bp; 200 × 0.8611 = 172.22 → 172.
        Assert.Equal(700 - 172, ledger.ScoreOf(Company).Score);
    }

    [Fact]
    public void A_minor_penalty_costs_10_points_decaying_over_three_months()
    {
        var ledger = TestLedger.Start();
        ledger.Penalty(Severity.Minor, 3);
        ledger.MoveTo(T0.AddMonths(2));

        // d = 1/3 = 3,333 bp; 10 × 0.3333 = 3.33 → 3.
        Assert.Equal(697, ledger.ScoreOf(Company).Score);
    }

    [Fact]
    public void A_court_defaulter_record_still_published_after_three_years_costs_nothing_but_still_counts()
    {
        var ledger = TestLedger.Start();
        ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingCourt).For(Company).Of(RecordCategory.CourtDefaulter, 60));
        ledger.MoveTo(T0.AddMonths(6));
        var young = Assert.Single(ledger.ScoreOf(Company).Reasons);
        Assert.Equal(("N04", -208), (young.Text.Code, young.Points)); // 250 × 30/36

        ledger.MoveTo(T0.AddMonths(40));
        var score = ledger.ScoreOf(Company);

        Assert.Equal(1, score.Counts.Included);
        Assert.DoesNotContain(score.Reasons, r => r.Code == ReasonCode.CourtDefaulter);
        // The record still breaks the clean streak at its decision date: 3 full years since, +30.
        Assert.Equal(730, score.Score);
    }

    [Fact]
    public void A_repaired_penalty_counts_zero_and_is_excluded_as_repaired()
    {
        var ledger = TestLedger.Start();
        var id = ledger.Penalty(Severity.Serious, 36);
        ledger.MoveTo(T0.AddMonths(12));
        ledger.Accept(TestKeys.BeijingRegulator, new CreditRecordRepair(id, "fine paid, rectified"));

        var score = ledger.ScoreOf(Company);

        Assert.Equal(1, score.Counts.Repaired);
        Assert.Equal(0, score.Counts.Included);
        Assert.DoesNotContain(score.Reasons, r => r.RecordIds.Contains(id));
        // A repaired record no longer breaks the clean streak: one full year since the subject's first record.
        Assert.Equal(710, score.Score);
    }

    [Fact]
    public void An_annulled_record_counts_zero_and_is_not_even_part_of_the_subjects_history()
    {
        var ledger = TestLedger.Start();
        var id = ledger.Penalty(Severity.Serious, 36);
        ledger.Accept(TestKeys.BeijingRegulator, new CreditRecordAnnul(id, "recorded against the wrong company"));
        ledger.MoveTo(T0.AddMonths(30));

        var score = ledger.ScoreOf(Company);

        Assert.Equal(700, score.Score);
        Assert.Equal(1, score.Counts.Annulled);
        Assert.Empty(score.Reasons);
    }

    [Fact]
    public void A_record_past_its_publication_period_counts_zero_and_is_excluded_as_expired()
    {
        var ledger = TestLedger.Start();
        ledger.Penalty(Severity.Moderate, 6);
        ledger.MoveTo(T0.AddMonths(6));

        var score = ledger.ScoreOf(Company);

        Assert.Equal(700, score.Score);
        Assert.Equal((0, 1), (score.Counts.Included, score.Counts.Expired));
    }

    [Fact]
    public void A_warning_that_is_never_published_counts_zero()
    {
        var ledger = TestLedger.Start();
        ledger.Penalty(Severity.Minor, 0);

        var score = ledger.ScoreOf(Company);

        Assert.Equal(700, score.Score);
        Assert.Equal(1, score.Counts.NotPublished);
    }

    [Fact]
    public void A_disputed_record_is_shown_and_not_counted_until_its_designator_upholds_it()
    {
        var ledger = TestLedger.Start();
        var id = ledger.Penalty(Severity.Serious, 36);
        ledger.MoveTo(T0.AddMonths(6));
        var objection = ledger.Objection(id);

        var disputed = ledger.ScoreOf(Company);

        Assert.Equal(700, disputed.Score);
        Assert.Equal((0, 1), (disputed.Counts.Included, disputed.Counts.Disputed));
        var shown = Assert.Single(disputed.Disputed);
        Assert.Equal((id, objection, "N03", TestKeys.BeijingRegulator.Address), (shown.RecordId, shown.ObjectionId, shown.WouldCountAs?.Code, shown.SourceMember));
        Assert.Equal(ledger.Now.AddDays(20).ToUnixTimeSeconds(), shown.AnswerDueBy.ToUnixTimeSeconds());
        Assert.False(shown.Overdue);
        Assert.Empty(disputed.Reasons);

        ledger.MoveTo(T0.AddMonths(6).AddDays(21));
        Assert.True(ledger.ScoreOf(Company).Disputed[0].Overdue);

        ledger.Accept(TestKeys.BeijingRegulator, new ObjectionResolve(objection, ObjectionOutcome.Upheld, Build.Id("answer")));
        var upheld = ledger.ScoreOf(Company);
        Assert.Empty(upheld.Disputed);
        Assert.Equal(700 - 167, upheld.Score);
    }

    [Fact]
    public void A_listed_subject_is_band_D_whatever_its_score()
    {
        var ledger = TestLedger.Start();
        for (var i = 0; i < 5; i++)
        {
            ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(Company).Of(RecordCategory.Honour, 36));
        }

        ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(Company).Of(RecordCategory.TaxGrade, 12, "A"));
        Assert.Equal(ScoreBand.A, ledger.ScoreOf(Company).Band);

        var entry = Build.A.ListEntry.By(TestKeys.BeijingCourt).For(Company).On(ListColour.Black, "court-defaulter");
        ledger.Accept(entry);
        var listed = ledger.ScoreOf(Company);

        Assert.Equal(700 + (5 * 30) + 50, listed.Score); // the list is reported beside the score, not inside it
        Assert.Equal(ScoreBand.D, listed.Band);
        Assert.True(listed.Listed);
        Assert.Equal("L01", listed.Reasons[0].Text.Code);
        Assert.Equal([entry.Id], listed.Reasons[0].RecordIds);
    }

    [Fact]
    public void A_red_list_entry_is_reported_but_neither_caps_the_band_nor_sets_the_listed_flag()
    {
        var ledger = TestLedger.Start();
        ledger.Accept(Build.A.ListEntry.By(TestKeys.BeijingCourt).For(Company).On(ListColour.Red, "a-grade-taxpayer"));

        var score = ledger.ScoreOf(Company);

        Assert.Equal((700, ScoreBand.B, false), (score.Score, score.Band, score.Listed));
        Assert.Equal(ListColour.Red, Assert.Single(score.ListEntries).Colour);
    }

    [Theory]
    [InlineData(0, 700)]
    [InlineData(1, 710)]
    [InlineData(2, 720)]
    [InlineData(5, 750)]
    [InlineData(6, 750)]
    [InlineData(9, 750)]
    public void The_clean_year_bonus_is_10_points_a_full_year_and_stops_at_50(int years, int expected)
    {
        var ledger = TestLedger.Start();
        ledger.Penalty(Severity.Minor, 0); // an unpublished warning: the subject's history starts, nothing counts
        ledger.MoveTo(T0.AddYears(years).AddDays(-1));
        Assert.Equal(700 + (Math.Min(Math.Max(years - 1, 0), 5) * 10), ledger.ScoreOf(Company).Score); // a day short of the full year

        ledger.MoveTo(T0.AddYears(years));
        var score = ledger.ScoreOf(Company);

        Assert.Equal(expected, score.Score);
        Assert.Equal(expected - 700, score.Reasons.SingleOrDefault(r => r.Code == ReasonCode.CleanYears)?.Points ?? 0);
    }

    [Fact]
    public void The_clean_years_start_again_at_the_latest_negative_record_that_counts()
    {
        var ledger = TestLedger.Start();
        ledger.Penalty(Severity.Minor, 0);
        ledger.MoveTo(T0.AddYears(4));
        Assert.Equal(740, ledger.ScoreOf(Company).Score);

        ledger.Penalty(Severity.Moderate, 12, decidedAt: T0.AddYears(4));
        ledger.MoveTo(T0.AddYears(4).AddMonths(6));

        // −30 for the penalty at half its horizon; no full clean year since it.
        Assert.Equal(670, ledger.ScoreOf(Company).Score);
    }

    [Theory]
    [InlineData("A", 50)]
    [InlineData("B", 20)]
    [InlineData("M", 0)]
    [InlineData("C", -40)]
    [InlineData("D", -120)]
    public void A_tax_credit_grade_moves_the_score_by_its_points(string grade, int points)
    {
        var ledger = TestLedger.Start();
        ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(Company).Of(RecordCategory.TaxGrade, 12, grade), decidedAt: T0.AddHours(1));

        var score = ledger.ScoreOf(Company);

        Assert.Equal(700 + points, score.Score);
        Assert.Equal(1, score.Counts.Included);
    }

    [Fact]
    public void Only_the_latest_published_tax_grade_counts_and_earlier_ones_are_superseded()
    {
        var ledger = TestLedger.Start();
        ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(Company).Of(RecordCategory.TaxGrade, 24, "C"));
        ledger.MoveTo(T0.AddMonths(12));
        var latest = ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(Company).Of(RecordCategory.TaxGrade, 12, "A"), decidedAt: T0.AddMonths(12));

        var score = ledger.ScoreOf(Company);

        Assert.Equal((1, 1), (score.Counts.Included, score.Counts.Superseded));
        // +50 at age 0; the superseded C is no longer a negative record, so one full clean year since T0: +10.
        Assert.Equal(760, score.Score);
        Assert.Equal([latest], score.Reasons.Single(r => r.Code == ReasonCode.TaxGradeA).RecordIds);
    }

    [Fact]
    public void An_honour_adds_30_points_decaying_over_three_years()
    {
        var ledger = TestLedger.Start();
        ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(Company).Of(RecordCategory.Honour, 36));
        ledger.MoveTo(T0.AddMonths(18));

        // 30 × 18/36 = 15, and one full clean year: +10.
        Assert.Equal(725, ledger.ScoreOf(Company).Score);
    }

    [Theory]
    [InlineData(1000, ScoreBand.A)]
    [InlineData(800, ScoreBand.A)]
    [InlineData(799, ScoreBand.B)]
    [InlineData(700, ScoreBand.B)]
    [InlineData(699, ScoreBand.C)]
    [InlineData(600, ScoreBand.C)]
    [InlineData(599, ScoreBand.D)]
    [InlineData(0, ScoreBand.D)]
    public void Bands_are_A_from_800_B_from_700_C_from_600_and_D_below(int score, ScoreBand band)
        => Assert.Equal(band, ScoreModels.V1.BandOf(score));

    [Fact]
    public void The_score_never_falls_below_0_however_many_penalties()
    {
        var ledger = TestLedger.Start();
        for (var i = 0; i < 4; i++)
        {
            ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingCourt).For(Company).Of(RecordCategory.CourtDefaulter, 24), decidedAt: T0.AddHours(1));
        }

        var score = ledger.ScoreOf(Company);

        Assert.Equal(0, score.Score);
        Assert.Equal(700 - (4 * 250), score.RawPoints);
    }

    [Fact]
    public void The_score_never_rises_above_1000_however_many_honours()
    {
        var ledger = TestLedger.Start();
        for (var i = 0; i < 12; i++)
        {
            ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(Company).Of(RecordCategory.Honour, 36), decidedAt: T0.AddHours(1));
        }

        var score = ledger.ScoreOf(Company);

        Assert.Equal(1000, score.Score);
        Assert.Equal(700 + (12 * 30), score.RawPoints);
    }

    [Theory]
    [InlineData(10, 3, 0, 10)]
    [InlineData(-10, 3, 1, -7)] // 6,666 bp → 6.67 → 7
    [InlineData(-60, 12, 7, -25)] // 4,166 bp → 24.996 → 25
    [InlineData(50, 36, 9, 38)] // 7,500 bp → 37.5 → 38 (half away from zero)
    [InlineData(-120, 36, 9, -90)]
    [InlineData(-200, 36, 36, 0)]
    [InlineData(-250, 36, 48, 0)] // floored at 0 past the horizon
    public void A_records_points_are_its_weight_times_the_decay_rounded_to_the_nearest_point_halves_away_from_zero(int weight, int horizon, int months, int points)
    {
        var decided = LedgerTime.ToUnixSeconds(T0);
        Assert.Equal(points, TrustScorer.Points(new RecordWeight(weight, horizon), decided, LedgerTime.AddMonths(decided, months)));
    }

    [Theory]
    [InlineData("2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z", 1)] // month-end: Jan 31 + 1 month is Feb 28
    [InlineData("2026-01-31T10:00:00Z", "2026-02-28T09:59:59Z", 0)]
    [InlineData("2026-01-31T10:00:00Z", "2026-03-01T09:00:00Z", 1)]
    [InlineData("2026-03-15T00:00:00Z", "2029-03-15T00:00:00Z", 36)]
    [InlineData("2026-03-15T00:00:00Z", "2026-03-14T00:00:00Z", 0)]
    public void Age_is_counted_in_whole_calendar_months_in_UTC(string from, string to, int months)
        => Assert.Equal(months, TrustScorer.FullMonthsBetween(LedgerTime.ToUnixSeconds(DateTimeOffset.Parse(from, System.Globalization.CultureInfo.InvariantCulture)), LedgerTime.ToUnixSeconds(DateTimeOffset.Parse(to, System.Globalization.CultureInfo.InvariantCulture))));

    [Fact]
    public void The_scores_integer_calendar_agrees_with_the_ledgers_calendar_for_any_two_instants()
    {
        var instant = Gen.ULong[0, 253_402_300_799 - (61L * 31 * 86_400)]; // up to 9999-12-31, leaving room for a 60-month period
        Gen.Select(instant, instant, Gen.Int[0, 60]).Sample((from, to, months) =>
        {
            var civil = ScoreCalendar.ToCivil(from);
            Assert.Equal(LedgerTime.AddMonths(from, months), ScoreCalendar.AddMonths(civil, months));
            Assert.Equal(TrustScorer.FullMonthsBetween(from, to), ScoreCalendar.FullMonthsBetween(from, civil, to, ScoreCalendar.ToCivil(to)));
            var near = from + ((to % 200) * 86_400);
            var boundary = LedgerTime.AddMonths(from, months);
            foreach (var end in new[] { near, boundary - 1, boundary, boundary + 1 })
            {
                Assert.Equal(TrustScorer.FullMonthsBetween(from, end), ScoreCalendar.FullMonthsBetween(from, civil, end, ScoreCalendar.ToCivil(end)));
            }
        }, iter: 20_000);
    }
}
