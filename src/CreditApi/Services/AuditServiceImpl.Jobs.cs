using System.Globalization;
using Grpc.Core;
using SmartCity.Contracts.Audit.V1;

namespace SmartCity.CreditApi.Services;

/// <summary>The integrity jobs' persisted reports (docs/jobs.md).</summary>
public sealed partial class AuditServiceImpl
{
    public const int DefaultReportPage = 200;
    public const int MaxReportPage = 1000;

    public override async Task<ListReconciliationReportsResponse> ListReconciliationReports(ListReconciliationReportsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (request.AfterSequence < 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"after_sequence must be 0 or positive, got {request.AfterSequence}"));
        }

        if (request.Limit is < 0 or > MaxReportPage)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"limit must be between 0 (the default, {DefaultReportPage}) and {MaxReportPage}, got {request.Limit}"));
        }

        var reports = await ledger.JobState.ListReportsAsync(request.AfterSequence, request.Limit == 0 ? DefaultReportPage : request.Limit, context.CancellationToken).ConfigureAwait(false);
        var response = new ListReconciliationReportsResponse { LastSequence = reports.Count > 0 ? reports[^1].Sequence : request.AfterSequence };
        response.Reports.AddRange(reports.Select(r => new ReconciliationReport
        {
            Sequence = r.Sequence,
            Job = r.Job,
            Kind = r.Kind,
            Height = r.Height,
            Peer = r.Peer,
            Subject = r.Subject,
            Detail = r.Detail,
            FoundAt = r.FoundAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        }));
        return response;
    }
}
