using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.Score;

/// <summary>
/// The JSON form of a score answer (<c>smartcity.trust-score</c>, version 1, docs/score.md §5): what the command line
/// prints with <c>--json</c> and what the credit API will serve. Hashes and ids are 0x hex, addresses EIP-55, times
/// ISO 8601 UTC; Chinese text is written as is (UTF-8), not escaped.
/// </summary>
public static class TrustScoreJson
{
    public const string Format = "smartcity.trust-score";
    public const int FormatVersion = 1;

    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(TrustScore score)
    {
        ArgumentNullException.ThrowIfNull(score);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            Write(json, score);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static void Write(Utf8JsonWriter json, TrustScore score)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(score);
        json.WriteStartObject();
        json.WriteString("format", Format);
        json.WriteNumber("version", FormatVersion);
        json.WriteString("subject", score.Subject.Text);
        json.WriteNumber("score", score.Score);
        json.WriteString("band", score.Band.ToString());
        json.WriteBoolean("listed", score.Listed);
        json.WriteString("model", score.ModelVersion);
        json.WriteNumber("height", score.Height);
        json.WriteString("headerHash", score.HeaderHash.ToString());
        json.WriteString("asOf", Time(score.AsOf));

        json.WriteStartObject("points");
        json.WriteNumber("base", score.BasePoints);
        json.WriteNumber("shownReasons", score.RawPoints - score.BasePoints - score.OtherPoints);
        json.WriteNumber("otherReasons", score.OtherPoints);
        json.WriteNumber("raw", score.RawPoints);
        json.WriteEndObject();

        var counts = score.Counts;
        json.WriteStartObject("records");
        json.WriteNumber("included", counts.Included);
        json.WriteNumber("excluded", counts.Excluded);
        json.WriteStartObject("excludedBecause");
        json.WriteNumber("disputed", counts.Disputed);
        json.WriteNumber("repaired", counts.Repaired);
        json.WriteNumber("expired", counts.Expired);
        json.WriteNumber("annulled", counts.Annulled);
        json.WriteNumber("notPublished", counts.NotPublished);
        json.WriteNumber("superseded", counts.Superseded);
        json.WriteNumber("notScored", counts.NotScored);
        json.WriteEndObject();
        json.WriteEndObject();

        json.WriteStartArray("reasons");
        foreach (var reason in score.Reasons)
        {
            json.WriteStartObject();
            json.WriteString("code", reason.Text.Code);
            json.WriteString("reason", reason.Code.ToString());
            json.WriteString("textZh", reason.Text.Chinese);
            json.WriteString("textEn", reason.Text.English);
            json.WriteNumber("points", reason.Points);
            Ids(json, "recordIds", reason.RecordIds);
            Member(json, "sourceMember", reason.SourceMember);
            json.WriteString("legalBasis", reason.LegalBasis);
            OptionalTime(json, "repairEligibleFrom", reason.RepairEligibleAt);
            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartArray("listEntries");
        foreach (var entry in score.ListEntries)
        {
            json.WriteStartObject();
            json.WriteString("entryId", entry.EntryId.ToString());
            json.WriteString("list", entry.Colour == ListColour.Black ? "black" : "red");
            json.WriteString("listType", entry.ListType);
            json.WriteString("legalBasis", entry.LegalBasis);
            json.WriteString("region", entry.Region);
            json.WriteString("initiator", entry.Initiator.ToString());
            json.WriteString("effectiveFrom", Time(entry.EffectiveFrom));
            OptionalTime(json, "expiresAt", entry.ExpiresAt);
            json.WriteStartArray("measures");
            foreach (var triggered in entry.Measures)
            {
                json.WriteStartObject();
                json.WriteString("memorandumId", triggered.MemorandumId.ToString());
                json.WriteString("title", triggered.Title);
                Strings(json, "measures", triggered.Measures);
                Strings(json, "regions", triggered.Regions);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartArray("disputed");
        foreach (var disputed in score.Disputed)
        {
            json.WriteStartObject();
            json.WriteString("recordId", disputed.RecordId.ToString());
            if (disputed.WouldCountAs is { } text)
            {
                json.WriteString("wouldCountAs", text.Code);
            }
            else
            {
                json.WriteNull("wouldCountAs");
            }

            json.WriteString("sourceMember", disputed.SourceMember.ToString());
            json.WriteString("objectionId", disputed.ObjectionId.ToString());
            json.WriteString("filedAt", Time(disputed.FiledAt));
            json.WriteString("answerDueBy", Time(disputed.AnswerDueBy));
            json.WriteBoolean("overdue", disputed.Overdue);
            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartObject("notice");
        json.WriteString("zh", score.Notice.Chinese);
        json.WriteString("en", score.Notice.English);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void OptionalTime(Utf8JsonWriter json, string name, DateTimeOffset? time)
    {
        if (time is { } value)
        {
            json.WriteString(name, Time(value));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void Member(Utf8JsonWriter json, string name, Address member)
    {
        if (member.IsZero)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, member.ToString());
        }
    }

    private static void Ids(Utf8JsonWriter json, string name, IReadOnlyList<Hash256> ids)
    {
        json.WriteStartArray(name);
        foreach (var id in ids)
        {
            json.WriteStringValue(id.ToString());
        }

        json.WriteEndArray();
    }

    private static void Strings(Utf8JsonWriter json, string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }
}
