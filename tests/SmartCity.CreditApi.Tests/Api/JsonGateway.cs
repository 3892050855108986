using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Api;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using SmartCity.CreditApi.Auth;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// A plain <see cref="HttpClient"/> speaking the JSON gateway from the <c>google.api.http</c> rules of the committed
/// .proto files, as a bank's HTTP tool would: a request message becomes a path (its path fields), a query string (the
/// other fields of a GET, by their lowerCamelCase JSON names) or a JSON body (<c>body: "*"</c>), and the five headers
/// sign the protobuf encoding of that same message (docs/api.md, "JSON over HTTP"). The other direction,
/// <see cref="MessageOf"/>, turns an HTTP request back into the message the gateway builds from it.
/// </summary>
public static class JsonGateway
{
    public static HttpRule Rule(MethodDescriptor method)
        => method.GetOptions().GetExtension(AnnotationsExtensions.Http) ?? throw new InvalidOperationException($"{method.FullName} has no google.api.http rule");

    public static (HttpMethod Verb, string Template, string Body) Route(MethodDescriptor method)
    {
        var rule = Rule(method);
        return rule.PatternCase switch
        {
            HttpRule.PatternOneofCase.Get => (HttpMethod.Get, rule.Get, rule.Body),
            HttpRule.PatternOneofCase.Post => (HttpMethod.Post, rule.Post, rule.Body),
            HttpRule.PatternOneofCase.Put => (HttpMethod.Put, rule.Put, rule.Body),
            HttpRule.PatternOneofCase.Delete => (HttpMethod.Delete, rule.Delete, rule.Body),
            HttpRule.PatternOneofCase.Patch => (HttpMethod.Patch, rule.Patch, rule.Body),
            _ => throw new InvalidOperationException($"{method.FullName}: unsupported pattern {rule.PatternCase}"),
        };
    }

    /// <summary>The path fields of a template, e.g. <c>subject</c> in <c>/v1/subjects/{subject}/trust-score</c>.</summary>
    public static IReadOnlyList<string> PathFields(string template)
        => System.Text.RegularExpressions.Regex.Matches(template, @"\{([a-z_0-9]+)\}").Select(m => m.Groups[1].Value).ToList();

    /// <summary>The HTTP request (verb, path and query, JSON body or null) the gateway maps to <paramref name="request"/>.</summary>
    public static (HttpMethod Verb, string PathAndQuery, string? Body) ToHttp(MethodDescriptor method, IMessage request)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        var (verb, template, body) = Route(method);
        var path = template;
        var rest = request.Descriptor.Parser.ParseFrom(request.ToByteArray());
        foreach (var name in PathFields(template))
        {
            var field = rest.Descriptor.FindFieldByName(name);
            path = path.Replace($"{{{name}}}", Uri.EscapeDataString(Convert.ToString(field.Accessor.GetValue(rest), CultureInfo.InvariantCulture)!), StringComparison.Ordinal);
            field.Accessor.Clear(rest);
        }

        if (body == "*")
        {
            return (verb, path, JsonFormatter.Default.Format(rest));
        }

        var query = new List<string>();
        foreach (var (name, value) in JsonNode.Parse(JsonFormatter.Default.Format(rest))!.AsObject())
        {
            var text = value!.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();
            query.Add($"{name}={Uri.EscapeDataString(text)}");
        }

