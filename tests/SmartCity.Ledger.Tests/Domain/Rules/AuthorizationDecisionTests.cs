using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Tests.Domain.Rules.EnvelopeRulesTests;

namespace SmartCity.Ledger.Tests.Domain.Rules;

/// <summary>The decisions of docs/domain.md §5 "Decisions on authorization" (issue 16), one test each.</summary>
/// <summary>Run once per crypto suite (eth and gm): the rules are the same, signatures, ids and state-key hashes are the suite's.</summary>
public abstract class AuthorizationDecisionTests(CryptoSuiteId suite)
{
    private static readonly TestKey Beijing = TestKeys.BeijingRegulator;
    private static readonly TestKey Court = TestKeys.BeijingCourt;

    // One approval passes (1 × 100 > members × 1), so a governance change is one transaction in these tests.
    private readonly TestLedger _ledger = TestLedger.Start(Build.A.Genesis.WithGovernance(new GovernanceRule(1, 100)).InSuite(suite).TestObject);
    private int _proposals;

    [Fact]
    public void An_issuer_that_lost_its_role_still_revokes_and_cancels_its_own_licences_but_no_longer_issues_suspends_resumes_or_changes()
    {
        var revoked = Issue("101");
        var cancelled = Issue("102");
        var kept = Issue("103");
        Govern(GovernanceAction.ChangeRoles, Beijing, MemberRole.CreditDesignator | MemberRole.ListInitiator);

        AssertRejected(RejectionCode.MissingRole, _ledger.Submit(Build.A.Licence.By(Beijing).Numbered("104")));
        AssertRejected(RejectionCode.MissingRole, _ledger.Submit(Beijing, new LicenceSuspend(kept, "inspection")));
        AssertRejected(RejectionCode.MissingRole, _ledger.Submit(Beijing, new LicenceChange(kept, Next(kept), _ledger.UnixNow, _ledger.UnixNow + 1000, default, "moved")));
        _ledger.Accept(Beijing, new LicenceRevoke(revoked, AsPenalty: true, "fraud"));
        _ledger.Accept(Beijing, new LicenceCancel(cancelled, "business closed"));
        Assert.Equal(LicenceStatus.RevokedAsPenalty, _ledger.Read(StateKeys.Licence(revoked), LicenceState.Read)!.Status);
        Assert.Equal(LicenceStatus.Cancelled, _ledger.Read(StateKeys.Licence(cancelled), LicenceState.Read)!.Status);
    }

    [Fact]
    public void A_designator_that_lost_its_role_still_answers_objections_repairs_and_annuls_but_no_longer_submits_or_amends()
    {
        var repaired = Record(Severity.Serious, 36);
        var annulled = Record(Severity.Moderate, 6);
        _ledger.Accept(TestKeys.TianjinRegulator, new ObjectionFile(Build.Id("objection"), repaired, Build.Id("grounds")));
        Govern(GovernanceAction.ChangeRoles, Beijing, MemberRole.LicenceIssuer);

        AssertRejected(RejectionCode.MissingRole, _ledger.Submit(Build.A.CreditRecord.By(Beijing)));
        AssertRejected(RejectionCode.MissingRole, _ledger.Submit(Beijing, new CreditRecordAmend(repaired, Severity.Moderate, 6, "basis", default, "mitigated")));
        _ledger.Accept(Beijing, new ObjectionResolve(Build.Id("objection"), ObjectionOutcome.Upheld, Build.Id("answer")));
        _ledger.Accept(Beijing, new CreditRecordAnnul(annulled, "issued in error"));
        _ledger.AdvanceTo(_ledger.Genesis.GenesisTime.AddMonths(12));
        _ledger.Accept(Beijing, new CreditRecordRepair(repaired, "fine paid"));
    }

    [Fact]
    public void An_initiator_that_lost_its_role_still_removes_its_own_listing_but_no_longer_lists()
    {
        var entry = Build.A.ListEntry.By(Court);
        _ledger.Accept(entry);
        Govern(GovernanceAction.ChangeRoles, Court, MemberRole.CreditDesignator);

        AssertRejected(RejectionCode.MissingRole, _ledger.Submit(Build.A.ListEntry.By(Court)));
        _ledger.Accept(Court, new ListEntryRemove(entry.Id, "debt performed"));
    }

