using System.Buffers.Text;
using System.Text;
using Grpc.Core;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;

namespace SmartCity.CreditApi.Services.Api;

/// <summary>
/// The credit API's request checks and paging, in one place: a malformed field is INVALID_ARGUMENT with the field's
/// name, a page larger than the cap RESOURCE_EXHAUSTED. Everything here runs before any data is read, so a refused
/// request changes nothing and writes no access-log entry.
/// </summary>
public static class ApiRequests
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 500;

    public static Subject Subject(string text, string field = "subject")
    {
        var parsed = Ledger.Domain.Identifiers.Subject.Parse(text);
        return parsed.IsValid ? parsed.Value : throw Invalid($"{field}: {parsed.Detail}");
    }

    public static string Licence(string text)
    {
        var parsed = LicenceIdentifier.Parse(text);
        return parsed.IsValid ? parsed.Value.ToString() : throw Invalid($"identifier: {parsed.Detail}");
    }

    public static Hash256 Hash(string text, string field)
        => text.Length == 66 && Hash256.TryParse(text, out var hash) ? hash : throw Invalid($"{field}: expected 0x and 64 hex digits");

    public static long Height(long height, string field)
        => height >= 0 ? height : throw Invalid($"{field}: a height is 0 or more, got {height}");

    public static int PageSize(int requested, int max = MaxPageSize, int fallback = DefaultPageSize, string field = "page_size") => requested switch
    {
        < 0 => throw Invalid($"{field}: must be 0 (default {fallback}) or positive, got {requested}"),
        0 => fallback,
        _ when requested > max => throw LedgerErrors.Of(StatusCode.ResourceExhausted, "PageTooLarge", $"{field}: at most {max} per page, asked for {requested}"),
        _ => requested,
    };

    /// <summary>
    /// A page token: the last key of the previous page, bound to what was asked (scope), base64url of
    /// <c>v2 ‖ 0x00 ‖ scope ‖ 0x00 ‖ last key</c>. Keys are unique and pages ascend by key, so a token keeps its
    /// place whatever is written meanwhile: nothing already listed comes again and nothing present throughout is skipped.
    /// The scope is carried as text (v1 carried its Keccak-256): a token is neither secret nor authenticated, the
    /// caller knows the filters it asked for, and the check only refuses a token reused with other filters, so no hash
    /// (and no crypto suite) is needed.
    /// </summary>
    public static string Token(string scope, string lastKey)
    {
        var bytes = Encoding.UTF8.GetBytes("v2\0" + scope + "\0" + lastKey);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>The last key of a token issued for the same scope; null for an empty token.</summary>
    public static string? AfterKey(string token, string scope)
    {
        if (token.Length == 0)
        {
            return null;
        }

        string text;
        try
        {
            text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
        }
        catch (FormatException)
        {
            throw Invalid("page_token: not a token this node issued");
        }

        var parts = text.Split('\0');
        if (parts.Length != 3 || parts[0] != "v2")
        {
            throw Invalid("page_token: not a token this node issued");
        }

        return parts[1] == scope
            ? parts[2]
            : throw Invalid("page_token: issued for another subject or other filters");
    }

    /// <summary>
    /// INVALID_ARGUMENT for a message of the form <c>field: reason</c> (or <c>field, field: reason</c>): ErrorInfo
    /// <c>INVALID_REQUEST</c> and a BadRequest field violation per named field.
    /// </summary>
    public static RpcException Invalid(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        var fields = colon > 0 ? message[..colon].Split(", ") : [];
        return LedgerErrors.InvalidFields("InvalidRequest", message, fields.All(IsFieldName) ? fields : []);
    }

    private static bool IsFieldName(string name) => name.Length > 0 && name.All(c => c is (>= 'a' and <= 'z') or '_');

    public static RpcException NotFound(string code, string message) => LedgerErrors.Of(StatusCode.NotFound, code, message);
}
