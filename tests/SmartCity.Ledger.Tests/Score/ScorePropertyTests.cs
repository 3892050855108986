using CsCheck;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Score;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Tests.Score.ScoreKit;

namespace SmartCity.Ledger.Tests.Score;

/// <summary>
/// Properties over arbitrary histories of one subject (records of every kind, repairs, annulments, objections and
/// answers, list entries and removals, months passing), generated and shrunk by CsCheck.
/// </summary>
public sealed class ScorePropertyTests
{
    private static readonly string Company = TestKeys.Company;

    /// <summary>An operation: what to do (0-11) and two numbers it draws its details from.</summary>
    private static readonly Gen<(int Kind, int A, int B)[]> Histories = Gen.Select(Gen.Int[0, 11], Gen.Int[0, 1_000], Gen.Int[0, 1_000]).Array[1, 40];

    [Fact]
    public void The_score_stays_within_0_and_1000_and_its_parts_add_up_whatever_the_history()
    {
        Histories.Sample(history =>
        {
            var (ledger, submitted) = Replay(history);
            foreach (var months in new[] { 0, 7, 40, 75 })
            {
                ledger.AdvanceBy(TimeSpan.FromDays(months * 30));
                var score = ledger.ScoreOf(Company);

                Assert.InRange(score.Score, 0, 1000);
                Assert.Equal(Math.Clamp(score.RawPoints, 0, 1000), score.Score);
                Assert.Equal(score.RawPoints, score.BasePoints + score.Reasons.Sum(r => r.Points) + score.OtherPoints);
                Assert.Equal(submitted, score.Counts.Total);
                Assert.Equal(score.Counts.Disputed, score.Disputed.Count);
                Assert.True(score.Reasons.Count <= 4);
                Assert.Equal(score.ListEntries.Any(e => e.Colour == ListColour.Black), score.Listed);
                Assert.Equal(score.Listed ? ScoreBand.D : ScoreModels.V1.BandOf(score.Score), score.Band);
                Assert.Equal(score.Listed, score.Reasons.Count > 0 && score.Reasons[0].Code == ReasonCode.BlackListed);
                Assert.True(score.Reasons.Where(r => r.Code != ReasonCode.BlackListed).Select(r => Math.Abs(r.Points)).SequenceEqual(score.Reasons.Where(r => r.Code != ReasonCode.BlackListed).Select(r => Math.Abs(r.Points)).OrderDescending()));
            }
        }, iter: 60);
    }

    [Fact]
    public void The_score_read_through_the_state_tree_is_the_score_read_from_the_state_dictionary()
    {
        Histories.Sample(history =>
        {
            var (ledger, _) = Replay(history);
            var tree = new StateTree(new InMemoryStateNodeStore(), ledger.State.Suite);
            var root = tree.Apply(StateTree.EmptyRoot, [.. ledger.State.Entries.Select(e => new StateWrite(e.Key, e.Value))]);
            var header = HeaderAt(ledger.Now.AddMonths(5), height: 3);
            var subject = SmartCity.Ledger.Domain.Identifiers.Subject.Parse(Company).Value;

            Assert.Equal(
                TrustScoreJson.Write(TrustScorer.V1.Score(ledger.State, header, subject)),
                TrustScoreJson.Write(TrustScorer.V1.Score(new StateTreeReader(tree, root), header, subject)));
        }, iter: 30);
    }

    /// <summary>Applies a generated history to a fresh ledger; returns it and how many records were accepted.</summary>
    private static (TestLedger Ledger, int Records) Replay((int Kind, int A, int B)[] history)
    {
        var ledger = TestLedger.Start();
        var records = new List<(Hash256 Id, TestKey By)>();
        var objections = new List<(Hash256 Id, TestKey By)>();
        var entries = new List<(Hash256 Id, TestKey By)>();
        var sequence = 0;
        foreach (var (kind, a, b) in history)
        {
            var id = Build.Id($"property-{sequence++}");
            var decidedAt = ledger.Now.AddDays(-(a % 60)) < T0 ? T0 : ledger.Now.AddDays(-(a % 60));
            CreditRecordBuilder? record = kind switch
            {
                0 => Build.A.CreditRecord.Penalty(Severity.Minor, (uint)(b % 4)),
                1 => Build.A.CreditRecord.Penalty(Severity.Moderate, (uint)(3 + (b % 10))),
                2 => Build.A.CreditRecord.Penalty(Severity.Serious, (uint)(12 + (b % 25))),
                3 => Build.A.CreditRecord.By(TestKeys.BeijingCourt).Of(RecordCategory.CourtDefaulter, (uint)(24 + (b % 37))),
                4 => Build.A.CreditRecord.Of(RecordCategory.TaxGrade, (uint)(1 + (b % 36)), "ABMCD"[b % 5].ToString()),
                5 => Build.A.CreditRecord.By(TestKeys.TianjinRegulator).InDivision("120101").Of(RecordCategory.Honour, (uint)(1 + (b % 36))),
                _ => null,
            };
            if (record is not null)
            {
                record.WithId(id).For(Company).Citing(b % 2 == 0 ? "Food Safety Law" : "Tax Administration Law").DecidedAt(decidedAt);
                if (ledger.Submit(record).IsAccepted)
                {
                    records.Add((id, record.Signer));
                }

                continue;
            }

            switch (kind)
            {
                case 6 when records.Count > 0:
                    var repaired = records[a % records.Count];
                    ledger.Submit(repaired.By, new CreditRecordRepair(repaired.Id, "rectified"));
                    break;
                case 7 when records.Count > 0:
                    var annulled = records[a % records.Count];
                    ledger.Submit(annulled.By, new CreditRecordAnnul(annulled.Id, "wrong subject"));
                    break;
                case 8 when records.Count > 0:
                    var disputed = records[a % records.Count];
                    if (ledger.Submit(TestKeys.HebeiRegulator, new ObjectionFile(id, disputed.Id, Build.Id("grounds"))).IsAccepted)
                    {
                        objections.Add((id, disputed.By));
                    }

                    break;
                case 9 when objections.Count > 0:
                    var answered = objections[a % objections.Count];
                    ledger.Submit(answered.By, new ObjectionResolve(answered.Id, (ObjectionOutcome)(1 + (b % 3)), Build.Id("answer")));
                    break;
                case 10:
                    var entry = Build.A.ListEntry.WithId(id).By(TestKeys.BeijingCourt).For(Company).On(b % 3 == 0 ? ListColour.Red : ListColour.Black, "court-defaulter");
                    if (b % 2 == 0)
                    {
                        entry.ExpiringAt(ledger.Now.AddDays(1 + (a % 400)));
                    }

                    if (ledger.Submit(entry).IsAccepted)
                    {
                        entries.Add((id, entry.Signer));
                    }

                    break;
                case 11 when entries.Count > 0 && b % 2 == 0:
                    var removed = entries[a % entries.Count];
                    ledger.Submit(removed.By, new ListEntryRemove(removed.Id, "performed"));
                    break;
                default:
                    ledger.AdvanceBy(TimeSpan.FromDays(1 + a));
                    break;
            }
        }

        return (ledger, records.Count);
    }
}
