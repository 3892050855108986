using System.Text;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Score;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Score;

/// <summary>The per-subject index the score reads is part of the certified state and always agrees with the objects it summarises.</summary>
public sealed class SubjectIndexTests
{
    [Theory]
    [InlineData(7)]
    [InlineData(20261202)]
    public void After_any_transactions_each_subjects_index_summarises_exactly_its_records_and_list_entries_as_they_are_now(int seed)
    {
        var ledger = TestLedger.Start();
        var random = new RandomTransactions(seed);
        var records = new List<(string Subject, Hash256 Id)>();
        var entries = new List<(string Subject, Hash256 Id)>();
        for (var i = 0; i < 1500; i++)
        {
            ledger.AdvanceBy(random.NextPause());
            var (signer, body) = random.Next(ledger.UnixNow);
            if (!ledger.Submit(signer, body).IsAccepted)
            {
                continue;
            }

            switch (body)
            {
                case CreditRecordSubmit b: records.Add((b.Subject, b.RecordId)); break;
                case ListEntryAdd b: entries.Add((b.Subject, b.EntryId)); break;
            }
        }

        var subjects = records.Select(r => r.Subject).Concat(entries.Select(e => e.Subject)).Distinct().ToList();
        Assert.True(records.Count >= 20 && entries.Count >= 10 && subjects.Count >= 3, $"{records.Count} records, {entries.Count} entries, {subjects.Count} subjects");
        var amended = 0;
        foreach (var subject in subjects)
        {
            var index = ledger.Read(StateKeys.SubjectIndex(subject), SubjectIndexState.Read)!;
            var expectedRecords = records.Where(r => r.Subject == subject).Select(r => ledger.Read(StateKeys.Record(r.Id), CreditRecordState.Read)!).ToList();
            var expectedEntries = entries.Where(e => e.Subject == subject).Select(e => ledger.Read(StateKeys.ListEntry(e.Id), ListEntryState.Read)!).ToList();

            Assert.Equal(records.Where(r => r.Subject == subject).Select(r => RecordSummaryOf(ledger, r.Id)), index.Records.Select(r => r with { LegalBasisText = 0 }));
            Assert.Equal(expectedRecords.Select(r => r.LegalBasis), index.Records.Select(r => index.Texts[(int)r.LegalBasisText]));
            Assert.Equal(entries.Where(e => e.Subject == subject).Select(e => EntrySummaryOf(ledger, e.Id)), index.Entries.Select(e => e with { ListTypeText = 0, LegalBasisText = 0, RegionText = 0 }));
            Assert.Equal(expectedEntries.Select(e => (e.ListType, e.LegalBasis, e.Region)), index.Entries.Select(e => (index.Texts[(int)e.ListTypeText], index.Texts[(int)e.LegalBasisText], index.Texts[(int)e.RegionText])));

            // The text table holds each cited text once, and nothing else.
            var cited = index.Records.Select(r => r.LegalBasisText).Concat(index.Entries.SelectMany(e => new[] { e.ListTypeText, e.LegalBasisText, e.RegionText })).Distinct().Order();
            Assert.Equal(Enumerable.Range(0, index.Texts.Count).Select(i => (uint)i), cited);
            Assert.Equal(index.Texts.Count, index.Texts.Distinct(StringComparer.Ordinal).Count());
            amended += index.Records.Count(r => r.Status != RecordStatus.Active || !r.OpenObjection.IsZero);
        }

        Assert.True(amended > 0, "the run should repair, annul or dispute some records");
    }

    [Fact]
    public void The_text_table_cites_each_distinct_text_once_in_first_citation_order_however_many_there_are()
    {
        // Thirty records citing twelve distinct legal bases, re-cited out of order,
        // then a list entry citing one of them again and two new ones; then the first record re-cites another basis.
        var index = SubjectIndexState.Empty;
        var summaries = new List<RecordSummary>();
        for (var i = 0; i < 30; i++)
        {
            var summary = Summary(i);
            summaries.Add(summary);
            index = index.With(summary, $"basis {(i * 5) % 12}");
        }

        var entry = new ListEntrySummary(Keccak256.Hash([0xE0]), Keccak256.Hash([0xE1]), ListColour.Black, 1, 2, 0, Keccak256.Hash([0xE2]), default, 0, 0, 0);
        index = index.With(entry, "type A", "basis 7", "region BJ");
        index = index.With(summaries[0] with { Status = RecordStatus.Repaired }, "basis 11");

        // Texts in the order they are first cited: the records' bases in record order, then the entry's three.
        var expectedTexts = Enumerable.Range(0, 30).Select(i => i == 0 ? "basis 11" : $"basis {(i * 5) % 12}")
            .Concat(["type A", "basis 7", "region BJ"]).Distinct().ToList();
        Assert.True(expectedTexts.Count > 8);
        Assert.Equal(expectedTexts, index.Texts);
        Assert.Equal(30, index.Records.Count);
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(i == 0 ? "basis 11" : $"basis {(i * 5) % 12}", index.Texts[(int)index.Records[i].LegalBasisText]);
            Assert.Equal(summaries[i].RecordId, index.Records[i].RecordId);
        }

