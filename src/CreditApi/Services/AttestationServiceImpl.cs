using Grpc.Core;
using SmartCity.Contracts.Credit.V1;
using SmartCity.CreditApi.Node;
using SmartCity.CreditApi.Services.Api;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.CreditApi.Services;

/// <summary>
/// smartcity.credit.v1.AttestationService: e-licences as the certified state records them, and the combined
/// licence receipt (docs/receipts.md, <c>licence-verification</c>).
/// </summary>
public sealed class AttestationServiceImpl(LedgerRuntime ledger, AccessLogWriter accessLog, ApiStageTimers timers) : AttestationService.AttestationServiceBase
{
    /// <summary>Rounds of proving while new blocks change the licence under the proof, before giving up UNAVAILABLE.</summary>
    private const int MaxProofAttempts = 5;

    public override async Task<GetLicenceResponse> GetLicence(GetLicenceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var identifier = ApiRequests.Licence(request.Identifier);
        var caller = ApiCaller.Of(context);
        var row = await ledger.Node.Queries.GetLicenceAsync(identifier, context.CancellationToken).ConfigureAwait(false) ?? throw UnknownLicence(identifier);
        var (value, head) = await ledger.Node.ReadChainAsync(chain => (chain.State.Get(StateKeys.Licence(identifier)), chain.Head), context.CancellationToken).ConfigureAwait(false);
        var licence = Decode(identifier, value) ?? throw UnknownLicence(identifier);
        var response = new GetLicenceResponse { Licence = Describe(identifier, licence, row, head) };
        await accessLog.RecordAsync(caller, licence.Holder, response, context.CancellationToken).ConfigureAwait(false);
        return response;
    }

    public override async Task<VerifyLicenceResponse> VerifyLicence(VerifyLicenceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var identifier = ApiRequests.Licence(request.Identifier);
        if (request.ExpectedHolder.Length > 0)
        {
            _ = ApiRequests.Subject(request.ExpectedHolder, "expected_holder");
        }

        var caller = ApiCaller.Of(context);
        var node = ledger.Node;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var attempt = 0; attempt < MaxProofAttempts; attempt++)
        {
            var row = await node.Queries.GetLicenceAsync(identifier, context.CancellationToken).ConfigureAwait(false) ?? throw UnknownLicence(identifier);

            // Both proofs at one head, in one read: the transaction that wrote the licence's latest version, and the value now.
            var proofs = await node.ReadChainAsync(chain => (Inclusion: chain.ProveTransaction(row.TxHash), State: chain.ProveState(StateKeys.Licence(identifier))), context.CancellationToken).ConfigureAwait(false);
            if (proofs.State.Value is null)
            {
                throw UnknownLicence(identifier);
            }

            // The projection may have moved on meanwhile (a newer version committed): prove again against the newer head.
            var after = await node.Queries.GetLicenceAsync(identifier, context.CancellationToken).ConfigureAwait(false);
            if (proofs.Inclusion is not { } inclusion || after?.TxHash != row.TxHash || inclusion.Header.Hash != proofs.State.Header.Hash)
            {
                continue;
            }

            var receipt = new LicenceReceipt(inclusion.ChainId, inclusion.Header, inclusion.Certificate, inclusion.Transaction, inclusion.Proof, proofs.State.StateKey, proofs.State.Value, proofs.State.Proof) { HandOvers = inclusion.HandOvers };
            var licence = Decode(identifier, proofs.State.Value)!;
            var response = new VerifyLicenceResponse
            {
                Licence = Describe(identifier, licence, row, inclusion.Header),
                HolderMatches = request.ExpectedHolder.Length == 0 || request.ExpectedHolder == licence.Holder,
                ReceiptJson = ReceiptJson.Write(receipt),
            };
            timers.Add(ApiStage.Read, started);
            await accessLog.RecordAsync(caller, licence.Holder, response, context.CancellationToken).ConfigureAwait(false);
            return response;
        }

        throw LedgerErrors.Of(StatusCode.Unavailable, "LicenceKeptChanging", $"licence {identifier} changed during each of {MaxProofAttempts} attempts to prove it; ask again");
    }

    public override async Task<ListLicencesByHolderResponse> ListLicencesByHolder(ListLicencesByHolderRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var holder = ApiRequests.Subject(request.Holder, "holder");
        var pageSize = ApiRequests.PageSize(request.PageSize);
        var scope = $"licences|{holder.Text}";
        var after = ApiRequests.AfterKey(request.PageToken, scope);
        var caller = ApiCaller.Of(context);
        var node = ledger.Node;
        var rows = await node.Queries.GetLicencesByHolderAsync(holder.Text, context.CancellationToken).ConfigureAwait(false);
        var page = rows
            .Where(r => after is null || string.CompareOrdinal(r.Identifier, after) > 0)
            .OrderBy(r => r.Identifier, StringComparer.Ordinal)
            .Take(pageSize + 1)
            .ToList();
        var shown = page.Take(pageSize).ToList();
        var (values, head) = await node.ReadChainAsync(chain => (shown.Select(r => chain.State.Get(StateKeys.Licence(r.Identifier))).ToList(), chain.Head), context.CancellationToken).ConfigureAwait(false);
        var response = new ListLicencesByHolderResponse { Height = head.Height };
        for (var i = 0; i < shown.Count; i++)
        {
            if (Decode(shown[i].Identifier, values[i]) is { } licence)
            {
                response.Licences.Add(Describe(shown[i].Identifier, licence, shown[i], head));
            }
        }

        if (page.Count > pageSize)
        {
            response.NextPageToken = ApiRequests.Token(scope, page[pageSize - 1].Identifier);
        }

        await accessLog.RecordAsync(caller, holder.Text, response, context.CancellationToken).ConfigureAwait(false);
        return response;
    }

    private static RpcException UnknownLicence(string identifier) => ApiRequests.NotFound("UnknownLicence", $"licence {identifier} is not on the ledger");

    private static LicenceState? Decode(string identifier, byte[]? value)
        => value is null ? null
            : StateValue.TryDecode(value, LicenceState.Read, out var licence, out var error) ? licence
            : throw new Ledger.Storage.StoreCorruptedException($"licence/{identifier} holds no licence record: {error}");

    internal static Licence Describe(string identifier, LicenceState licence, LicenceRow row, BlockHeader head)
    {
        var effective = licence.EffectiveStatusAt((ulong)head.TimestampMs / 1000);
        return new Licence
        {
            Identifier = identifier,
            Holder = licence.Holder,
            LicenceName = licence.LicenceName,
            AreaCode = licence.AreaCode,
            Issuer = licence.Issuer.ToString(),
            ValidFrom = (long)licence.ValidFrom,
            ValidTo = (long)Math.Min(licence.ValidTo, long.MaxValue),
            FileDigest = licence.FileDigest.ToString(),
            RecordedStatus = ((int)licence.Status).ToString("00", System.Globalization.CultureInfo.InvariantCulture),
            EffectiveStatus = ((int)effective).ToString("00", System.Globalization.CultureInfo.InvariantCulture),
            EffectiveStatusName = effective.ToString(),
            StatusChangedAt = (long)licence.StatusChangedAt,
            PreviousIdentifier = licence.Previous,
            NextIdentifier = licence.Next,
            Version = row.Version,
            TransactionId = row.TxHash.ToString(),
            Height = row.Height,
        };
    }
}
