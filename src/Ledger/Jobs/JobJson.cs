using System.Text.Json;

namespace SmartCity.Ledger.Jobs;

internal static class JobJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}
