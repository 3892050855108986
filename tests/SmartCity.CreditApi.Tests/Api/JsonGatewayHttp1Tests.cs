using System.Net;
using System.Text.Json;
using Google.Protobuf;
using SmartCity.Contracts.Audit.V1;
using SmartCity.Contracts.Credit.V1;
using SmartCity.CreditApi.Auth;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Receipts;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// The JSON gateway on the node's HTTP/1.1 listener (<c>httpListen</c> in the node's config): plain HTTP/1.1 requests
/// with the same five signed headers reach the same services, and refusals come back with the HTTP status the gRPC
/// status maps to and change nothing.
/// </summary>
public sealed class JsonGatewayHttp1Tests : IAsyncLifetime
{
    private readonly ApiNode _api = new(httpListener: true);

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    private async Task<(HttpStatusCode Status, string Body, Version Version)> SendAsync(HttpMethod method, string path, IMessage signedAs, string grpcMethod, int member, string? body = null)
    {
        using var http = new HttpClient { BaseAddress = _api.HttpAddress };
        using var message = new HttpRequestMessage(method, path)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = body is null ? null : new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in ApiRequestSigning.Sign(_api.Key(member), _api.Genesis.ChainId, grpcMethod, signedAs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), System.Security.Cryptography.RandomNumberGenerator.GetBytes(16), "CREDIT_CHECK"))
        {
            message.Headers.Add(name, value);
        }

        using var answer = await http.SendAsync(message);
        return (answer.StatusCode, await answer.Content.ReadAsStringAsync(), answer.Version);
    }

    [Fact]
    public async Task A_plain_http_1_1_client_reads_a_score_a_certified_header_and_a_verified_licence_with_signed_headers()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        await _api.PenaliseAsync("late filing");

        var score = await SendAsync(HttpMethod.Get, $"/v1/subjects/{ApiNode.Holder}/trust-score", new GetTrustScoreRequest { Subject = ApiNode.Holder }, "/smartcity.credit.v1.CreditService/GetTrustScore", ApiNode.Bureau);
        var header = await SendAsync(HttpMethod.Get, "/v1/audit/header?latest=true", new GetCertifiedHeaderRequest { Latest = true }, "/smartcity.audit.v1.AuditService/GetCertifiedHeader", ApiNode.Bank);
        var verified = await SendAsync(HttpMethod.Post, $"/v1/licences/{identifier}:verify", new VerifyLicenceRequest { Identifier = identifier }, "/smartcity.credit.v1.AttestationService/VerifyLicence", ApiNode.Bank, "{}");

        Assert.True(score.Status == HttpStatusCode.OK, $"{score.Status}: {score.Body}");
        Assert.Equal(HttpVersion.Version11, score.Version);
        using (var json = JsonDocument.Parse(score.Body))
        {
            Assert.Equal((ApiNode.Holder, 2L), (json.RootElement.GetProperty("subject").GetString(), long.Parse(json.RootElement.GetProperty("height").ToString(), System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.True(header.Status == HttpStatusCode.OK, $"{header.Status}: {header.Body}");
        using (var json = JsonDocument.Parse(header.Body))
        {
            Assert.Equal(_api.Ledger.Node.Head.Header.Hash.ToString(), json.RootElement.GetProperty("headerHash").GetString());
        }

        Assert.True(verified.Status == HttpStatusCode.OK, $"{verified.Status}: {verified.Body}");
        using (var json = JsonDocument.Parse(verified.Body))
        {
            var report = ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(json.RootElement.GetProperty("receiptJson").GetString()!), TrustAnchor.FromGenesis(_api.Genesis), Secp256k1.Default);
            Assert.Equal(ReceiptOutcome.Valid, report.Outcome);
        }

        Assert.Equal(2, (await _api.AccessLogAsync()).Count);
    }

    [Fact]
    public async Task Refusals_over_http_1_1_carry_the_mapped_http_status_and_log_nothing()
    {
        await _api.IssueLicenceAsync("2430599");
        var unknown = _api.LicenceId("9999999");

        var denied = await SendAsync(HttpMethod.Get, $"/v1/subjects/{ApiNode.Holder}/trust-score", new GetTrustScoreRequest { Subject = ApiNode.Holder }, "/smartcity.credit.v1.CreditService/GetTrustScore", ApiNode.CreditOffice);
        var invalid = await SendAsync(HttpMethod.Get, "/v1/subjects/uscc:nonsense/trust-score", new GetTrustScoreRequest { Subject = "uscc:nonsense" }, "/smartcity.credit.v1.CreditService/GetTrustScore", ApiNode.Bureau);
        var missing = await SendAsync(HttpMethod.Get, $"/v1/licences/{unknown}", new GetLicenceRequest { Identifier = unknown }, "/smartcity.credit.v1.AttestationService/GetLicence", ApiNode.Bank);
        var forged = await SendAsync(HttpMethod.Get, $"/v1/subjects/{ApiNode.Holder}/trust-score", new GetTrustScoreRequest { Subject = "uscc:91110000MA0000008A" }, "/smartcity.credit.v1.CreditService/GetTrustScore", ApiNode.Bureau);

        Assert.Equal(HttpStatusCode.Forbidden, denied.Status);
        Assert.Contains("MissingRole", denied.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.Status);
        Assert.Contains("subject", invalid.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Contains("UnknownLicence", missing.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.Status);
        Assert.Contains("BadSignature", forged.Body, StringComparison.Ordinal);
        Assert.Empty(await _api.AccessLogAsync());
    }
}
