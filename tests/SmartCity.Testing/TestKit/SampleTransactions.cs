using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Testing.TestKit;

/// <summary>One well-formed body of every kind (valid in form; whether the rules accept it depends on state).</summary>
public static class SampleTransactions
{
    private const ulong Time = 1_767_312_000; // 2026-01-02

    public static string Licence => LicenceIdentifier(1);

    public static IReadOnlyList<ITransactionBody> OfEveryKind { get; } =
    [
        new CreditRecordSubmit(Build.Id("r"), TestKeys.Company, RecordCategory.AdministrativePenalty, Severity.Moderate, "110105", Time, 6, "Administrative Penalty Law, art. 28", "", Build.Id("payload")),
        new CreditRecordAmend(Build.Id("r"), Severity.Serious, 24, "Administrative Penalty Law, art. 28", Build.Id("payload-2"), "re-assessed"),
        new CreditRecordRepair(Build.Id("r"), "rectified and paid"),
        new CreditRecordAnnul(Build.Id("r"), "issued in error"),
        new ObjectionFile(Build.Id("o"), Build.Id("r"), Build.Id("grounds")),
        new ObjectionResolve(Build.Id("o"), ObjectionOutcome.Upheld, Build.Id("answer")),
        new LicenceIssue(Licence, TestKeys.Company, "Business licence", "110105", Time, Time + 86_400_000, Build.Id("file")),
        new LicenceSuspend(Licence, "under investigation"),
        new LicenceResume(Licence, "cleared"),
        new LicenceChange(Licence, LicenceIdentifier(2), Time, Time + 86_400_000, Build.Id("file-2"), "address changed"),
        new LicenceRevoke(Licence, true, "fraud"),
        new LicenceCancel(Licence, "business closed"),
        new ListEntryAdd(Build.Id("e"), TestKeys.Company, ListColour.Black, "court-defaulter", "Civil Procedure Law, art. 262", "110105", Time, 0),
        new ListEntryRemove(Build.Id("e"), "debt performed"),
        new MemorandumPublish(Build.Id("m"), "Joint punishment of court-listed defaulters", ListColour.Black, "court-defaulter", ["restrict-high-consumption", "ban-public-procurement"], ["BJ", "TJ", "HE", "XA"], Time, 0),
        new MeasureFeedback(Build.Id("f"), Build.Id("e"), Build.Id("m"), "ban-public-procurement", FeedbackOutcome.Applied, Time),
        new GovernancePropose(Build.Id("p"), GovernanceAction.AddMember, new Address(Convert.FromHexString("00000000000000000000000000000000000000aa")), "91110000802100433B", "Bank of Beijing", "BJ", MemberRole.MeasureImplementer),
        new GovernanceVote(Build.Id("p"), true),
    ];

    public static string LicenceIdentifier(int version)
        => SmartCity.Ledger.Domain.Identifiers.LicenceIdentifier.Compose(LicenceBuilder.TypeCode, TestKeys.BeijingRegulator.Uscc, "2430599", version);
}
