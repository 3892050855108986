using Grpc.Core;
using SmartCity.Contracts.Credit.V1;
using SmartCity.CreditApi.Node;
using SmartCity.CreditApi.Services.Api;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.Score;
using SmartCity.Ledger.Storage;

namespace SmartCity.CreditApi.Services;

/// <summary>smartcity.credit.v1.CreditService: trust scores, credit records, submissions (docs/api.md).</summary>
public sealed class CreditServiceImpl(LedgerRuntime ledger, AccessLogWriter accessLog, ApiStageTimers timers) : CreditService.CreditServiceBase
{
    public override async Task<GetTrustScoreResponse> GetTrustScore(GetTrustScoreRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var subject = ApiRequests.Subject(request.Subject);
        var height = ApiRequests.Height(request.Height, "height");
        var caller = ApiCaller.Of(context);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = await ledger.Node.ReadChainAsync(chain => height > chain.Head.Height ? null : chain.Score(subject, height == 0 ? chain.Head.Height : height), context.CancellationToken).ConfigureAwait(false)
            ?? throw ApiRequests.NotFound("UnknownHeight", $"height {height} is above the head {ledger.Node.Head.Height}");
        if (!result.IsScored)
        {
            throw result.Failure == ScoreFailure.UnknownHeight
                ? ApiRequests.NotFound(result.Failure.ToString(), result.Detail)
                : LedgerErrors.FailedPrecondition(result.Failure.ToString(), result.Detail);
        }

        var score = result.Score!;
        var response = new GetTrustScoreResponse
        {
            Subject = score.Subject.Text,
            Score = score.Score,
            Band = score.Band.ToString(),
            Listed = score.Listed,
            ModelVersion = score.ModelVersion,
            Height = score.Height,
            HeaderHash = score.HeaderHash.ToString(),
            AsOf = score.AsOf.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            AnswerJson = TrustScoreJson.Write(score),
        };
        timers.Add(ApiStage.Read, started);
        await accessLog.RecordAsync(caller, subject.Text, response, context.CancellationToken).ConfigureAwait(false);
        return response;
    }

    public override async Task<ListCreditRecordsResponse> ListCreditRecords(ListCreditRecordsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var subject = ApiRequests.Subject(request.Subject);
        var pageSize = ApiRequests.PageSize(request.PageSize);
        if (request.MinSeverity is < 0 or > 3)
        {
            throw ApiRequests.Invalid($"min_severity: 0 (any) or 1-3, got {request.MinSeverity}");
        }

        if (!Enum.IsDefined(request.Category) || !Enum.IsDefined(request.Status))
        {
            throw ApiRequests.Invalid("category, status: not a value of the enum");
        }

        Address? designator = null;
        if (request.DesignatingMember.Length > 0)
        {
            designator = Address.TryParse(request.DesignatingMember, out var address, out _) ? address : throw ApiRequests.Invalid("designating_member: not a 0x address");
        }

        var scope = $"records|{subject.Text}|{(int)request.Category}|{(int)request.Status}|{request.MinSeverity}|{designator}";
        var after = ApiRequests.AfterKey(request.PageToken, scope);
        var caller = ApiCaller.Of(context);
        var node = ledger.Node;
        var head = node.Head.Header;
        var height = head.Height;
        var now = (long)head.TimestampMs / 1000;
        var rows = await node.Queries.GetCreditRecordsBySubjectAsync(subject.Text, context.CancellationToken).ConfigureAwait(false);
        var matching = rows
            .Where(r => request.Category == RecordCategory.Unspecified || r.Kind == (short)request.Category)
            .Where(r => request.Status == RecordStatus.Unspecified || StatusAt(r, now) == request.Status)
            .Where(r => request.MinSeverity == 0 || r.Severity >= request.MinSeverity)
            .Where(r => designator is null || r.DesignatingMember == designator)
            .Where(r => after is null || string.CompareOrdinal(r.RecordId, after) > 0)
            .OrderBy(r => r.RecordId, StringComparer.Ordinal)
            .Take(pageSize + 1)
            .ToList();
        var response = new ListCreditRecordsResponse { Height = height };
        response.Records.AddRange(matching.Take(pageSize).Select(r => Record(r, now)));
        if (matching.Count > pageSize)
        {
            response.NextPageToken = ApiRequests.Token(scope, matching[pageSize - 1].RecordId);
        }

        await accessLog.RecordAsync(caller, subject.Text, response, context.CancellationToken).ConfigureAwait(false);
        return response;
    }

    public override async Task<SubmitTransactionResponse> SubmitTransaction(SubmitTransactionRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (request.Transaction.IsEmpty)
        {
            throw ApiRequests.Invalid("transaction: empty");
        }

        var node = ledger.Node;
        var result = await node.SubmitAsync(request.Transaction.Memory, request.WaitForCommit, context.CancellationToken).ConfigureAwait(false);
        if (!result.IsAccepted)
        {
            throw LedgerErrors.Refused(result);
        }

        if (result.Outcome is not { } outcome)
        {
            return new SubmitTransactionResponse { TransactionId = result.Id.ToString(), Status = TransactionStatus.Pending };
        }

        switch (outcome.State)
        {
            case TransactionState.Committed:
                var receipt = await node.ProveTransactionAsync(result.Id, context.CancellationToken).ConfigureAwait(false);
                return new SubmitTransactionResponse
                {
                    TransactionId = result.Id.ToString(),
                    Status = TransactionStatus.Committed,
                    Height = outcome.Height,
                    IndexInBlock = outcome.IndexInBlock,
                    ReceiptJson = receipt is null ? string.Empty : ReceiptJson.Write(receipt),
                };
            case TransactionState.Rejected:
                throw LedgerErrors.Rejected(outcome);
            default:
                throw LedgerErrors.Undecided(outcome);
        }
    }

    /// <summary>
    /// The record's publication status at <paramref name="now"/>: the projection holds it as of the block that last
    /// wrote the record, and a published or disputed record whose period has ended since is expired (the same answer as
    /// <see cref="Ledger.State.Publication.StatusAt"/>).
    /// </summary>
    private static RecordStatus StatusAt(CreditRecordRow row, long now)
    {
        var status = (Ledger.State.PublicationStatus)row.Status;
        if (status is Ledger.State.PublicationStatus.Published or Ledger.State.PublicationStatus.Disputed && now >= row.ExpiresAt)
        {
            status = Ledger.State.PublicationStatus.Expired;
        }

        return status switch
        {
            Ledger.State.PublicationStatus.Published => RecordStatus.Published,
            Ledger.State.PublicationStatus.Disputed => RecordStatus.Disputed,
            Ledger.State.PublicationStatus.NotPublished => RecordStatus.NotPublished,
            Ledger.State.PublicationStatus.Expired => RecordStatus.Expired,
            Ledger.State.PublicationStatus.Repaired => RecordStatus.Repaired,
            Ledger.State.PublicationStatus.Annulled => RecordStatus.Annulled,
            _ => throw new Ledger.Storage.StoreCorruptedException($"credit record {row.RecordId} has publication status {row.Status} in the projection"),
        };
    }

    private static CreditRecord Record(CreditRecordRow row, long now) => new()
    {
        RecordId = row.RecordId,
        Subject = row.Subject,
        Category = (RecordCategory)row.Kind,
        Status = StatusAt(row, now),
        Severity = row.Severity,
        DesignatingMember = row.DesignatingMember.ToString(),
        PublishedAt = row.PublishedAt,
        ExpiresAt = row.ExpiresAt,
        TransactionId = row.TxHash.ToString(),
        Height = row.Height,
    };
}