    [Fact]
    public void Changing_a_suspended_licence_issues_a_new_version_that_stays_suspended_until_resumed()
    {
        var v1 = Issue("201");
        _ledger.Accept(Beijing, new LicenceSuspend(v1, "inspection"));
        var v2 = Next(v1);
        _ledger.Accept(Beijing, new LicenceChange(v1, v2, _ledger.UnixNow, _ledger.UnixNow + 10_000_000, Build.Id("file-2"), "address changed"));

        Assert.Equal(LicenceStatus.Other, _ledger.Read(StateKeys.Licence(v1), LicenceState.Read)!.Status);
        Assert.Equal(LicenceStatus.Suspended, _ledger.Read(StateKeys.Licence(v2), LicenceState.Read)!.Status);
        _ledger.Accept(Beijing, new LicenceResume(v2, "inspection passed"));
        Assert.Equal(LicenceStatus.Valid, _ledger.Read(StateKeys.Licence(v2), LicenceState.Read)!.Status);
    }

    [Fact]
    public void A_member_re_added_in_another_region_no_longer_acts_on_its_old_regions_records_licences_and_entries()
    {
        var record = Record(Severity.Serious, 36);
        var licence = Issue("301");
        var entry = Build.A.ListEntry.By(Beijing);
        _ledger.Accept(entry);
        Govern(GovernanceAction.RemoveMember, Beijing);
        Govern(GovernanceAction.AddMember, Beijing, MemberRoles.All, region: "TJ");

        AssertRejected(RejectionCode.RegionMismatch, _ledger.Submit(Beijing, new CreditRecordAnnul(record, "moved")));
        AssertRejected(RejectionCode.RegionMismatch, _ledger.Submit(Beijing, new LicenceCancel(licence, "moved")));
        AssertRejected(RejectionCode.RegionMismatch, _ledger.Submit(Beijing, new ListEntryRemove(entry.Id, "moved")));
        _ledger.Accept(Build.A.CreditRecord.By(Beijing).InDivision("120101")); // it acts for Tianjin now
    }

    [Fact]
    public void A_member_added_after_a_proposal_may_vote_on_it_and_its_approval_counts()
    {
        var ledger = TestLedger.Start(suite); // strict majority
        var bank = new TestKey(200, "Bank of Beijing", "91110000802100433B", "BJ");
        var late = new TestKey(201, "Tianjin tax office", "914403001922038216", "TJ");
        ledger.Accept(Beijing, new GovernancePropose(Build.Id("bank"), GovernanceAction.AddMember, bank.AddressIn(suite), bank.Uscc, bank.Name, "BJ", MemberRole.MeasureImplementer));
        ledger.Accept(Beijing, new GovernancePropose(Build.Id("late"), GovernanceAction.AddMember, late.AddressIn(suite), late.Uscc, late.Name, "TJ", MemberRole.CreditDesignator));
        foreach (var voter in new[] { TestKeys.TianjinRegulator, TestKeys.HebeiRegulator, TestKeys.XionganCommittee })
        {
            ledger.Accept(voter, new GovernanceVote(Build.Id("late"), true));
        }

        Assert.Equal(7UL, ledger.Read(StateKeys.MemberCount, CounterState.Read)!.Value);
        ledger.Accept(late, new GovernanceVote(Build.Id("bank"), true)); // Beijing + late: 2 of 7
        ledger.Accept(TestKeys.TianjinRegulator, new GovernanceVote(Build.Id("bank"), true)); // 3 of 7
        Assert.Null(ledger.Read(StateKeys.Member(bank.AddressIn(suite)), MemberState.Read));
        ledger.Accept(TestKeys.HebeiRegulator, new GovernanceVote(Build.Id("bank"), true)); // 4 of 7: a majority only with the late vote
        Assert.NotNull(ledger.Read(StateKeys.Member(bank.AddressIn(suite)), MemberState.Read));
    }

