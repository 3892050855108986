using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using SmartCity.Contracts.Credit.V1;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Receipts;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// CreditService over real HTTP/2 with signed requests: the trust score of the score model with its explanation and
/// the block it was computed at, submissions through the credit API, and the refusals of bad arguments.
/// </summary>
public sealed class CreditApiTests : IAsyncLifetime
{
    private readonly ApiNode _api = new();

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task A_bureau_gets_the_score_of_a_penalised_subject_with_its_reasons_at_the_head_and_a_log_entry()
    {
        var penalty = await _api.PenaliseAsync("late filing");
        var bureau = _api.Client(ApiNode.Bureau);

        var score = await bureau.Credit.GetTrustScoreAsync(new GetTrustScoreRequest { Subject = ApiNode.Holder });

        Assert.Equal((ApiNode.Holder, penalty.Height), (score.Subject, score.Height));
        Assert.InRange(score.Score, 0, 699);
        Assert.Equal(_api.Ledger.Node.Head.Header.Hash.ToString(), score.HeaderHash);
        Assert.False(string.IsNullOrEmpty(score.ModelVersion));
        using var answer = JsonDocument.Parse(score.AnswerJson);
        Assert.Contains(Keccak256.Hash("late filing"u8).ToString(), score.AnswerJson, StringComparison.OrdinalIgnoreCase);
        var entry = Assert.Single(await _api.AccessLogAsync());
        Assert.Equal((bureau.Member, ApiNode.Holder), (entry.Request.Requester, entry.Request.Subject));
        Assert.StartsWith("/smartcity.credit.v1.CreditService/GetTrustScore;purpose=CREDIT_CHECK;", entry.Request.Method, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_score_at_an_earlier_height_is_computed_in_that_blocks_state()
    {
        await _api.PenaliseAsync("first");
        await _api.PenaliseAsync("second");
        var bank = _api.Client(ApiNode.Bank);

        var before = await bank.Credit.GetTrustScoreAsync(new GetTrustScoreRequest { Subject = ApiNode.Holder, Height = 1 });
        var now = await bank.Credit.GetTrustScoreAsync(new GetTrustScoreRequest { Subject = ApiNode.Holder });

        Assert.Equal((1L, 2L), (before.Height, now.Height));
        Assert.True(now.Score < before.Score, $"{now.Score} after two penalties, {before.Score} after one");
    }

    [Fact]
    public async Task Bad_score_arguments_are_refused_precisely_and_log_nothing()
    {
        var bureau = _api.Client(ApiNode.Bureau);

        var subject = await Assert.ThrowsAsync<RpcException>(() => bureau.Credit.GetTrustScoreAsync(new GetTrustScoreRequest { Subject = "uscc:123" }).ResponseAsync);
        var negative = await Assert.ThrowsAsync<RpcException>(() => bureau.Credit.GetTrustScoreAsync(new GetTrustScoreRequest { Subject = ApiNode.Holder, Height = -1 }).ResponseAsync);
        var future = await Assert.ThrowsAsync<RpcException>(() => bureau.Credit.GetTrustScoreAsync(new GetTrustScoreRequest { Subject = ApiNode.Holder, Height = 50 }).ResponseAsync);

        Assert.Equal((StatusCode.InvalidArgument, "subject"), (subject.StatusCode, Assert.Single(subject.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>()!.FieldViolations).Field));
        Assert.Equal((StatusCode.InvalidArgument, "height"), (negative.StatusCode, Assert.Single(negative.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>()!.FieldViolations).Field));
        Assert.Equal(StatusCode.NotFound, future.StatusCode);
        Assert.Empty(await _api.AccessLogAsync());
    }

    [Fact]
    public async Task A_licence_issuer_cannot_read_scores()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _api.Client(ApiNode.TianjinRegulator).Credit.GetTrustScoreAsync(new GetTrustScoreRequest { Subject = ApiNode.Holder }).ResponseAsync);

        Assert.Equal((StatusCode.PermissionDenied, "MISSING_ROLE"), (error.StatusCode, ApiNode.Reason(error)));
    }

