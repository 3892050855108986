using Grpc.Core;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.CreditApi.Services.Api;

/// <summary>
/// An authenticated caller, as the interceptor leaves it in the call's user state: the member, its record in the
/// ledger state, the method, the purpose code, the digest it signed and its signature (both go to the access log).
/// </summary>
public sealed record ApiCaller(Address Member, MemberState State, string Method, string Purpose, Hash256 SignedDigest, byte[] Signature, long AcceptedAtMs)
{
    private const string Key = "smartcity.api.caller";

    public static ApiCaller Of(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.UserState.TryGetValue(Key, out var caller) && caller is ApiCaller c
            ? c
            : throw new InvalidOperationException("the call was not authenticated: is the ApiAuthenticationInterceptor registered?");
    }

    internal void AttachTo(ServerCallContext context) => context.UserState[Key] = this;
}