    [Fact]
    public void Rejects_an_objection_by_the_records_own_designator_as_ObjectionToOwnRecord()
    {
        var record = Record(Severity.Serious, 36);
        AssertRejected(RejectionCode.ObjectionToOwnRecord, _ledger.Submit(Beijing, new ObjectionFile(Build.Id("own"), record, Build.Id("grounds"))));
        _ledger.Accept(Court, new ObjectionFile(Build.Id("court"), record, Build.Id("grounds"))); // another member of the region may
    }

    [Fact]
    public void Annulling_a_disputed_record_leaves_the_objection_open_until_the_designator_answers_it()
    {
        var record = Record(Severity.Serious, 36);
        var objection = Build.Id("objection");
        _ledger.Accept(TestKeys.TianjinRegulator, new ObjectionFile(objection, record, Build.Id("grounds")));
        _ledger.Accept(Beijing, new CreditRecordAnnul(record, "issued in error"));

        var annulled = _ledger.Read(StateKeys.Record(record), CreditRecordState.Read)!;
        Assert.Equal((PublicationStatus.Annulled, objection), (annulled.PublicationStatusAt(_ledger.UnixNow), annulled.OpenObjection));
        Assert.True(_ledger.Read(StateKeys.Objection(objection), ObjectionState.Read)!.IsOpen);
        AssertRejected(RejectionCode.RecordNotActive, _ledger.Submit(TestKeys.HebeiRegulator, new ObjectionFile(Build.Id("second"), record, Build.Id("grounds"))));

        _ledger.Accept(Beijing, new ObjectionResolve(objection, ObjectionOutcome.Corrected, Build.Id("answer")));
        Assert.Equal(ObjectionOutcome.Corrected, _ledger.Read(StateKeys.Objection(objection), ObjectionState.Read)!.Outcome);
        Assert.True(_ledger.Read(StateKeys.Record(record), CreditRecordState.Read)!.OpenObjection.IsZero);
    }