    [Fact]
    public async Task A_transaction_submitted_through_the_credit_api_commits_with_a_receipt_that_verifies_offline()
    {
        var designator = _api.Client(ApiNode.TianjinRegulator);
        var tx = _api.Sign(ApiNode.PenaltyBody("through the api"));

        var answer = await designator.Credit.SubmitTransactionAsync(new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(TransactionCodec.Encode(tx)), WaitForCommit = true });

        Assert.Equal((TransactionStatus.Committed, 1L, 0), (answer.Status, answer.Height, answer.IndexInBlock));
        var report = ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(answer.ReceiptJson), TrustAnchor.FromGenesis(_api.Genesis), Secp256k1.Default);
        Assert.Equal(ReceiptOutcome.Valid, report.Outcome);
        Assert.IsType<InclusionReceipt>(report.Receipt);
    }

    [Fact]
    public async Task A_submission_the_ledger_refuses_is_a_precise_status_and_changes_nothing()
    {
        var bank = _api.Client(ApiNode.Bank);
        var ownTransaction = _api.Sign(ApiNode.PenaltyBody("banks designate nothing"), ApiNode.Bank);

        var empty = await Assert.ThrowsAsync<RpcException>(() => bank.Credit.SubmitTransactionAsync(new SubmitTransactionRequest()).ResponseAsync);
        var garbage = await Assert.ThrowsAsync<RpcException>(() => bank.Credit.SubmitTransactionAsync(new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(1, 2, 3), WaitForCommit = true }).ResponseAsync);
        var rule = await Assert.ThrowsAsync<RpcException>(() => bank.Credit.SubmitTransactionAsync(new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(TransactionCodec.Encode(ownTransaction)), WaitForCommit = true }).ResponseAsync);

        Assert.Equal((StatusCode.InvalidArgument, "transaction"), (empty.StatusCode, Assert.Single(empty.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>()!.FieldViolations).Field));
        Assert.Equal((StatusCode.InvalidArgument, "MALFORMED"), (garbage.StatusCode, ApiNode.Reason(garbage)));
        Assert.Equal(StatusCode.PermissionDenied, rule.StatusCode);
        Assert.Equal(0L, _api.Ledger.Node.Head.Height);
    }

    [Fact]
    public async Task Credit_records_of_a_subject_come_in_pages_with_a_stable_cursor()
    {
        foreach (var name in new[] { "a", "b", "c" })
        {
            await _api.PenaliseAsync(name);
        }

        var bureau = _api.Client(ApiNode.Bureau);
        var first = await bureau.Credit.ListCreditRecordsAsync(new ListCreditRecordsRequest { Subject = ApiNode.Holder, PageSize = 2 });
        await _api.PenaliseAsync("d, written between the pages");
        var second = await bureau.Credit.ListCreditRecordsAsync(new ListCreditRecordsRequest { Subject = ApiNode.Holder, PageSize = 2, PageToken = first.NextPageToken });
        var everything = await bureau.Credit.ListCreditRecordsAsync(new ListCreditRecordsRequest { Subject = ApiNode.Holder });
        var published = await bureau.Credit.ListCreditRecordsAsync(new ListCreditRecordsRequest { Subject = ApiNode.Holder, Status = RecordStatus.Published, MinSeverity = 2 });
        var expired = await bureau.Credit.ListCreditRecordsAsync(new ListCreditRecordsRequest { Subject = ApiNode.Holder, Status = RecordStatus.Expired });
        var serious = await bureau.Credit.ListCreditRecordsAsync(new ListCreditRecordsRequest { Subject = ApiNode.Holder, MinSeverity = 3 });

        var paged = first.Records.Concat(second.Records).Select(r => r.RecordId).ToList();
        Assert.Equal(paged.Distinct().Count(), paged.Count);
        Assert.Equal(everything.Records.Select(r => r.RecordId).Where(id => string.CompareOrdinal(id, first.Records[^1].RecordId) <= 0), first.Records.Select(r => r.RecordId));
        Assert.Equal(4, everything.Records.Count);
        Assert.Equal((4, 0, 0), (published.Records.Count, expired.Records.Count, serious.Records.Count));
        Assert.All(everything.Records, r => Assert.Equal((Contracts.Credit.V1.RecordCategory.AdministrativePenalty, RecordStatus.Published, 2), (r.Category, r.Status, r.Severity)));
    }
}
