using System.Globalization;
using Grpc.Core;
using SmartCity.Contracts.Audit.V1;
using SmartCity.CreditApi.Services.Api;
using SmartCity.Ledger.Domain;

namespace SmartCity.CreditApi.Services;

/// <summary>The credit lifecycle job's notifications (docs/jobs.md, "CreditLifecycleJob").</summary>
public sealed partial class AuditServiceImpl
{
    public override async Task<ListLifecycleNotificationsResponse> ListLifecycleNotifications(ListLifecycleNotificationsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (request.AfterSequence < 0)
        {
            throw ApiRequests.Invalid($"after_sequence: must be 0 or positive, got {request.AfterSequence}");
        }

        if (request.Limit is < 0 or > MaxReportPage)
        {
            throw ApiRequests.Invalid($"limit: must be between 0 (the default, {DefaultReportPage}) and {MaxReportPage}, got {request.Limit}");
        }

        // A regulator reads every notification; a credit designator (without the regulator role) those about its records.
        var caller = ApiCaller.Of(context);
        var designator = (caller.State.Roles & MemberRole.Regulator) != MemberRole.None ? null : caller.Member.ToString();
        var notifications = await ledger.JobState.ListNotificationsAsync(request.AfterSequence, request.Limit == 0 ? DefaultReportPage : request.Limit, designator, context.CancellationToken).ConfigureAwait(false);
        var response = new ListLifecycleNotificationsResponse { LastSequence = notifications.Count > 0 ? notifications[^1].Sequence : request.AfterSequence };
        response.Notifications.AddRange(notifications.Select(n => new LifecycleNotification
        {
            Sequence = n.Sequence,
            Kind = n.Kind,
            Subject = n.Subject,
            RecordId = n.RecordId,
            ObjectionId = n.ObjectionId,
            Designator = n.Designator,
            DueAt = Rfc3339(n.DueAt),
            Height = n.Height,
            NotedAt = Rfc3339(n.NotedAt),
        }));
        return response;
    }

    private static string Rfc3339(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
