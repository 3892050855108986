using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.State;
using Status = Google.Rpc.Status;

namespace SmartCity.CreditApi.Services;

/// <summary>
/// The one place where the ledger's expected failures become gRPC statuses (docs/node.md, "Errors"). Every refusal
/// carries a precise message (<c>Code: reason</c>) and a <c>google.rpc.ErrorInfo</c> whose <c>reason</c> is the code
/// in upper snake case (e.g. <c>NONCE_REUSED</c>), domain <see cref="Domain"/>, so a client can branch on it without
/// parsing text; the same code is in the plain trailer <see cref="CodeTrailer"/> for clients without rich-status support.
/// </summary>
public static class LedgerErrors
{
    public const string Domain = "ledger.smartcity";

    /// <summary>Trailer with the rejection code's name (e.g. <c>NonceReused</c>).</summary>
    public const string CodeTrailer = "x-rejection-code";

    /// <summary>The gRPC code of a refusal at admission.</summary>
    public static StatusCode StatusOf(AdmissionCode code) => code switch
    {
        AdmissionCode.Malformed or AdmissionCode.TransactionTooLarge or AdmissionCode.WrongChainId
            or AdmissionCode.BadSignature or AdmissionCode.SignerMismatch => StatusCode.InvalidArgument,
        AdmissionCode.NotAMember => StatusCode.PermissionDenied,
        AdmissionCode.AlreadyPending => StatusCode.AlreadyExists,
        AdmissionCode.NonceReused or AdmissionCode.NonceTaken or AdmissionCode.NotCommitting => StatusCode.FailedPrecondition,
        AdmissionCode.NonceTooFarAhead => StatusCode.OutOfRange,
        AdmissionCode.MempoolFull or AdmissionCode.SignerQueueFull => StatusCode.ResourceExhausted,
        AdmissionCode.Unavailable => StatusCode.Unavailable,
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, "not a refusal"),
    };

    /// <summary>The gRPC code of a rule that rejected an admitted transaction in its block.</summary>
    public static StatusCode StatusOf(RejectionCode rule) => rule switch
    {
        RejectionCode.Malformed or RejectionCode.TransactionTooLarge or RejectionCode.WrongChainId or RejectionCode.BadSignature
            or RejectionCode.SignerMismatch or RejectionCode.InvalidField or RejectionCode.InvalidSubject or RejectionCode.InvalidLicenceIdentifier
            or RejectionCode.DivisionOutsideConsortium or RejectionCode.PublicationPeriodOutOfRange or RejectionCode.InvalidProposal => StatusCode.InvalidArgument,
        RejectionCode.NotAMember or RejectionCode.MissingRole or RejectionCode.RegionMismatch or RejectionCode.NotTheDesignator
            or RejectionCode.NotTheInitiator or RejectionCode.LicenceIssuerMismatch => StatusCode.PermissionDenied,
        RejectionCode.DuplicateId => StatusCode.AlreadyExists,
        RejectionCode.UnknownRecord or RejectionCode.UnknownObjection or RejectionCode.UnknownLicence or RejectionCode.UnknownListEntry
            or RejectionCode.UnknownMemorandum or RejectionCode.UnknownProposal => StatusCode.NotFound,
        RejectionCode.None => throw new ArgumentOutOfRangeException(nameof(rule), rule, "not a rejection"),
        _ => StatusCode.FailedPrecondition, // the ledger's state does not allow it now: a record not active, a nonce gap, …
    };

    public static RpcException Refused(SubmitResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return Exception(StatusOf(result.Code), result.Code.ToString(), result.Reason, result.Id);
    }

    public static RpcException Rejected(TransactionOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return Exception(StatusOf(outcome.Rule), outcome.Rule.ToString(), outcome.Reason, outcome.Id);
    }

    /// <summary>The node stopped before it could decide an admitted transaction: its fate is known after a restart.</summary>
    public static RpcException Undecided(TransactionOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return Exception(StatusCode.Unavailable, "Undecided", $"{outcome.Reason}; transaction {outcome.Id} was admitted but not yet committed: ask GetTransaction after the node restarts", outcome.Id);
    }

    /// <summary>A request that is not well formed (an id that is not 32 bytes of hex, an empty key).</summary>
    public static RpcException InvalidArgument(string message) => Exception(StatusCode.InvalidArgument, "InvalidRequest", message, null);

    public static RpcException NotFound(string code, string message, Ledger.Crypto.Hash256? id = null) => Exception(StatusCode.NotFound, code, message, id);

    public static RpcException FailedPrecondition(string code, string message, Ledger.Crypto.Hash256? id = null) => Exception(StatusCode.FailedPrecondition, code, message, id);

    /// <summary>
    /// A read or proof the chain has no answer for: UNKNOWN_HEIGHT (OUT_OF_RANGE: above the head, or negative),
    /// STATE_PRUNED (FAILED_PRECONDITION: below the retention floor; headers and inclusion proofs remain),
    /// TRANSACTION_NOT_FOUND (NOT_FOUND), TRANSACTION_NOT_YET_COMMITTED (FAILED_PRECONDITION: committed after the height
    /// asked), HEIGHTS_OUT_OF_ORDER (INVALID_ARGUMENT).
    /// </summary>
    public static RpcException Query(ChainQueryError error, string message, Ledger.Crypto.Hash256? id = null) => error switch
    {
        ChainQueryError.UnknownHeight => Exception(StatusCode.OutOfRange, error.ToString(), message, id),
        ChainQueryError.StatePruned or ChainQueryError.TransactionNotYetCommitted => Exception(StatusCode.FailedPrecondition, error.ToString(), message, id),
        ChainQueryError.TransactionNotFound => Exception(StatusCode.NotFound, error.ToString(), message, id),
        ChainQueryError.HeightsOutOfOrder => Exception(StatusCode.InvalidArgument, error.ToString(), message, id),
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, "not a query failure"),
    };

    /// <summary>The store cannot be read or written right now (disk full, database unreachable): retry later.</summary>
    public static RpcException StoreUnavailable(string message) => Exception(StatusCode.Unavailable, "StoreUnavailable", message, null);

    public static RpcException Stopped(string message) => Exception(StatusCode.Unavailable, AdmissionCode.Unavailable.ToString(), message, null);

    /// <summary>Any refusal of the credit API: a status code, a code name (ErrorInfo reason in upper snake case) and the reason.</summary>
    public static RpcException Of(StatusCode code, string name, string reason) => Exception(code, name, reason, null);

    /// <summary>
    /// INVALID_ARGUMENT for bad request fields: the ErrorInfo as for every refusal, and a <c>google.rpc.BadRequest</c>
    /// naming each field (proto field names) with the reason.
    /// </summary>
    public static RpcException InvalidFields(string name, string reason, IReadOnlyList<string> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var badRequest = new BadRequest();
        foreach (var field in fields)
        {
            badRequest.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = field, Description = reason });
        }

        return Exception(StatusCode.InvalidArgument, name, reason, null, badRequest);
    }

    private static RpcException Exception(StatusCode code, string name, string reason, Ledger.Crypto.Hash256? id, Google.Protobuf.IMessage? extra = null)
    {
        var info = new ErrorInfo { Reason = UpperSnake(name), Domain = Domain };
        info.Metadata.Add("code", name);
        if (id is { } hash && hash != default)
        {
            info.Metadata.Add("transaction_id", hash.ToString());
        }

        var status = new Status { Code = (int)code, Message = $"{name}: {reason}" };
        status.Details.Add(Any.Pack(info));
        if (extra is not null)
        {
            status.Details.Add(Any.Pack(extra));
        }
        var exception = status.ToRpcException();
        exception.Trailers.Add(CodeTrailer, name);
        return exception;
    }

    private static string UpperSnake(string pascal)
    {
        var builder = new System.Text.StringBuilder(pascal.Length + 8);
        for (var i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i]))
            {
                builder.Append('_');
            }

            builder.Append(char.ToUpperInvariant(pascal[i]));
        }

        return builder.ToString();
    }
}
