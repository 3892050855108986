using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Tests.Domain.Rules.EnvelopeRulesTests;

namespace SmartCity.Ledger.Tests.Domain.Rules;

/// <summary>Run once per crypto suite (eth and gm): the rules are the same, signatures, ids and state-key hashes are the suite's.</summary>
public abstract class LicenceRulesTests(CryptoSuiteId suite)
{
    private static readonly TestKey Issuer = TestKeys.BeijingRegulator;
    private readonly TestLedger _ledger = TestLedger.Start(suite);

    [Fact]
    public void An_issued_licence_is_valid_and_moves_through_suspend_resume_and_revoke_as_a_penalty()
    {
        var id = Issue();
        Assert.Equal(LicenceStatus.Valid, Status(id));
        _ledger.Accept(Issuer, new LicenceSuspend(id, "inspection"));
        Assert.Equal(LicenceStatus.Suspended, Status(id));
        _ledger.Accept(Issuer, new LicenceResume(id, "cleared"));
        Assert.Equal(LicenceStatus.Valid, Status(id));
        _ledger.Accept(Issuer, new LicenceRevoke(id, AsPenalty: true, "fraud"));
        Assert.Equal(LicenceStatus.RevokedAsPenalty, Status(id));
        Assert.Equal(7, (int)Status(id));
    }

    [Theory]
    [InlineData("resume a valid licence")]
    [InlineData("suspend a revoked licence")]
    [InlineData("cancel a cancelled licence")]
    public void Rejects_a_status_change_the_lifecycle_does_not_allow_as_InvalidLicenceTransition(string scenario)
    {
        var id = Issue();
        ITransactionBody change = scenario switch
        {
            "resume a valid licence" => new LicenceResume(id, "r"),
            "suspend a revoked licence" => Then(new LicenceRevoke(id, false, "r"), new LicenceSuspend(id, "r")),
            _ => Then(new LicenceCancel(id, "r"), new LicenceCancel(id, "r")),
        };
        AssertRejected(RejectionCode.InvalidLicenceTransition, _ledger.Submit(Issuer, change));
    }

    [Fact]
    public void Rejects_a_malformed_identifier_as_InvalidLicenceIdentifier()
        => AssertRejected(RejectionCode.InvalidLicenceIdentifier, _ledger.Submit(Build.A.Licence.WithIdentifier("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.G")));

    [Fact]
    public void Rejects_an_identifier_naming_another_issuer_as_LicenceIssuerMismatch()
        => AssertRejected(RejectionCode.LicenceIssuerMismatch, _ledger.Submit(Build.A.Licence.WithIdentifier("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F")));

    [Fact]
    public void Rejects_a_status_change_by_another_issuer_of_the_region_as_LicenceIssuerMismatch_and_from_another_region_as_RegionMismatch()
    {
        var otherIssuer = new TestKey(210, "Beijing intellectual property office", "914403001922038216", "BJ");
        var ledger = TestLedger.Start(Build.A.Genesis.WithMember(otherIssuer, MemberRole.LicenceIssuer).InSuite(suite).TestObject);
        var licence = Build.A.Licence.By(Issuer);
        ledger.Accept(licence);
        AssertRejected(RejectionCode.LicenceIssuerMismatch, ledger.Submit(otherIssuer, new LicenceSuspend(licence.Identifier, "not mine")));
        AssertRejected(RejectionCode.RegionMismatch, ledger.Submit(TestKeys.TianjinRegulator, new LicenceSuspend(licence.Identifier, "not mine")));
    }

    [Fact]
    public void Rejects_a_change_to_an_unknown_licence_as_UnknownLicence()
        => AssertRejected(RejectionCode.UnknownLicence, _ledger.Submit(Issuer, new LicenceSuspend(SampleTransactions.LicenceIdentifier(1), "x")));

    [Fact]
    public void Rejects_issuing_a_licence_twice_or_outside_the_issuers_region()
    {
        var id = Issue();
        AssertRejected(RejectionCode.DuplicateId, _ledger.Submit(Build.A.Licence.WithIdentifier(id)));
        AssertRejected(RejectionCode.RegionMismatch, _ledger.Submit(Build.A.Licence.Numbered("77").InArea("120101")));
        AssertRejected(RejectionCode.InvalidField, _ledger.Submit(Build.A.Licence.Numbered("78").ValidBetween(10, 10)));
    }

