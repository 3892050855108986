using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Node.Tests;

public sealed class LedgerProjectorTests
{
    [Fact]
    public void A_block_projects_one_current_row_for_each_record_licence_entry_memorandum_and_feedback_the_catalogue_says_it_touched()
    {
        var genesis = GenesisBuilder.Sample.Value;
        var time = genesis.GenesisTime.AddDays(1);
        var ledger = TestLedger.Start();
        ledger.AdvanceTo(time);
        var record = Build.A.CreditRecord.By(TestKeys.BeijingRegulator);
        var licence = Build.A.Licence.By(TestKeys.BeijingRegulator);
        var next = SmartCity.Ledger.Domain.Identifiers.LicenceIdentifier.Parse(licence.Identifier).Value.NextVersion();
        var entry = Build.A.ListEntry.By(TestKeys.BeijingCourt);
        var memorandum = Build.A.Memorandum;
        var signed = new List<SignedTransaction>();
        void Add(TestKey signer, ITransactionBody body)
        {
            var transaction = ledger.Sign(signer, body);
            Assert.True(ledger.Submit(transaction).IsAccepted);
            signed.Add(transaction);
        }

        Add(record.Signer, record.Body());
        Add(TestKeys.TianjinRegulator, new ObjectionFile(Build.Id("objection"), record.Id, Build.Id("grounds"))); // same record, later in the block
        Add(licence.Signer, licence.Body());
        Add(TestKeys.BeijingRegulator, new LicenceChange(licence.Identifier, next, ledger.UnixNow, ledger.UnixNow + 1_000_000, Build.Id("file-2"), "moved"));
        Add(entry.Signer, entry.Body());
        Add(memorandum.Signer, memorandum.Body());
        Add(TestKeys.TianjinRegulator, new MeasureFeedback(Build.Id("feedback"), entry.Id, memorandum.Id, "ban-public-procurement", FeedbackOutcome.Applied, ledger.UnixNow));

        var candidate = new LedgerChain(genesis, Secp256k1.Default).Propose(signed.Select(t => (ReadOnlyMemory<byte>)TransactionCodec.Encode(t)), time);
        Assert.Equal(signed.Count, candidate.Body.Included.Count);
        var rows = LedgerProjector.Project(candidate, ledger.State);

        var row = Assert.Single(rows.CreditRecords);
        Assert.Equal((record.Id.ToString(), (short)PublicationStatus.Disputed), (row.RecordId, row.Status));
        Assert.Equal([(licence.Identifier, (short)LicenceStatus.Other), (next, (short)LicenceStatus.Valid)], rows.Licences.Select(l => (l.Identifier, l.Status)).Order());
        Assert.Equal(entry.Id.ToString(), Assert.Single(rows.ListEntries).EntryId);
        var memo = Assert.Single(rows.Memoranda);
        Assert.Equal((memorandum.Id.ToString(), TestKeys.JointCreditOffice.Address), (memo.MemorandumId, memo.Publisher));
        var feedback = Assert.Single(rows.MeasureApplications);
        Assert.Equal((Build.Id("feedback").ToString(), TestKeys.Company, TestKeys.TianjinRegulator.Address), (feedback.ApplicationId, feedback.Subject, feedback.Implementer));
    }
}
