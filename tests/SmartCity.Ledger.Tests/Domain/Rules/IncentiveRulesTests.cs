using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Tests.Domain.Rules.EnvelopeRulesTests;

namespace SmartCity.Ledger.Tests.Domain.Rules;

/// <summary>Run once per crypto suite (eth and gm): the rules are the same, signatures, ids and state-key hashes are the suite's.</summary>
public abstract class IncentiveRulesTests(CryptoSuiteId suite)
{
    private static readonly TestKey Court = TestKeys.BeijingCourt;
    private static readonly TestKey TianjinImplementer = TestKeys.TianjinRegulator;
    private readonly TestLedger _ledger = TestLedger.Start(suite);

    [Fact]
    public void A_beijing_listing_triggers_a_measure_in_tianjin_under_a_memorandum_covering_both()
    {
        var (entry, memo) = ListAndPublish();
        _ledger.Accept(TianjinImplementer, Feedback(entry, memo, "ban-public-procurement"));
        var feedback = _ledger.Read(StateKeys.Feedback(Build.Id("feedback")), FeedbackState.Read)!;
        Assert.Equal(("TJ", FeedbackOutcome.Applied), (feedback.Region, feedback.Outcome));
    }

    [Fact]
    public void Rejects_feedback_where_the_memorandum_does_not_cover_the_implementers_region_as_RegionNotCoveredByMemorandum()
    {
        var (entry, memo) = ListAndPublish(Build.A.Memorandum.InRegions("BJ", "HE"));
        AssertRejected(RejectionCode.RegionNotCoveredByMemorandum, _ledger.Submit(TianjinImplementer, Feedback(entry, memo, "ban-public-procurement")));
    }

    [Fact]
    public void Rejects_feedback_for_a_measure_the_memorandum_does_not_name_as_MeasureNotInMemorandum()
    {
        var (entry, memo) = ListAndPublish();
        AssertRejected(RejectionCode.MeasureNotInMemorandum, _ledger.Submit(TianjinImplementer, Feedback(entry, memo, "confiscate-passport")));
    }

    [Fact]
    public void Rejects_feedback_under_a_memorandum_for_another_list_as_ListNotCoveredByMemorandum()
    {
        var (entry, memo) = ListAndPublish(Build.A.Memorandum.Covering(ListColour.Red, "tax-a-grade"));
        AssertRejected(RejectionCode.ListNotCoveredByMemorandum, _ledger.Submit(TianjinImplementer, Feedback(entry, memo, "ban-public-procurement")));
    }

    [Fact]
    public void Rejects_feedback_under_an_expired_memorandum_as_MemorandumNotInForce()
    {
        var (entry, memo) = ListAndPublish(Build.A.Memorandum.InForceUntil(_ledger.Now.AddDays(10)));
        _ledger.AdvanceBy(TimeSpan.FromDays(11));
        AssertRejected(RejectionCode.MemorandumNotInForce, _ledger.Submit(TianjinImplementer, Feedback(entry, memo, "ban-public-procurement")));
    }

    [Fact]
    public void Rejects_feedback_under_an_unknown_memorandum_as_UnknownMemorandum()
    {
        var (entry, _) = ListAndPublish();
        AssertRejected(RejectionCode.UnknownMemorandum, _ledger.Submit(TianjinImplementer, Feedback(entry, Build.Id("no memo"), "ban-public-procurement")));
    }

    [Fact]
    public void Rejects_feedback_or_removal_for_an_unknown_entry_as_UnknownListEntry()
    {
        var (_, memo) = ListAndPublish();
        AssertRejected(RejectionCode.UnknownListEntry, _ledger.Submit(TianjinImplementer, Feedback(Build.Id("no entry"), memo, "ban-public-procurement")));
        AssertRejected(RejectionCode.UnknownListEntry, _ledger.Submit(Court, new ListEntryRemove(Build.Id("no entry"), "x")));
    }

    [Fact]
    public void Rejects_removal_by_another_department_as_NotTheInitiator()
    {
        var (entry, _) = ListAndPublish();
        AssertRejected(RejectionCode.NotTheInitiator, _ledger.Submit(TestKeys.BeijingRegulator, new ListEntryRemove(entry, "not mine")));
    }

    [Fact]
    public void A_removed_or_expired_entry_is_not_active_and_triggers_nothing()
    {
        var (entry, memo) = ListAndPublish();
        _ledger.Accept(Court, new ListEntryRemove(entry, "debt performed"));
        AssertRejected(RejectionCode.ListEntryNotActive, _ledger.Submit(Court, new ListEntryRemove(entry, "again")));
        AssertRejected(RejectionCode.ListEntryNotActive, _ledger.Submit(TianjinImplementer, Feedback(entry, memo, "ban-public-procurement")));
        _ledger.Accept(TianjinImplementer, Feedback(entry, memo, "ban-public-procurement", FeedbackOutcome.Lifted));

        var expiring = Build.A.ListEntry.By(Court).ExpiringAt(_ledger.Now.AddYears(2));
        _ledger.Accept(expiring);
        var state = _ledger.Read(StateKeys.ListEntry(expiring.Id), ListEntryState.Read)!;
        Assert.True(state.IsActiveAt(_ledger.UnixNow));
        Assert.False(state.IsActiveAt(LedgerTime.ToUnixSeconds(_ledger.Now.AddYears(2))));
    }

    [Fact]
    public void A_listing_needs_a_legal_basis_and_its_own_region()
    {
        var body = (ListEntryAdd)Build.A.ListEntry.Body();
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(Court, body with { LegalBasis = "" }));
        AssertRejected(RejectionCode.RegionMismatch, _ledger.Submit(Court, body with { DivisionCode = "120101" }));
    }

    [Fact]
    public void A_memorandum_names_known_regions_including_the_publishers_own()
    {
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(Build.A.Memorandum.InRegions("BJ", "SX")));
        AssertRejected(RejectionCode.RegionMismatch, _ledger.Submit(Build.A.Memorandum.InRegions("TJ", "HE")));
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(Build.A.Memorandum.WithMeasures()));
    }

    private (Hash256 Entry, Hash256 Memorandum) ListAndPublish(MemorandumBuilder? memorandum = null)
    {
        var entry = Build.A.ListEntry.By(Court);
        _ledger.Accept(entry);
        memorandum ??= Build.A.Memorandum;
        _ledger.Accept(memorandum);
        return (entry.Id, memorandum.Id);
    }

    private MeasureFeedback Feedback(Hash256 entry, Hash256 memo, string measure, FeedbackOutcome outcome = FeedbackOutcome.Applied)
        => new(Build.Id("feedback" + (outcome == FeedbackOutcome.Applied ? "" : outcome.ToString())), entry, memo, measure, outcome, _ledger.UnixNow);

    public sealed class Eth() : IncentiveRulesTests(CryptoSuiteId.Eth);

    public sealed class Gm() : IncentiveRulesTests(CryptoSuiteId.Gm);
}
