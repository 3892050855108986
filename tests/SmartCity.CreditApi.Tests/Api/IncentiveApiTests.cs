using Google.Rpc;
using Grpc.Core;
using SmartCity.Contracts.Credit.V1;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;
using LedgerListColour = SmartCity.Ledger.Domain.Transactions.ListColour;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// IncentiveService over real HTTP/2: a subject's list entries with their status and the transaction that wrote them,
/// the measures the memoranda in force oblige an implementer to apply — each traced to its list entry and memorandum,
/// extended across regions by the memorandum's regions — and precise refusals of bad input that read and log nothing.
/// </summary>
public sealed class IncentiveApiTests : IAsyncLifetime
{
    private const int BeijingRegulator = 0;   // ListInitiator, MeasureImplementer in BJ
    private const int HebeiRegulator = 2;     // MeasureImplementer in HE

    private readonly ApiNode _api = new();

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    private static Hash256 Id(string name) => Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(name));

    private static ulong Now(int days = 0) => LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(days));

    /// <summary>Tianjin black-lists the holder as a court defaulter; the joint office's memorandum obliges BJ and TJ to restrict it.</summary>
    private async Task<(string Entry, string EntryTransaction, string Memorandum)> ListAndPublishAsync()
    {
        var memorandum = await _api.CommitAsync(new MemorandumPublish(Id("memo"), "Joint memorandum on court defaulters", LedgerListColour.Black, "court-defaulter", ["restrict-procurement", "restrict-high-consumption"], ["BJ", "TJ"], Now(-2), 0), ApiNode.CreditOffice);
        var unrelated = await _api.CommitAsync(new MemorandumPublish(Id("red memo"), "Joint memorandum on A-grade taxpayers", LedgerListColour.Red, "tax-a-grade", ["fast-track"], ["BJ", "TJ", "HE"], Now(-2), 0), ApiNode.CreditOffice);
        Assert.NotEqual(memorandum.TransactionId, unrelated.TransactionId);
        var entry = await _api.CommitAsync(new ListEntryAdd(Id("entry"), ApiNode.Holder, LedgerListColour.Black, "court-defaulter", "Supreme People's Court Provisions on the list of defaulters, art. 1", "120101", Now(-1), 0));
        return (Id("entry").ToString(), entry.TransactionId, Id("memo").ToString());
    }

    [Fact]
    public async Task List_entries_answers_every_entry_of_the_subject_with_its_status_and_the_transaction_that_last_changed_it_and_logs_the_read()
    {
        var (entryId, entryTransaction, _) = await ListAndPublishAsync();
        await _api.CommitAsync(new ListEntryAdd(Id("second entry"), ApiNode.Holder, LedgerListColour.Red, "tax-a-grade", "Tax credit rules, art. 3", "120101", Now(-1), 0));
        var removal = await _api.CommitAsync(new ListEntryRemove(Id("second entry"), "listed in error"));
        await _api.CommitAsync(new ListEntryAdd(Id("other subject"), "uscc:91110000MA0000008A", LedgerListColour.Black, "court-defaulter", "art. 1", "120101", Now(-1), 0));
        var bank = _api.Client(ApiNode.Bank, "LOAN_REVIEW");

        var answer = await bank.Incentive.ListEntriesAsync(new ListEntriesRequest { Subject = ApiNode.Holder });

        Assert.Equal(_api.Ledger.Node.Head.Height, answer.Height);
        var expected = new[]
        {
            (entryId, Contracts.Credit.V1.ListColour.Black, 1, entryTransaction),
            // A removed entry names the transaction that last changed it: the removal.
            (Id("second entry").ToString(), Contracts.Credit.V1.ListColour.Red, 2, removal.TransactionId),
        }.OrderBy(e => e.Item1, StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, answer.Entries.Select(e => (e.EntryId, e.Colour, e.Status, e.TransactionId)).ToArray());
        Assert.All(answer.Entries, e => Assert.Equal((ApiNode.Holder, _api.AddressOf(ApiNode.TianjinRegulator).ToString()), (e.Subject, e.ListedBy)));
        var log = Assert.Single(await _api.AccessLogAsync());
        Assert.Equal((bank.Member, ApiNode.Holder), (log.Request.Requester, log.Request.Subject));
        Assert.StartsWith("/smartcity.credit.v1.IncentiveService/ListEntries;purpose=LOAN_REVIEW;result=", log.Request.Method, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_subject_never_listed_has_no_entries_rather_than_not_found()
    {
        var bureau = _api.Client(ApiNode.Bureau);

        var answer = await bureau.Incentive.ListEntriesAsync(new ListEntriesRequest { Subject = "uscc:91110000MA0000008A" });

        Assert.Empty(answer.Entries);
        Assert.Equal("uscc:91110000MA0000008A", Assert.Single(await _api.AccessLogAsync()).Request.Subject);
    }

    [Fact]
    public async Task The_listing_regions_implementer_gets_the_measures_traced_to_the_entry_and_the_memorandum()
    {
        var (entryId, _, memorandumId) = await ListAndPublishAsync();
        var tianjin = _api.Client(ApiNode.TianjinRegulator, "MEASURE_APPLICATION");

        var answer = await tianjin.Incentive.GetApplicableMeasuresAsync(new GetApplicableMeasuresRequest { Subject = ApiNode.Holder });

        Assert.Equal((ApiNode.Holder, "TJ", _api.Ledger.Node.Head.Height), (answer.Subject, answer.Region, answer.Height));
        var measure = Assert.Single(answer.Measures);
        Assert.Equal((entryId, memorandumId, "Joint memorandum on court defaulters"), (measure.EntryId, measure.MemorandumId, measure.MemorandumTitle));
        Assert.Equal((Contracts.Credit.V1.ListColour.Black, "court-defaulter", "TJ", false), (measure.Colour, measure.ListType, measure.ListedInRegion, measure.CrossRegion));
        Assert.Equal(["restrict-procurement", "restrict-high-consumption"], measure.Measures);
        var log = Assert.Single(await _api.AccessLogAsync());
        Assert.StartsWith("/smartcity.credit.v1.IncentiveService/GetApplicableMeasures;purpose=MEASURE_APPLICATION;", log.Request.Method, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_memorandum_covering_another_region_extends_the_entry_there_and_a_region_it_does_not_cover_gets_nothing()
    {
        var (entryId, _, memorandumId) = await ListAndPublishAsync();
        var beijing = _api.Client(BeijingRegulator);
        var hebei = _api.Client(HebeiRegulator);
        var regulator = _api.Client(ApiNode.Regulator, "SUPERVISION");

        var inBeijing = await beijing.Incentive.GetApplicableMeasuresAsync(new GetApplicableMeasuresRequest { Subject = ApiNode.Holder });
        var inHebei = await hebei.Incentive.GetApplicableMeasuresAsync(new GetApplicableMeasuresRequest { Subject = ApiNode.Holder });
        var supervised = await regulator.Incentive.GetApplicableMeasuresAsync(new GetApplicableMeasuresRequest { Subject = ApiNode.Holder, Region = "TJ" });

        var cross = Assert.Single(inBeijing.Measures);
        Assert.Equal((entryId, memorandumId, "TJ", true), (cross.EntryId, cross.MemorandumId, cross.ListedInRegion, cross.CrossRegion));
        Assert.Equal("HE", inHebei.Region);
        Assert.Empty(inHebei.Measures);
        Assert.Equal(("TJ", false), (supervised.Region, Assert.Single(supervised.Measures).CrossRegion));
        Assert.Equal(3, (await _api.AccessLogAsync()).Count);
    }

    [Fact]
    public async Task A_removed_entry_obliges_no_measure_any_more()
    {
        await ListAndPublishAsync();
        await _api.CommitAsync(new ListEntryRemove(Id("entry"), "obligation fulfilled"));
        var tianjin = _api.Client(ApiNode.TianjinRegulator);

        var answer = await tianjin.Incentive.GetApplicableMeasuresAsync(new GetApplicableMeasuresRequest { Subject = ApiNode.Holder });

        Assert.Empty(answer.Measures);
    }

    [Fact]
    public async Task An_implementer_submits_feedback_on_a_measure_as_a_transaction_and_a_measure_outside_the_memorandum_is_refused_by_the_rule()
    {
        await ListAndPublishAsync();
        var tianjin = _api.Client(ApiNode.TianjinRegulator);
        var applied = _api.Sign(new MeasureFeedback(Id("feedback"), Id("entry"), Id("memo"), "restrict-procurement", FeedbackOutcome.Applied, Now()));
        var invented = _api.Sign(new MeasureFeedback(Id("feedback 2"), Id("entry"), Id("memo"), "public-shaming", FeedbackOutcome.Applied, Now()));

        var answer = await tianjin.Credit.SubmitTransactionAsync(new SubmitTransactionRequest { Transaction = Google.Protobuf.ByteString.CopyFrom(TransactionCodec.Encode(applied)), WaitForCommit = true });
        var refused = await Assert.ThrowsAsync<RpcException>(() => tianjin.Credit.SubmitTransactionAsync(new SubmitTransactionRequest { Transaction = Google.Protobuf.ByteString.CopyFrom(TransactionCodec.Encode(invented)), WaitForCommit = true }).ResponseAsync);

        Assert.Equal((Contracts.Credit.V1.TransactionStatus.Committed, applied.Hash(_api.Genesis.Eip712Domain.ToDomain()).ToString()), (answer.Status, answer.TransactionId));
        Assert.False(string.IsNullOrEmpty(answer.ReceiptJson));
        Assert.Equal((StatusCode.FailedPrecondition, "MEASURE_NOT_IN_MEMORANDUM"), (refused.StatusCode, ApiNode.Reason(refused)));
        Assert.Empty(await _api.AccessLogAsync());
    }

    [Fact]
    public async Task Bad_incentive_requests_get_a_precise_status_and_read_and_log_nothing()
    {
        await ListAndPublishAsync();
        var height = _api.Ledger.Node.Head.Height;
        var hebei = _api.Client(HebeiRegulator);
        var bank = _api.Client(ApiNode.Bank);

        var badSubject = await Assert.ThrowsAsync<RpcException>(() => bank.Incentive.ListEntriesAsync(new ListEntriesRequest { Subject = "uscc:not-a-code" }).ResponseAsync);
        var emptySubject = await Assert.ThrowsAsync<RpcException>(() => hebei.Incentive.GetApplicableMeasuresAsync(new GetApplicableMeasuresRequest()).ResponseAsync);
        var unknownRegion = await Assert.ThrowsAsync<RpcException>(() => hebei.Incentive.GetApplicableMeasuresAsync(new GetApplicableMeasuresRequest { Subject = ApiNode.Holder, Region = "SX" }).ResponseAsync);
        var lowerCase = await Assert.ThrowsAsync<RpcException>(() => hebei.Incentive.GetApplicableMeasuresAsync(new GetApplicableMeasuresRequest { Subject = ApiNode.Holder, Region = "tj" }).ResponseAsync);
        var otherRegion = await Assert.ThrowsAsync<RpcException>(() => hebei.Incentive.GetApplicableMeasuresAsync(new GetApplicableMeasuresRequest { Subject = ApiNode.Holder, Region = "TJ" }).ResponseAsync);
        var bankAsksMeasures = await Assert.ThrowsAsync<RpcException>(() => bank.Incentive.GetApplicableMeasuresAsync(new GetApplicableMeasuresRequest { Subject = ApiNode.Holder }).ResponseAsync);

        foreach (var (error, field) in new[] { (badSubject, "subject"), (emptySubject, "subject"), (unknownRegion, "region"), (lowerCase, "region") })
        {
            Assert.Equal((StatusCode.InvalidArgument, "INVALID_REQUEST"), (error.StatusCode, ApiNode.Reason(error)));
            Assert.Equal(field, Assert.Single(error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations).Field);
        }

        Assert.Equal((StatusCode.PermissionDenied, "REGION_MISMATCH"), (otherRegion.StatusCode, ApiNode.Reason(otherRegion)));
        Assert.Contains("implements measures in HE, not TJ", otherRegion.Status.Detail, StringComparison.Ordinal);
        Assert.Equal((StatusCode.PermissionDenied, "MISSING_ROLE"), (bankAsksMeasures.StatusCode, ApiNode.Reason(bankAsksMeasures)));
        Assert.Empty(await _api.AccessLogAsync());
        Assert.Equal(height, _api.Ledger.Node.Head.Height);
    }
}
