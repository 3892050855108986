using System.Globalization;
using Grpc.Core;
using Grpc.Core.Interceptors;
using SmartCity.CreditApi.Auth;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;

namespace SmartCity.CreditApi.Services.Api;

/// <summary>
/// Authenticates and authorises every call of the credit and audit services, once for all of them (gRPC and JSON
/// alike): the signed metadata of <see cref="ApiRequestSigning"/> must be complete and well formed, its timestamp
/// within the replay window of the node's clock, its signature must verify in the chain's crypto suite for the stated member, the member must be
/// in the ledger state and the nonce unused (else UNAUTHENTICATED); the member's roles must allow the method
/// (<see cref="ApiRoles"/>, else PERMISSION_DENIED). Other services (NodeService, health, reflection) pass untouched.
/// </summary>
public sealed partial class ApiAuthenticationInterceptor(MemberDirectory members, ReplayGuard replay, ApiOptions options, GenesisDocument genesis, CryptoSuite suite, TimeProvider time, ApiStageTimers timers, ILogger<ApiAuthenticationInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        await AuthenticateAsync(request, context).ConfigureAwait(false);
        return await continuation(request, context).ConfigureAwait(false);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        await AuthenticateAsync(request, context).ConfigureAwait(false);
        await continuation(request, responseStream, context).ConfigureAwait(false);
    }

    private async Task AuthenticateAsync<TRequest>(TRequest request, ServerCallContext context)
    {
        var method = context.Method;
        if (!ApiRoles.IsProtected(method))
        {
            return;
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        var headers = context.RequestHeaders;
        var memberText = headers.GetValue(ApiRequestSigning.MemberHeader);
        var timestampText = headers.GetValue(ApiRequestSigning.TimestampHeader);
        var nonceText = headers.GetValue(ApiRequestSigning.NonceHeader);
        var purpose = headers.GetValue(ApiRequestSigning.PurposeHeader);
        var signatureText = headers.GetValue(ApiRequestSigning.SignatureHeader);
        if (memberText is null || timestampText is null || nonceText is null || purpose is null || signatureText is null)
        {
            throw Refuse(method, "MissingCredentials", $"a signed request carries {ApiRequestSigning.MemberHeader}, {ApiRequestSigning.TimestampHeader}, {ApiRequestSigning.NonceHeader}, {ApiRequestSigning.PurposeHeader} and {ApiRequestSigning.SignatureHeader} (docs/api.md)");
        }

        if (!Address.TryParse(memberText, out var member, out _))
        {
            throw Refuse(method, "MalformedCredentials", $"{ApiRequestSigning.MemberHeader}: not a 0x address");
        }

        if (!long.TryParse(timestampText, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
        {
            throw Refuse(method, "MalformedCredentials", $"{ApiRequestSigning.TimestampHeader}: expected Unix milliseconds");
        }

        var nonce = HexBytes(nonceText, ApiRequestSigning.NonceSize) ?? throw Refuse(method, "MalformedCredentials", $"{ApiRequestSigning.NonceHeader}: expected 0x and {2 * ApiRequestSigning.NonceSize} hex digits");
        var signatureBytes = HexBytes(signatureText, suite.SignatureSize) ?? throw Refuse(method, "MalformedCredentials", $"{ApiRequestSigning.SignatureHeader}: expected 0x and {2 * suite.SignatureSize} hex digits (a {suite.Name} signature{(suite.Id == CryptoSuiteId.Gm ? ", SM2 r‖s‖x‖y" : ", r‖s‖v")})");
        if (!ApiRequestSigning.IsPurposeCode(purpose))
        {
            throw Refuse(method, "MalformedCredentials", $"{ApiRequestSigning.PurposeHeader}: a purpose code is 1-{ApiRequestSigning.MaxPurposeLength} of A-Z, 0-9 and _");
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var window = (long)options.ReplayWindow.TotalMilliseconds;
        if (timestamp < now - window || timestamp > now + window)
        {
            throw Refuse(method, "StaleRequest", $"the request was signed at {timestamp} ms, {Math.Abs(now - timestamp)} ms from the node's clock; the window is {window} ms");
        }

        if (request is not Google.Protobuf.IMessage message)
        {
            throw Refuse(method, "MalformedCredentials", "the request is not a protobuf message");
        }

        var digest = ApiRequestSigning.Digest(suite, genesis.ChainId, method, ApiRequestSigning.RequestDigest(suite, message), timestamp, nonce, purpose);
        var check = Signature.TryRead(signatureBytes, out var signature) ? suite.Verify(digest, signature, member) : SignatureCheck.InvalidLength;
        if (check != SignatureCheck.Ok)
        {
            throw Refuse(method, "BadSignature", $"the signature does not verify for {member} over this request: {check}");
        }

        var state = await members.FindAsync(member, context.CancellationToken).ConfigureAwait(false);
        if (state is null)
        {
            throw Refuse(method, "UnknownMember", $"{member} is not a member of chain {genesis.ChainId}");
        }

        switch (replay.Remember(member, nonce, now))
        {
            case ReplayGuard.Outcome.Replayed:
                throw Refuse(method, "ReplayedRequest", $"nonce {nonceText} of {member} was already used within the replay window");
            case ReplayGuard.Outcome.Full:
                throw LedgerErrors.Of(StatusCode.ResourceExhausted, "TooManyRequests", "the node remembers too many recent nonces; retry shortly");
        }

        if (!ApiRoles.Allows(method, state.Roles))
        {
            LogDenied(logger, method, member, state.Roles.ToString());
            throw LedgerErrors.Of(StatusCode.PermissionDenied, "MissingRole", $"{method} needs one of the roles {(ApiRoles.Matrix.TryGetValue(method, out var allowed) ? allowed.ToString() : "none")}; {member} has {state.Roles}");
        }

        new ApiCaller(member, state, method, purpose, digest, signatureBytes, now).AttachTo(context);
        timers.Add(ApiStage.Authenticate, started);
    }

    private RpcException Refuse(string method, string code, string reason)
    {
        LogUnauthenticated(logger, method, code, reason);
        return LedgerErrors.Of(StatusCode.Unauthenticated, code, reason);
    }

    private static byte[]? HexBytes(string text, int size)
    {
        if (text.Length != 2 + (2 * size) || !text.StartsWith("0x", StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            return Convert.FromHexString(text.AsSpan(2));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = 4200, Level = LogLevel.Warning, Message = "api: {Method} refused UNAUTHENTICATED ({Code}): {Reason}")]
    private static partial void LogUnauthenticated(ILogger logger, string method, string code, string reason);

    [LoggerMessage(EventId = 4201, Level = LogLevel.Warning, Message = "api: {Method} refused PERMISSION_DENIED to {Member} (roles {Roles})")]
    private static partial void LogDenied(ILogger logger, string method, Address member, string roles);
}