    [Fact]
    public void Checks_run_in_the_order_of_the_code_table_whatever_the_kind()
    {
        var record = Record(Severity.Serious, 36);
        var duplicate = Build.A.CreditRecord.By(Beijing).WithId(record).For("uscc:914403001922038217");

        // Field checks (InvalidField < InvalidSubject < … < RegionMismatch) come before state checks (DuplicateId < Unknown… < owner < status).
        AssertRejected(RejectionCode.InvalidSubject, _ledger.Submit(duplicate));
        AssertRejected(RejectionCode.RegionMismatch, _ledger.Submit(Build.A.CreditRecord.By(TestKeys.TianjinRegulator).WithId(record)));
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(TestKeys.TianjinRegulator, new CreditRecordAmend(record, (Severity)9, 36, "basis", default, "x")));
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(TestKeys.TianjinRegulator, new CreditRecordRepair(Build.Id("unknown"), "")));
        AssertRejected(RejectionCode.UnknownRecord, _ledger.Submit(TestKeys.TianjinRegulator, new CreditRecordRepair(Build.Id("unknown"), "x")));

        // Ownership (NotTheDesignator, 41) before the object's own state (ObjectionAlreadyResolved, 48).
        var objection = Build.Id("answered");
        _ledger.Accept(TestKeys.TianjinRegulator, new ObjectionFile(objection, record, Build.Id("grounds")));
        _ledger.Accept(Beijing, new ObjectionResolve(objection, ObjectionOutcome.Noted, default));
        AssertRejected(RejectionCode.NotTheDesignator, _ledger.Submit(Court, new ObjectionResolve(objection, ObjectionOutcome.Noted, default)));
        AssertRejected(RejectionCode.ObjectionAlreadyResolved, _ledger.Submit(Beijing, new ObjectionResolve(objection, ObjectionOutcome.Noted, default)));

        // Licences: the recorded status decides the transition (62) before expiry (64).
        var licence = Issue("401", Build.A.Licence.ValidUntil(_ledger.Now.AddDays(10)));
        _ledger.AdvanceBy(TimeSpan.FromDays(11));
        AssertRejected(RejectionCode.InvalidLicenceTransition, _ledger.Submit(Beijing, new LicenceResume(licence, "not suspended")));
        AssertRejected(RejectionCode.LicenceExpired, _ledger.Submit(Beijing, new LicenceSuspend(licence, "too late")));
    }

    [Theory]
    [InlineData("😀", 512, true)] // 512 characters, 1024 UTF-16 units, 2048 UTF-8 bytes
    [InlineData("😀", 513, false)]
    [InlineData("信", 512, true)]
    [InlineData("信", 513, false)]
    [InlineData("e\u0301", 256, true)] // a combining accent is a character of its own: 512
    [InlineData("e\u0301", 257, false)]
    public void Text_limits_count_unicode_scalar_values_not_utf16_units(string unit, int repeat, bool accepted)
    {
        var body = (CreditRecordSubmit)Build.A.CreditRecord.By(Beijing).Body() with { LegalBasis = string.Concat(Enumerable.Repeat(unit, repeat)) };
        var transition = _ledger.Submit(Beijing, body);
        if (accepted)
        {
            Assert.True(transition.IsAccepted, transition.ToString());
        }
        else
        {
            AssertRejected(RejectionCode.InvalidField, transition);
        }
    }

    [Fact]
    public void Rejects_text_that_is_not_well_formed_unicode_as_InvalidField()
    {
        var body = (CreditRecordSubmit)Build.A.CreditRecord.By(Beijing).Body() with { LegalBasis = "art. 28 \uD800" };
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(Beijing, body));
    }

    [Fact]
    public void Licence_status_06_transferred_out_is_reached_by_no_transaction_and_a_licence_in_it_cannot_change()
    {
        Assert.DoesNotContain(TransactionRules.LicenceLifecycle, t => t.To.Contains(LicenceStatus.TransferredOut) || t.From.Contains(LicenceStatus.TransferredOut));

        var licence = Issue("501");
        var state = _ledger.Read(StateKeys.Licence(licence), LicenceState.Read)! with { Status = LicenceStatus.TransferredOut };
        _ledger.State.Apply([new StateWrite(_ledger.State.KeyHash(StateKeys.Licence(licence)), StateValue.Encode(state))]);
        foreach (var change in new ITransactionBody[]
        {
            new LicenceSuspend(licence, "x"), new LicenceResume(licence, "x"), new LicenceRevoke(licence, false, "x"), new LicenceCancel(licence, "x"),
            new LicenceChange(licence, Next(licence), _ledger.UnixNow, _ledger.UnixNow + 1000, default, "x"),
        })
        {
            AssertRejected(RejectionCode.InvalidLicenceTransition, _ledger.Submit(Beijing, change));
        }
    }

    private Hash256 Record(Severity severity, uint months)
    {
        var record = Build.A.CreditRecord.By(Beijing).Penalty(severity, months);
        _ledger.Accept(record);
        return record.Id;
    }

    private string Issue(string number, LicenceBuilder? builder = null)
    {
        builder = (builder ?? Build.A.Licence).By(Beijing).Numbered(number);
        _ledger.Accept(builder);
        return builder.Identifier;
    }

    private static string Next(string identifier) => SmartCity.Ledger.Domain.Identifiers.LicenceIdentifier.Parse(identifier).Value.NextVersion();

    private void Govern(GovernanceAction action, TestKey target, MemberRole roles = MemberRoles.All, string? region = null)
    {
        var id = Build.Id($"{action} {target.Name} {++_proposals}");
        _ledger.Accept(TestKeys.JointCreditOffice, new GovernancePropose(id, action, target.AddressIn(suite), target.Uscc, target.Name, region ?? target.Region, roles));
        Assert.Equal(ProposalStatus.Executed, _ledger.Read(StateKeys.Proposal(id), ProposalState.Read)!.Status);
    }

    public sealed class Eth() : AuthorizationDecisionTests(CryptoSuiteId.Eth);

    public sealed class Gm() : AuthorizationDecisionTests(CryptoSuiteId.Gm);
}
