using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Tests.Domain.Rules.EnvelopeRulesTests;

namespace SmartCity.Ledger.Tests.Domain.Rules;

/// <summary>Run once per crypto suite (eth and gm): the rules are the same, signatures, ids and state-key hashes are the suite's.</summary>
public abstract class CreditRecordRulesTests(CryptoSuiteId suite)
{
    private static readonly TestKey Beijing = TestKeys.BeijingRegulator;
    private readonly TestLedger _ledger = TestLedger.Start(suite);

    [Theory]
    [InlineData("110105")]
    [InlineData("133100")]
    public void A_designator_records_in_its_own_region_and_a_xiongan_county_belongs_to_xiongan(string division)
    {
        var designator = division.StartsWith("11", StringComparison.Ordinal) ? Beijing : TestKeys.XionganCommittee;
        var record = Build.A.CreditRecord.By(designator).InDivision(division);
        _ledger.Accept(record);
        var state = _ledger.Read(StateKeys.Record(record.Id), CreditRecordState.Read)!;
        Assert.Equal(designator.Region, state.Region);
        Assert.Equal(state, _ledger.Read(StateKeys.RecordVersion(record.Id, 1), CreditRecordState.Read));
    }

    [Fact]
    public void Rejects_a_record_made_in_another_region_as_RegionMismatch()
        => AssertRejected(RejectionCode.RegionMismatch, _ledger.Submit(Build.A.CreditRecord.By(TestKeys.HebeiRegulator).InDivision("130629")));

    [Fact]
    public void Rejects_a_division_outside_the_consortium_as_DivisionOutsideConsortium()
        => AssertRejected(RejectionCode.DivisionOutsideConsortium, _ledger.Submit(Build.A.CreditRecord.InDivision("440300")));

    [Theory]
    [InlineData("uscc:914403001922038217")]
    [InlineData("11010519491231002X")]
    public void Rejects_a_subject_with_a_bad_code_or_an_id_number_in_clear_as_InvalidSubject(string subject)
        => AssertRejected(RejectionCode.InvalidSubject, _ledger.Submit(Build.A.CreditRecord.For(subject)));

    [Fact]
    public void Rejects_a_second_record_with_the_same_id_as_DuplicateId()
    {
        var id = Build.Id("same");
        _ledger.Accept(Build.A.CreditRecord.WithId(id));
        AssertRejected(RejectionCode.DuplicateId, _ledger.Submit(Build.A.CreditRecord.WithId(id)));
    }