    [Fact]
    public void A_change_issues_the_next_version_pointing_to_the_previous_one()
    {
        var v1 = Issue();
        var v2 = SampleTransactions.LicenceIdentifier(2);
        _ledger.Accept(Issuer, new LicenceChange(v1, v2, _ledger.UnixNow, _ledger.UnixNow + 1_000_000, Build.Id("f2"), "new address"));

        var previous = _ledger.Read(StateKeys.Licence(v1), LicenceState.Read)!;
        var next = _ledger.Read(StateKeys.Licence(v2), LicenceState.Read)!;
        Assert.Equal((LicenceStatus.Other, v2), (previous.Status, previous.Next));
        Assert.Equal((LicenceStatus.Valid, v1), (next.Status, next.Previous));
    }

    [Fact]
    public void Rejects_a_version_that_is_not_the_next_one_as_LicenceVersionNotNext()
    {
        var v1 = Issue();
        AssertRejected(RejectionCode.LicenceVersionNotNext, _ledger.Submit(Issuer, new LicenceChange(v1, SampleTransactions.LicenceIdentifier(3), 1, 2, default, "skip")));
        AssertRejected(RejectionCode.LicenceVersionNotNext, _ledger.Submit(Build.A.Licence.Numbered("99").Version(2)));
    }

    [Fact]
    public void A_licence_past_its_end_date_reads_expired_and_can_only_be_renewed_or_cancelled()
    {
        var id = Issue(Build.A.Licence.ValidUntil(_ledger.Now.AddDays(30)));
        _ledger.AdvanceBy(TimeSpan.FromDays(31));
        Assert.Equal(LicenceStatus.Expired, _ledger.Read(StateKeys.Licence(id), LicenceState.Read)!.EffectiveStatusAt(_ledger.UnixNow));
        AssertRejected(RejectionCode.LicenceExpired, _ledger.Submit(Issuer, new LicenceSuspend(id, "late")));
        _ledger.Accept(Issuer, new LicenceChange(id, SampleTransactions.LicenceIdentifier(2), _ledger.UnixNow, _ledger.UnixNow + 1_000_000, default, "renewal"));
    }

    [Fact]
    public void A_status_change_needs_the_identifiers_issuer_segment_to_be_the_signers_own_uscc()
    {
        // Beijing issues a licence, leaves, and is re-admitted under another USCC: the licence names an issuer it no
        // longer is, so it may not change the licence's status.
        var ledger = TestLedger.Start(Build.A.Genesis.WithOnlyMembers(TestKeys.BeijingRegulator, TestKeys.TianjinRegulator).InSuite(suite).TestObject);
        var licence = Build.A.Licence.By(Issuer);
        ledger.Accept(licence);
        ledger.Accept(TestKeys.TianjinRegulator, new GovernancePropose(Build.Id("out"), GovernanceAction.RemoveMember, Issuer.AddressIn(suite), "", "", "", MemberRole.None));
        ledger.Accept(Issuer, new GovernanceVote(Build.Id("out"), true));
        ledger.Accept(TestKeys.TianjinRegulator, new GovernancePropose(Build.Id("in"), GovernanceAction.AddMember, Issuer.AddressIn(suite), "91110000802100433B", "Renamed institution", "BJ", MemberRoles.All));
        Assert.Equal("91110000802100433B", ledger.Read(StateKeys.Member(Issuer.AddressIn(suite)), MemberState.Read)!.Uscc);

        AssertRejected(RejectionCode.LicenceIssuerMismatch, ledger.Submit(Issuer, new LicenceSuspend(licence.Identifier, "inspection")));
    }

    private string Issue(LicenceBuilder? builder = null)
    {
        builder ??= Build.A.Licence;
        _ledger.Accept(builder.By(Issuer));
        return builder.Identifier;
    }

    private LicenceStatus Status(string id) => _ledger.Read(StateKeys.Licence(id), LicenceState.Read)!.EffectiveStatusAt(_ledger.UnixNow);

    private ITransactionBody Then(ITransactionBody first, ITransactionBody second)
    {
        _ledger.Accept(Issuer, first);
        return second;
    }

    public sealed class Eth() : LicenceRulesTests(CryptoSuiteId.Eth);

    public sealed class Gm() : LicenceRulesTests(CryptoSuiteId.Gm);
}
