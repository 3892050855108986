using Grpc.Core;
using SmartCity.Contracts.Credit.V1;
using SmartCity.CreditApi.Node;
using SmartCity.CreditApi.Services.Api;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Node;

namespace SmartCity.CreditApi.Services;

/// <summary>
/// smartcity.credit.v1.IncentiveService: list entries, and the joint incentive / punishment measures an implementer
/// must apply — read from the trust score's answer (its active list entries with the memoranda in force), so the API
/// and the score never disagree about what is in force.
/// </summary>
public sealed class IncentiveServiceImpl(LedgerRuntime ledger, AccessLogWriter accessLog) : IncentiveService.IncentiveServiceBase
{
    public override async Task<ListEntriesResponse> ListEntries(ListEntriesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var subject = ApiRequests.Subject(request.Subject);
        var caller = ApiCaller.Of(context);
        var node = ledger.Node;
        var height = node.Head.Height;
        var rows = await node.Queries.GetListEntriesBySubjectAsync(subject.Text, context.CancellationToken).ConfigureAwait(false);
        var response = new ListEntriesResponse { Height = height };
        response.Entries.AddRange(rows.OrderBy(r => r.EntryId, StringComparer.Ordinal).Select(r => new ListEntry
        {
            EntryId = r.EntryId,
            Subject = r.Subject,
            Colour = (ListColour)r.ListKind,
            Status = r.Status,
            ListedBy = r.ListedBy.ToString(),
            ListedAt = r.ListedAt,
            ExpiresAt = r.ExpiresAt,
            TransactionId = r.TxHash.ToString(),
            Height = r.Height,
        }));
        await accessLog.RecordAsync(caller, subject.Text, response, context.CancellationToken).ConfigureAwait(false);
        return response;
    }

    public override async Task<GetApplicableMeasuresResponse> GetApplicableMeasures(GetApplicableMeasuresRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var subject = ApiRequests.Subject(request.Subject);
        var caller = ApiCaller.Of(context);
        var region = request.Region.Length == 0 ? caller.State.Region : request.Region;
        if (!ledger.Startup.Genesis.Regions.Any(r => r.Code == region))
        {
            throw ApiRequests.Invalid($"region: '{region}' is not a region of the consortium ({string.Join(", ", ledger.Startup.Genesis.Regions.Select(r => r.Code))})");
        }

        // A regional implementer sees what its own region must apply; a regulator sees any region.
        if (!caller.State.Roles.HasFlag(MemberRole.Regulator) && region != caller.State.Region)
        {
            throw LedgerErrors.Of(StatusCode.PermissionDenied, "RegionMismatch", $"{caller.Member} implements measures in {caller.State.Region}, not {region}");
        }

        var result = await ledger.Node.ReadChainAsync(chain => chain.Score(subject, chain.Head.Height), context.CancellationToken).ConfigureAwait(false);
        if (!result.IsScored)
        {
            throw LedgerErrors.FailedPrecondition(result.Failure.ToString(), result.Detail);
        }

        var score = result.Score!;
        var response = new GetApplicableMeasuresResponse { Subject = subject.Text, Region = region, Height = score.Height };
        foreach (var entry in score.ListEntries)
        {
            foreach (var memorandum in entry.Measures.Where(m => m.Regions.Count == 0 || m.Regions.Contains(region)))
            {
                var measure = new ApplicableMeasure
                {
                    EntryId = entry.EntryId.ToString(),
                    Colour = (ListColour)entry.Colour,
                    ListType = entry.ListType,
                    LegalBasis = entry.LegalBasis,
                    ListedInRegion = entry.Region,
                    MemorandumId = memorandum.MemorandumId.ToString(),
                    MemorandumTitle = memorandum.Title,
                    CrossRegion = entry.Region != region,
                };
                measure.Measures.AddRange(memorandum.Measures);
                response.Measures.Add(measure);
            }
        }

        await accessLog.RecordAsync(caller, subject.Text, response, context.CancellationToken).ConfigureAwait(false);
        return response;
    }
}