    [Fact]
    public void Rejects_inconsistent_fields_as_InvalidField()
    {
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(Build.A.CreditRecord.Of(RecordCategory.TaxGrade, 12, grade: "E")));
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(Build.A.CreditRecord.Of(RecordCategory.Honour, 12, grade: "A")));
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(Build.A.CreditRecord.Penalty(Severity.None, 6)));
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(Build.A.CreditRecord.DecidedAt(_ledger.Now.AddDays(1))));
        _ledger.Accept(Build.A.CreditRecord.Of(RecordCategory.TaxGrade, 12, grade: "A"));
    }

    [Theory]
    [InlineData(Severity.Minor, 4u)]
    [InlineData(Severity.Moderate, 2u)]
    [InlineData(Severity.Moderate, 13u)]
    [InlineData(Severity.Serious, 11u)]
    [InlineData(Severity.Serious, 37u)]
    public void Rejects_a_publication_period_outside_the_severity_range_as_PublicationPeriodOutOfRange(Severity severity, uint months)
        => AssertRejected(RejectionCode.PublicationPeriodOutOfRange, _ledger.Submit(Build.A.CreditRecord.Penalty(severity, months)));

    [Fact]
    public void A_court_defaulter_listing_lasts_two_to_five_years()
    {
        AssertRejected(RejectionCode.PublicationPeriodOutOfRange, _ledger.Submit(Build.A.CreditRecord.Of(RecordCategory.CourtDefaulter, 23)));
        _ledger.Accept(Build.A.CreditRecord.By(TestKeys.BeijingCourt).Of(RecordCategory.CourtDefaulter, 24));
    }

    [Fact]
    public void Rejects_a_change_to_a_record_that_does_not_exist_as_UnknownRecord()
        => AssertRejected(RejectionCode.UnknownRecord, _ledger.Submit(Beijing, new CreditRecordAnnul(Build.Id("nothing"), "error")));

    [Fact]
    public void Rejects_a_repair_by_anyone_but_the_designator_as_NotTheDesignator()
    {
        var record = Serious();
        _ledger.AdvanceBy(TimeSpan.FromDays(400));
        AssertRejected(RejectionCode.NotTheDesignator, _ledger.Submit(TestKeys.BeijingCourt, new CreditRecordRepair(record, "performed")));
    }

    [Fact]
    public void Rejects_a_repair_before_the_minimum_period_as_RepairTooEarly_and_accepts_it_after()
    {
        var record = Serious(); // decided at genesis time; serious: repair after 12 months
        _ledger.AdvanceTo(_ledger.Genesis.GenesisTime.AddMonths(12).AddSeconds(-1));
        AssertRejected(RejectionCode.RepairTooEarly, _ledger.Submit(Beijing, new CreditRecordRepair(record, "performed")));

        _ledger.AdvanceBy(TimeSpan.FromSeconds(1));
        _ledger.Accept(Beijing, new CreditRecordRepair(record, "performed"));
        var repaired = _ledger.Read(StateKeys.Record(record), CreditRecordState.Read)!;
        Assert.Equal((RecordStatus.Repaired, 2u), (repaired.Status, repaired.Version));
        Assert.Equal(RecordStatus.Active, _ledger.Read(StateKeys.RecordVersion(record, 1), CreditRecordState.Read)!.Status);
        Assert.Equal(PublicationStatus.Repaired, repaired.PublicationStatusAt(_ledger.UnixNow));
    }

    [Fact]
    public void A_moderate_penalty_may_be_repaired_after_three_months()
    {
        var record = Build.A.CreditRecord.Penalty(Severity.Moderate, 12);
        _ledger.Accept(record);
        _ledger.AdvanceTo(_ledger.Genesis.GenesisTime.AddMonths(3));
        _ledger.Accept(Beijing, new CreditRecordRepair(record.Id, "rectified"));
    }

    [Fact]
    public void Rejects_repair_of_a_record_that_is_not_a_penalty_as_NotRepairable()
    {
        var record = Build.A.CreditRecord.Of(RecordCategory.Honour, 12);
        _ledger.Accept(record);
        AssertRejected(RejectionCode.NotRepairable, _ledger.Submit(Beijing, new CreditRecordRepair(record.Id, "n/a")));
    }

    [Fact]
    public void Rejects_changes_to_an_annulled_record_as_RecordNotActive()
    {
        var record = Serious();
        _ledger.Accept(Beijing, new CreditRecordAnnul(record, "issued in error"));
        AssertRejected(RejectionCode.RecordNotActive, _ledger.Submit(Beijing, new CreditRecordAnnul(record, "again")));
        AssertRejected(RejectionCode.RecordNotActive, _ledger.Submit(TestKeys.TianjinRegulator, new ObjectionFile(Build.Id("o"), record, Build.Id("g"))));
    }

    [Fact]
    public void An_amendment_is_a_new_version_and_the_old_one_stays_in_state()
    {
        var record = Serious();
        _ledger.Accept(Beijing, new CreditRecordAmend(record, Severity.Moderate, 6, "Administrative Penalty Law, art. 32", Build.Id("p2"), "mitigating circumstances"));
        Assert.Equal(Severity.Moderate, _ledger.Read(StateKeys.Record(record), CreditRecordState.Read)!.Severity);
        Assert.Equal(Severity.Serious, _ledger.Read(StateKeys.RecordVersion(record, 1), CreditRecordState.Read)!.Severity);
        AssertRejected(RejectionCode.PublicationPeriodOutOfRange, _ledger.Submit(Beijing, new CreditRecordAmend(record, Severity.Moderate, 24, "x", default, "y")));
    }

    [Fact]
    public void Publication_expires_as_a_pure_function_of_block_time()
    {
        var record = Build.A.CreditRecord.Penalty(Severity.Moderate, 6);
        _ledger.Accept(record);
        var state = _ledger.Read(StateKeys.Record(record.Id), CreditRecordState.Read)!;
        var end = LedgerTime.ToUnixSeconds(_ledger.Genesis.GenesisTime.AddMonths(6));
        Assert.Equal(PublicationStatus.Published, state.PublicationStatusAt(end - 1));
        Assert.Equal(PublicationStatus.Expired, state.PublicationStatusAt(end));
    }

    [Fact]
    public void An_objection_marks_the_record_disputed_and_is_overdue_after_twenty_days()
    {
        var record = Serious();
        var objection = Build.Id("objection");
        _ledger.Accept(TestKeys.TianjinRegulator, new ObjectionFile(objection, record, Build.Id("grounds")));
        var filedAt = _ledger.UnixNow;
        var state = _ledger.Read(StateKeys.Objection(objection), ObjectionState.Read)!;

        Assert.Equal(PublicationStatus.Disputed, _ledger.Read(StateKeys.Record(record), CreditRecordState.Read)!.PublicationStatusAt(filedAt));
        Assert.False(state.IsOverdueAt(filedAt + (20 * 86_400)));
        Assert.True(state.IsOverdueAt(filedAt + (20 * 86_400) + 1));

        _ledger.AdvanceBy(TimeSpan.FromDays(21));
        _ledger.Accept(Beijing, new ObjectionResolve(objection, ObjectionOutcome.Upheld, Build.Id("answer")));
        var answered = _ledger.Read(StateKeys.Objection(objection), ObjectionState.Read)!;
        Assert.True(answered.WasAnsweredLate);
        Assert.False(answered.IsOverdueAt(_ledger.UnixNow));
        Assert.Equal(PublicationStatus.Published, _ledger.Read(StateKeys.Record(record), CreditRecordState.Read)!.PublicationStatusAt(_ledger.UnixNow));
    }

    [Fact]
    public void Rejects_a_second_objection_while_one_is_open_as_ObjectionAlreadyOpen()
    {
        var record = Serious();
        _ledger.Accept(TestKeys.TianjinRegulator, new ObjectionFile(Build.Id("o1"), record, Build.Id("g")));
        AssertRejected(RejectionCode.ObjectionAlreadyOpen, _ledger.Submit(TestKeys.TianjinRegulator, new ObjectionFile(Build.Id("o2"), record, Build.Id("g"))));
    }

    [Fact]
    public void Rejects_an_answer_to_an_unknown_objection_as_UnknownObjection()
        => AssertRejected(RejectionCode.UnknownObjection, _ledger.Submit(Beijing, new ObjectionResolve(Build.Id("none"), ObjectionOutcome.Noted, default)));

    [Fact]
    public void Only_the_designator_answers_and_only_once()
    {
        var record = Serious();
        var objection = Build.Id("o");
        _ledger.Accept(TestKeys.TianjinRegulator, new ObjectionFile(objection, record, Build.Id("g")));
        AssertRejected(RejectionCode.NotTheDesignator, _ledger.Submit(TestKeys.BeijingCourt, new ObjectionResolve(objection, ObjectionOutcome.Corrected, default)));
        AssertRejected(RejectionCode.RegionMismatch, _ledger.Submit(TestKeys.TianjinRegulator, new ObjectionResolve(objection, ObjectionOutcome.Corrected, default)));
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(Beijing, new ObjectionResolve(objection, (ObjectionOutcome)9, default)));
        _ledger.Accept(Beijing, new ObjectionResolve(objection, ObjectionOutcome.Corrected, default));
        AssertRejected(RejectionCode.ObjectionAlreadyResolved, _ledger.Submit(Beijing, new ObjectionResolve(objection, ObjectionOutcome.Noted, default)));
    }

    [Theory]
    [InlineData(RecordCategory.CourtDefaulter, 4)]
    [InlineData(RecordCategory.CourtDefaulter, 255)]
    [InlineData(RecordCategory.TaxGrade, 5)]
    [InlineData(RecordCategory.Honour, 200)]
    [InlineData(RecordCategory.Honour, 2)]
    public void Rejects_a_severity_on_a_record_that_is_not_a_penalty_as_InvalidField(RecordCategory category, byte severity)
    {
        var months = category == RecordCategory.CourtDefaulter ? 24u : 12u;
        var body = (CreditRecordSubmit)Build.A.CreditRecord.By(TestKeys.BeijingCourt).Of(category, months, category == RecordCategory.TaxGrade ? "A" : "").Body();
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(TestKeys.BeijingCourt, body with { Severity = (Severity)severity }));
        _ledger.Accept(TestKeys.BeijingCourt, body);
    }

    [Theory]
    [InlineData(9)]
    [InlineData(4)]
    [InlineData(1)]
    public void Rejects_an_amendment_giving_a_court_defaulter_a_severity_as_InvalidField(byte severity)
    {
        var record = Build.A.CreditRecord.By(TestKeys.BeijingCourt).Of(RecordCategory.CourtDefaulter, 24);
        _ledger.Accept(record);
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(TestKeys.BeijingCourt, new CreditRecordAmend(record.Id, (Severity)severity, 36, "Civil Procedure Law", default, "extended")));
        Assert.Equal(Severity.None, _ledger.Read(StateKeys.Record(record.Id), CreditRecordState.Read)!.Severity);
        _ledger.Accept(TestKeys.BeijingCourt, new CreditRecordAmend(record.Id, Severity.None, 36, "Civil Procedure Law", default, "extended"));
    }

    [Fact]
    public void Rejects_an_objection_with_an_all_zero_id_as_InvalidField_so_one_open_objection_holds()
    {
        var record = Serious();
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(TestKeys.TianjinRegulator, new ObjectionFile(Hash256.Zero, record, Build.Id("g"))));
        Assert.Equal(PublicationStatus.Published, _ledger.Read(StateKeys.Record(record), CreditRecordState.Read)!.PublicationStatusAt(_ledger.UnixNow));

        _ledger.Accept(TestKeys.TianjinRegulator, new ObjectionFile(Build.Id("o1"), record, Build.Id("g")));
        Assert.Equal(PublicationStatus.Disputed, _ledger.Read(StateKeys.Record(record), CreditRecordState.Read)!.PublicationStatusAt(_ledger.UnixNow));
        AssertRejected(RejectionCode.ObjectionAlreadyOpen, _ledger.Submit(TestKeys.HebeiRegulator, new ObjectionFile(Build.Id("o2"), record, Build.Id("g"))));
    }

    private Hash256 Serious()
    {
        var record = Build.A.CreditRecord.By(Beijing).Penalty(Severity.Serious, 36);
        _ledger.Accept(record);
        return record.Id;
    }

    public sealed class Eth() : CreditRecordRulesTests(CryptoSuiteId.Eth);

    public sealed class Gm() : CreditRecordRulesTests(CryptoSuiteId.Gm);
}