        Assert.Equal(RecordStatus.Repaired, index.Records[0].Status);
        var cited = Assert.Single(index.Entries);
        Assert.Equal(("type A", "basis 7", "region BJ"), (index.Texts[(int)cited.ListTypeText], index.Texts[(int)cited.LegalBasisText], index.Texts[(int)cited.RegionText]));

        // Encoded and read back, the index is the same value.
        Assert.Equal(index, StateValue.Decode(StateValue.Encode(index), SubjectIndexState.Read));
    }

    private static RecordSummary Summary(int i) =>
        new(Keccak256.Hash([(byte)i]), Keccak256.Hash([(byte)i, 1]), RecordCategory.AdministrativePenalty, Severity.Minor, 0, RecordStatus.Active, (ulong)i, 12, 0, default, 0, default, 0, 0);

    [Fact]
    public void The_index_read_in_place_gives_the_same_summaries_as_the_decoder()
    {
        var ledger = TestLedger.Start();
        ledger.Accept(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(TestKeys.Company).Penalty(Severity.Serious, 36));
        ledger.Accept(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(TestKeys.Company).Of(RecordCategory.TaxGrade, 12, "B"));
        ledger.Accept(Build.A.ListEntry.By(TestKeys.BeijingCourt).For(TestKeys.Company).ExpiringAt(ledger.Now.AddYears(2)));
        var value = ledger.State.Get(StateKeys.SubjectIndex(TestKeys.Company))!;

        var decoded = StateValue.Decode(value, SubjectIndexState.Read);
        Assert.True(SubjectIndexView.TryParse(value, out var view));

        Assert.Equal(decoded.Records, Enumerable.Range(0, view.RecordCount).Select(i => ReadRecord(value, i)));
        Assert.Equal(decoded.Entries, Enumerable.Range(0, view.EntryCount).Select(i => ReadEntry(value, i)));
        Assert.Equal(decoded.Texts, Enumerable.Range(0, decoded.Texts.Count).Select(i => ReadText(value, (uint)i)));
        Assert.Equal(["Administrative Penalty Law, art. 28", "court-defaulter", "Civil Procedure Law, art. 262", "BJ"], decoded.Texts);
        Assert.Equal((byte)'B', decoded.Records[1].Grade);
        for (var length = 1; length < value.Length; length++)
        {
            Assert.False(SubjectIndexView.TryParse(value.AsSpan(0, length), out _), $"a value cut to {length} bytes parsed");
        }
    }

    [Theory]
    [MemberData(nameof(TestKeys.Suites), MemberType = typeof(TestKeys))]
    public void The_keys_a_score_hashes_itself_are_the_keys_of_the_state_layout_in_each_suite(CryptoSuiteId suiteId)
    {
        var suite = CryptoSuite.For(suiteId);
        var id = Build.Id("some id");
        var subject = Subject.Parse(TestKeys.Company).Value;
        var person = Subject.NaturalPerson(id);
        Assert.Equal(StateKeys.SubjectIndex(subject.Text).HashIn(suite), ScoreKeys.SubjectIndex(subject, suite));
        Assert.Equal(StateKeys.SubjectIndex(person.Text).HashIn(suite), ScoreKeys.SubjectIndex(person, suite));
        Assert.Equal(suite.Hash("subject/uscc:91350100M000100Y43"u8), ScoreKeys.SubjectIndex(subject, suite));
        Assert.Equal("subject/uscc:91350100M000100Y43", StateKeys.SubjectIndex(subject.Text).Text);
        Assert.StartsWith("memoranda/black/0x", StateKeys.MemorandaOfList(ListColour.Black, "失信被执行人", suite).Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Memoranda_are_indexed_by_their_list_in_publication_order()
    {
        var ledger = TestLedger.Start();
        var first = Build.A.Memorandum.Covering(ListColour.Black, "失信被执行人");
        var other = Build.A.Memorandum.Covering(ListColour.Red, "失信被执行人");
        var second = Build.A.Memorandum.Covering(ListColour.Black, "失信被执行人");
        ledger.Accept(first);
        ledger.Accept(other);
        ledger.Accept(second);

        Assert.Equal([first.Id, second.Id], ledger.Read(StateKeys.MemorandaOfList(ListColour.Black, "失信被执行人", ledger.State.Suite), MemorandumListState.Read)!.Ids);
        var raw = ledger.State.Get(StateKeys.MemorandaOfList(ListColour.Black, "失信被执行人", ledger.State.Suite))!;
        Assert.Equal(ledger.State.KeyHash(StateKeys.Memorandum(second.Id)), new Hash256(raw.AsSpan(4 + MemorandumListState.EntrySize + Hash256.Size, Hash256.Size)));
        Assert.Equal([other.Id], ledger.Read(StateKeys.MemorandaOfList(ListColour.Red, "失信被执行人", ledger.State.Suite), MemorandumListState.Read)!.Ids);
    }

    [Fact]
    public void A_rejected_transaction_leaves_the_index_untouched()
    {
        var ledger = TestLedger.Start();
        var record = Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(TestKeys.Company).Penalty(Severity.Serious, 36);
        ledger.Accept(record);
        var before = ledger.State.Get(StateKeys.SubjectIndex(TestKeys.Company));

        var tooEarly = ledger.Submit(TestKeys.BeijingRegulator, new CreditRecordRepair(record.Id, "asked after a month"));

        Assert.Equal(RejectionCode.RepairTooEarly, tooEarly.Code);
        Assert.Equal(before, ledger.State.Get(StateKeys.SubjectIndex(TestKeys.Company)));
    }

    private static RecordSummary ReadRecord(byte[] value, int index)
    {
        SubjectIndexView.TryParse(value, out var view);
        return view.Record(index);
    }

    private static ListEntrySummary ReadEntry(byte[] value, int index)
    {
        SubjectIndexView.TryParse(value, out var view);
        return view.Entry(index);
    }

    private static string ReadText(byte[] value, uint position)
    {
        SubjectIndexView.TryParse(value, out var view);
        return Encoding.UTF8.GetString(view.Text(position));
    }

    /// <summary>The summary the index should hold for a record, as the record and its open objection are now (texts left out).</summary>
    private static RecordSummary RecordSummaryOf(TestLedger ledger, Hash256 id)
    {
        var r = ledger.Read(StateKeys.Record(id), CreditRecordState.Read)!;
        var objection = r.OpenObjection.IsZero ? null : ledger.Read(StateKeys.Objection(r.OpenObjection), ObjectionState.Read)!;
        var repairAfter = r.Severity switch
        {
            Severity.Minor => ledger.Genesis.Parameters.Minor.RepairAfterMonths,
            Severity.Moderate => ledger.Genesis.Parameters.Moderate.RepairAfterMonths,
            _ => ledger.Genesis.Parameters.Serious.RepairAfterMonths,
        };
        return new RecordSummary(id, ledger.State.KeyHash(StateKeys.Record(id)), r.Category, r.Severity, r.Grade.Length == 1 ? (byte)r.Grade[0] : (byte)0, r.Status, r.DecidedAt, r.PublicationMonths,
            r.Category == RecordCategory.AdministrativePenalty ? LedgerTime.AddMonths(r.DecidedAt, repairAfter) : 0,
            r.Designator, 0, r.OpenObjection, objection?.FiledAt ?? 0, objection?.DeadlineAt ?? 0);
    }

    private static ListEntrySummary EntrySummaryOf(TestLedger ledger, Hash256 id)
    {
        var e = ledger.Read(StateKeys.ListEntry(id), ListEntryState.Read)!;
        return new(id, ledger.State.KeyHash(StateKeys.ListEntry(id)), e.Colour, e.EffectiveFrom, e.ExpiresAt, e.RemovedAt, ledger.State.KeyHash(StateKeys.MemorandaOfList(e.Colour, e.ListType, ledger.State.Suite)), e.Initiator, 0, 0, 0);
    }
}