        return (verb, query.Count == 0 ? path : $"{path}?{string.Join('&', query)}", null);
    }

    /// <summary>
    /// The message the gateway builds from an HTTP request: the path's variables, the query's parameters (by JSON or
    /// proto name) and the JSON body merged, as JSON transcoding does.
    /// </summary>
    public static IMessage MessageOf(MethodDescriptor method, string pathAndQuery, string? body)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        var (_, template, _) = Route(method);
        var json = string.IsNullOrEmpty(body) ? new JsonObject() : JsonNode.Parse(body)!.AsObject();
        var split = pathAndQuery.Split('?', 2);
        var pattern = "^" + System.Text.RegularExpressions.Regex.Replace(System.Text.RegularExpressions.Regex.Escape(template).Replace(@"\{", "{", StringComparison.Ordinal), @"\{([a-z_0-9]+)}", "(?<$1>[^/]+)") + "$";
        var match = System.Text.RegularExpressions.Regex.Match(split[0], pattern);
        if (!match.Success)
        {
            throw new InvalidOperationException($"{split[0]} does not match {template} of {method.FullName}");
        }

        var type = method.InputType;
        foreach (var name in PathFields(template))
        {
            Set(json, type.FindFieldByName(name), Uri.UnescapeDataString(match.Groups[name].Value));
        }

        if (split.Length == 2)
        {
            foreach (var pair in split[1].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var (key, value) = (pair.Split('=', 2)[0], Uri.UnescapeDataString(pair.Split('=', 2).ElementAtOrDefault(1) ?? ""));
                var field = type.Fields.InDeclarationOrder().SingleOrDefault(f => f.JsonName == key || f.Name == key)
                    ?? throw new InvalidOperationException($"{method.FullName} has no field {key}");
                Set(json, field, value);
            }
        }

        return JsonParser.Default.Parse(json.ToJsonString(), type);
    }

    private static void Set(JsonObject json, FieldDescriptor field, string text)
        => json[field.JsonName] = field.FieldType switch
        {
            FieldType.Bool => JsonValue.Create(bool.Parse(text)),
            FieldType.Int32 or FieldType.SInt32 or FieldType.UInt32 => JsonValue.Create(int.Parse(text, CultureInfo.InvariantCulture)),
            _ => JsonValue.Create(text),
        };

    /// <summary>The five signed headers for <paramref name="request"/> as the gateway will rebuild it.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Headers(ISigner key, ulong chainId, MethodDescriptor method, IMessage request, string purpose, long? timestamp = null)
        => ApiRequestSigning.Sign(key, chainId, $"/{method.Service.FullName}/{method.Name}", request, timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), System.Security.Cryptography.RandomNumberGenerator.GetBytes(16), purpose);

    /// <summary>Sends one request over <paramref name="version"/> (HTTP/2 with prior knowledge, or HTTP/1.1) and reads the whole answer.</summary>
    public static async Task<GatewayAnswer> SendAsync(Uri address, Version version, HttpMethod verb, string pathAndQuery, string? body, IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(headers);
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        using var message = new HttpRequestMessage(verb, pathAndQuery)
        {
            Version = version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
        };
        foreach (var header in headers)
        {
            message.Headers.Add(header.Key, header.Value);
        }

        using var answer = await http.SendAsync(message, cancellationToken);
        return new GatewayAnswer(answer.StatusCode, await answer.Content.ReadAsStringAsync(cancellationToken), answer.Version, answer.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary>An HTTP answer of the gateway.</summary>
public sealed record GatewayAnswer(HttpStatusCode Status, string Body, Version Version, string? ContentType)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

    /// <summary>
    /// The messages of a server stream: the gateway writes each one as a JSON object as the node sends it, one after
    /// the other (not inside an array).
    /// </summary>
    public IReadOnlyList<JsonElement> Messages => Sequence(Body);

    public static IReadOnlyList<JsonElement> Sequence(string text)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text ?? ""), new JsonReaderOptions { AllowMultipleValues = true });
        var values = new List<JsonElement>();
        while (reader.Read())
        {
            values.Add(JsonElement.ParseValue(ref reader));
        }

        return values;
    }

    /// <summary>The gRPC status name and ErrorInfo reason of a refusal's <c>google.rpc.Status</c> body.</summary>
    public (int Code, string? Reason) Refusal
    {
        get
        {
            var json = Json;
            var reason = json.TryGetProperty("details", out var details)
                ? details.EnumerateArray().Where(d => d.TryGetProperty("reason", out _)).Select(d => d.GetProperty("reason").GetString()).FirstOrDefault()
                : null;
            return (json.GetProperty("code").GetInt32(), reason);
        }
    }

    public override string ToString() => $"HTTP {(int)Status} {Version}: {Body}";
}
