using Grpc.Core;

namespace SmartCity.CreditApi.Interceptors;

/// <summary>
/// Gives every call a request id: the caller's <c>x-request-id</c> when it is a sane token (1–128 of
/// <c>A–Z a–z 0–9 . _ : -</c>), a fresh one otherwise. The id goes back to the caller as the response header
/// <c>x-request-id</c> (also on errors) and into the logging scope of the call.
/// </summary>
public sealed class RequestIdInterceptor : ServerCallInterceptor
{
    public const string Header = "x-request-id";

    private const string UserStateKey = "smartcity.request-id";
    private const int MaxLength = 128;

    /// <summary>The request id of a call that passed through this interceptor.</summary>
    public static string? Of(ServerCallContext context)
        => context is not null && context.UserState.TryGetValue(UserStateKey, out var id) ? id as string : null;

    protected override Task<T> AroundAsync<T>(ServerCallContext context, Func<Task<T>> handler)
    {
        var given = context.RequestHeaders.GetValue(Header);
        var id = IsSane(given) ? given! : Guid.NewGuid().ToString("N");
        context.UserState[UserStateKey] = id;

        // Set on the HTTP response before the handler runs, so it is sent with the response headers whether the
        // service writes its own headers, streams, or fails (trailers-only responses carry it too).
        context.GetHttpContext().Response.Headers[Header] = id;
        return handler();
    }

    private static bool IsSane(string? id)
        => id is { Length: > 0 and <= MaxLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-');
}
