using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using SmartCity.Benchmarks.Proofs;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.Score;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;

namespace SmartCity.Benchmarks.Score;

/// <summary>
/// Issue 11's target: scoring a subject with 50 records and 3 list entries at the head, under 50 µs and 8 KB. The
/// subject's records (penalties of every severity from four members, a court record, tax grades, honours, one repaired,
/// one annulled, one disputed) and list entries (one black with two memoranda in force, two red with one) are written
/// by the state machine into a state of 1,000,000 other keys, so the state tree is as deep as a production one.
/// The score reads the subject index, two memorandum lists and three memoranda: six state reads, one key hash. The
/// baseline reads one state key (hash the key text, walk the tree): the least any query costs. Min and median are
/// shown because the shared machines are noisy: other work only ever adds time.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
[Config(typeof(PatientBuild))]
public class TrustScoreBenchmarks
{
    private static readonly DateTimeOffset T0 = GenesisBuilder.Sample.Value.GenesisTime;
    private StateTreeReader _state = null!;
    private BlockHeader _header = null!;
    private Subject _subject;

    [GlobalSetup]
    public void Setup()
    {
        var ledger = SubjectWithFiftyRecords();
        var (tree, root) = MillionKeyState.Build();
        root = tree.Apply(root, [.. ledger.State.Entries.Select(e => new StateWrite(e.Key, e.Value))]);
        _state = new StateTreeReader(tree, root);
        _header = new BlockHeader(GenesisBuilder.Sample.Value.ChainId, 1_000, Hash256.Zero, ledger.Now.ToUnixTimeMilliseconds(), Address.Zero, 0, 0, Rfc6962.EmptyRoot, root, 0, Rfc6962.EmptyRoot, Hash256.Zero);
        _subject = Subject.Parse(TestKeys.Company).Value;

        var score = TrustScorer.V1.Score(_state, _header, _subject);
        if (score.Counts.Total != 50 || score.ListEntries.Count != 3 || score.Reasons.Count != 4)
        {
            throw new InvalidOperationException($"the benchmark subject is not as described: {score.Counts}, {score.ListEntries.Count} entries, {score.Reasons.Count} reasons");
        }
    }

    [Benchmark(Baseline = true, Description = "read one state key (the subject index)")]
    public byte[]? ReadOneKey() => _state.Get(StateKeys.SubjectIndex(_subject.Text).HashIn(_state.Suite));

    [Benchmark(Description = "score a subject: 50 records, 3 list entries, 1M-key state")]
    public TrustScore Score() => TrustScorer.V1.Score(_state, _header, _subject);

    private static TestLedger SubjectWithFiftyRecords()
    {
        var ledger = TestLedger.Start();
        var company = TestKeys.Company;
        ledger.Accept(Build.A.Memorandum.Covering(ListColour.Black, "court-defaulter"));
        ledger.Accept(Build.A.Memorandum.Covering(ListColour.Black, "court-defaulter").WithMeasures("ban-public-procurement", "restrict-fiscal-funds", "stricter-licence-review"));
        ledger.Accept(Build.A.Memorandum.Covering(ListColour.Red, "a-grade-taxpayer").WithMeasures("green-channel", "fewer-inspections", "credit-loans"));
        ledger.Accept(Build.A.ListEntry.By(TestKeys.BeijingCourt).For(company).On(ListColour.Black, "court-defaulter"));
        ledger.Accept(Build.A.ListEntry.By(TestKeys.TianjinRegulator).For(company).InDivision("120101").On(ListColour.Red, "a-grade-taxpayer"));
        ledger.Accept(Build.A.ListEntry.By(TestKeys.HebeiRegulator).For(company).InDivision("130102").On(ListColour.Red, "a-grade-taxpayer"));

        (TestKey Member, string Division)[] designators = [(TestKeys.BeijingRegulator, "110105"), (TestKeys.TianjinRegulator, "120101"), (TestKeys.HebeiRegulator, "130102"), (TestKeys.XionganCommittee, "133100")];
        string[] bases = ["Food Safety Law, art. 124", "Advertising Law, art. 55", "Product Quality Law, art. 49"];
        var records = new List<(Hash256 Id, TestKey By)>();
        for (var i = 0; i < 50; i++)
        {
            var (member, division) = designators[i % designators.Length];
            var month = i % 20;
            ledger.AdvanceTo(T0.AddMonths(month).AddDays(1));
            var record = (i % 10) switch
            {
                0 or 1 or 2 => Build.A.CreditRecord.Penalty(Severity.Minor, 3),
                3 or 4 or 5 => Build.A.CreditRecord.Penalty(Severity.Moderate, 12),
                6 => Build.A.CreditRecord.Penalty(Severity.Serious, 36),
                7 => Build.A.CreditRecord.Of(RecordCategory.TaxGrade, 12, "ABMCD"[i / 10].ToString()),
                8 => Build.A.CreditRecord.Of(RecordCategory.Honour, 36),
                _ => i == 9 ? Build.A.CreditRecord.Of(RecordCategory.CourtDefaulter, 24) : Build.A.CreditRecord.Penalty(Severity.Moderate, 12),
            };
            record.By(i == 9 ? TestKeys.BeijingCourt : member).InDivision(i == 9 ? "110105" : division).For(company).Citing(bases[i % bases.Length]).DecidedAt(T0.AddMonths(month));
            ledger.Accept(record);
            records.Add((record.Id, record.Signer));
        }

        ledger.AdvanceTo(T0.AddMonths(21));
        ledger.Accept(records[3].By, new CreditRecordRepair(records[3].Id, "rectified"));
        ledger.Accept(records[13].By, new CreditRecordAnnul(records[13].Id, "wrong subject"));
        ledger.Accept(TestKeys.JointCreditOffice, new ObjectionFile(Build.Id("benchmark objection"), records[46].Id, Build.Id("grounds")));
        ledger.AdvanceTo(T0.AddMonths(22));
        return ledger;
    }

    /// <summary>The shared 2-core machines can take more than BenchmarkDotNet's default two minutes to build the runner.</summary>
    private sealed class PatientBuild : ManualConfig
    {
        public PatientBuild() => WithBuildTimeout(TimeSpan.FromMinutes(15));
    }
}
