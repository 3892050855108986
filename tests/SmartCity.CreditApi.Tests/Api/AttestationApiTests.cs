using Google.Rpc;
using Grpc.Core;
using SmartCity.Contracts.Credit.V1;
using SmartCity.CreditApi.Cli;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// AttestationService over real HTTP/2 with signed requests: a bank verifies a licence and receives ONE receipt that
/// proves the licence's latest transaction and its current state under one certified header, which
/// <c>smartcity receipt verify</c> accepts offline; every read is in the access log; bad input is refused first.
/// </summary>
public sealed class AttestationApiTests : IAsyncLifetime
{
    private readonly ApiNode _api = new();

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task A_bank_verifies_a_suspended_licence_with_one_receipt_proving_its_latest_transaction_and_status()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        await _api.PenaliseAsync("unrelated block");
        var suspension = await _api.CommitAsync(new LicenceSuspend(identifier, "inspection pending"));
        var bank = _api.Client(ApiNode.Bank, "LOAN_REVIEW");

        var answer = await bank.Attestation.VerifyLicenceAsync(new VerifyLicenceRequest { Identifier = identifier, ExpectedHolder = ApiNode.Holder });

        Assert.Equal((identifier, "02", "Suspended", true), (answer.Licence.Identifier, answer.Licence.EffectiveStatus, answer.Licence.EffectiveStatusName, answer.HolderMatches));
        Assert.Equal(suspension.TransactionId, answer.Licence.TransactionId);
        var report = ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(answer.ReceiptJson), TrustAnchor.FromGenesis(_api.Genesis), Secp256k1.Default);
        Assert.Equal(ReceiptOutcome.Valid, report.Outcome);
        var receipt = Assert.IsType<LicenceReceipt>(report.Receipt);
        Assert.Equal(suspension.Height, receipt.Header.Height);
        Assert.Equal((2L, 3L), (receipt.Inclusion.LeafIndex, receipt.Inclusion.TreeSize));
        Assert.Equal((identifier, LicenceStatus.Suspended), (report.Licence!.Identifier, report.Licence.StatusAtBlockTime));
    }

    [Fact]
    public async Task The_combined_receipt_passes_smartcity_receipt_verify_and_fails_once_a_byte_of_its_state_proof_changes()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        var answer = await _api.Client(ApiNode.Bank).Attestation.VerifyLicenceAsync(new VerifyLicenceRequest { Identifier = identifier });
        var directory = Directory.CreateTempSubdirectory("smartcity-api-receipt-").FullName;
        try
        {
            var file = Path.Combine(directory, "licence.json");
            await File.WriteAllTextAsync(file, answer.ReceiptJson);
            var valid = await RunCliAsync("receipt", "verify", "--file", file, "--genesis", _api.GenesisPath);

            var node = System.Text.Json.Nodes.JsonNode.Parse(answer.ReceiptJson)!;
            var value = node["value"]!.GetValue<string>();
            node["value"] = value[..^2] + (value[^2..] == "00" ? "01" : "00");
            var tampered = Path.Combine(directory, "tampered.json");
            await File.WriteAllTextAsync(tampered, node.ToJsonString());
            var invalid = await RunCliAsync("receipt", "verify", "--file", tampered, "--genesis", _api.GenesisPath);

            Assert.Equal(0, valid.Exit);
            Assert.StartsWith("VALID", valid.Output, StringComparison.Ordinal);
            Assert.Contains($"licence {identifier}: status 01 Valid", valid.Output, StringComparison.Ordinal);
            Assert.Contains("wrote the licence's current record", valid.Output, StringComparison.Ordinal);
            Assert.Equal(1, invalid.Exit);
            Assert.StartsWith("INVALID", invalid.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<(int Exit, string Output, string Error)> RunCliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Each_read_of_a_licence_writes_one_access_log_entry_with_the_requester_purpose_and_signature()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        var bank = _api.Client(ApiNode.Bank, "LOAN_REVIEW");

        var licence = await bank.Attestation.GetLicenceAsync(new GetLicenceRequest { Identifier = identifier });
        await bank.Attestation.VerifyLicenceAsync(new VerifyLicenceRequest { Identifier = identifier });
        var log = await _api.AccessLogAsync();

        Assert.Equal((ApiNode.Holder, 1), (licence.Licence.Holder, licence.Licence.Version));
        Assert.Equal(2, log.Count);
        Assert.All(log, entry =>
        {
            Assert.Equal((bank.Member, ApiNode.Holder), (entry.Request.Requester, entry.Request.Subject));
            Assert.Contains(";purpose=LOAN_REVIEW;result=0x", entry.Request.Method, StringComparison.Ordinal);
            Assert.Equal(SignatureCheck.Ok, Secp256k1.Default.Verify(entry.Request.RequestDigest, new Signature(entry.Request.Signature.ToArray()), bank.Member));
        });
        Assert.StartsWith("/smartcity.credit.v1.AttestationService/GetLicence;", log[0].Request.Method, StringComparison.Ordinal);
        Assert.StartsWith("/smartcity.credit.v1.AttestationService/VerifyLicence;", log[1].Request.Method, StringComparison.Ordinal);
        Assert.True(Ledger.Storage.AccessLogChain.Verify(log).IsIntact);
    }

    [Fact]
    public async Task A_holder_who_is_not_the_expected_one_is_answered_false_not_refused()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");

        var answer = await _api.Client(ApiNode.Bank).Attestation.VerifyLicenceAsync(new VerifyLicenceRequest { Identifier = identifier, ExpectedHolder = "uscc:91110000MA0000008A" });

        Assert.False(answer.HolderMatches);
        Assert.Equal(ApiNode.Holder, answer.Licence.Holder);
    }

    [Fact]
    public async Task A_malformed_identifier_is_an_invalid_argument_naming_the_field_and_reads_nothing()
    {
        var bank = _api.Client(ApiNode.Bank);

        var error = await Assert.ThrowsAsync<RpcException>(() => bank.Attestation.VerifyLicenceAsync(new VerifyLicenceRequest { Identifier = "1.2.156.3005.2.not-a-licence" }).ResponseAsync);
        var holder = await Assert.ThrowsAsync<RpcException>(() => bank.Attestation.VerifyLicenceAsync(new VerifyLicenceRequest { Identifier = _api.LicenceId("1"), ExpectedHolder = "someone" }).ResponseAsync);

        Assert.Equal((StatusCode.InvalidArgument, "INVALID_REQUEST"), (error.StatusCode, ApiNode.Reason(error)));
        Assert.Equal("identifier", Assert.Single(error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations).Field);
        Assert.Equal("expected_holder", Assert.Single(holder.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations).Field);
        Assert.Empty(await _api.AccessLogAsync());
    }

    [Fact]
    public async Task A_licence_that_was_never_issued_is_not_found_and_logs_nothing()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _api.Client(ApiNode.Bank).Attestation.VerifyLicenceAsync(new VerifyLicenceRequest { Identifier = _api.LicenceId("9999") }).ResponseAsync);

        Assert.Equal((StatusCode.NotFound, "UNKNOWN_LICENCE"), (error.StatusCode, ApiNode.Reason(error)));
        Assert.Empty(await _api.AccessLogAsync());
    }

    [Fact]
    public async Task A_holders_licences_come_in_identifier_order_in_pages_whose_token_is_bound_to_the_holder()
    {
        var identifiers = new List<string>();
        foreach (var number in new[] { "300", "100", "200" })
        {
            identifiers.Add(await _api.IssueLicenceAsync(number));
        }

        await _api.IssueLicenceAsync("400", holder: "uscc:91110000MA0000008A");
        var bank = _api.Client(ApiNode.Bank);

        var first = await bank.Attestation.ListLicencesByHolderAsync(new ListLicencesByHolderRequest { Holder = ApiNode.Holder, PageSize = 2 });
        var second = await bank.Attestation.ListLicencesByHolderAsync(new ListLicencesByHolderRequest { Holder = ApiNode.Holder, PageSize = 2, PageToken = first.NextPageToken });
        var foreign = await Assert.ThrowsAsync<RpcException>(() => bank.Attestation.ListLicencesByHolderAsync(new ListLicencesByHolderRequest { Holder = "uscc:91110000MA0000008A", PageToken = first.NextPageToken }).ResponseAsync);
        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => bank.Attestation.ListLicencesByHolderAsync(new ListLicencesByHolderRequest { Holder = ApiNode.Holder, PageSize = 501 }).ResponseAsync);

        Assert.Equal(identifiers.Order(StringComparer.Ordinal), first.Licences.Concat(second.Licences).Select(l => l.Identifier));
        Assert.Equal(2, first.Licences.Count);
        Assert.Equal(string.Empty, second.NextPageToken);
        Assert.Equal(StatusCode.InvalidArgument, foreign.StatusCode);
        Assert.Equal((StatusCode.ResourceExhausted, "PAGE_TOO_LARGE"), (tooLarge.StatusCode, ApiNode.Reason(tooLarge)));
        Assert.Equal(2, (await _api.AccessLogAsync()).Count);
    }

    [Fact]
    public async Task A_bank_with_a_plain_http_client_verifies_a_licence_through_the_json_gateway_with_the_same_signature()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        // HTTP/2 with prior knowledge (h2c): the node's listener speaks HTTP/2 only.
        using var http = new HttpClient { BaseAddress = _api.Host.Address };
        HttpRequestMessage Post(bool signed)
        {
            var message = new HttpRequestMessage(HttpMethod.Post, $"/v1/licences/{identifier}:verify")
            {
                Version = System.Net.HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = new StringContent($$"""{"expectedHolder":"{{ApiNode.Holder}}"}""", System.Text.Encoding.UTF8, "application/json"),
            };
            if (signed)
            {
                // The signature covers the request message the JSON becomes: identifier from the path, the rest from the body.
                var request = new VerifyLicenceRequest { Identifier = identifier, ExpectedHolder = ApiNode.Holder };
                foreach (var (name, value) in Auth.ApiRequestSigning.Sign(_api.Key(ApiNode.Bank), _api.Genesis.ChainId, "/smartcity.credit.v1.AttestationService/VerifyLicence", request, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), System.Security.Cryptography.RandomNumberGenerator.GetBytes(16), "LOAN_REVIEW"))
                {
                    message.Headers.Add(name, value);
                }
            }

            return message;
        }

        using var answer = await http.SendAsync(Post(signed: true));
        using var unsigned = await http.SendAsync(Post(signed: false));

        var body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == System.Net.HttpStatusCode.OK, $"{answer.StatusCode}: {body}");
        using var json = System.Text.Json.JsonDocument.Parse(body);
        Assert.Equal((identifier, "01", true), (json.RootElement.GetProperty("licence").GetProperty("identifier").GetString(), json.RootElement.GetProperty("licence").GetProperty("effectiveStatus").GetString(), json.RootElement.GetProperty("holderMatches").GetBoolean()));
        var report = ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(json.RootElement.GetProperty("receiptJson").GetString()!), TrustAnchor.FromGenesis(_api.Genesis), Secp256k1.Default);
        Assert.Equal(ReceiptOutcome.Valid, report.Outcome);
        var refusal = await unsigned.Content.ReadAsStringAsync();
        Assert.True(unsigned.StatusCode == System.Net.HttpStatusCode.Unauthorized, $"{unsigned.StatusCode}: {refusal}");
        Assert.Contains("MissingCredentials", refusal, StringComparison.Ordinal);
        Assert.Single(await _api.AccessLogAsync());
    }

    [Fact]
    public async Task A_credit_bureau_may_verify_a_licence_but_not_list_a_holders_licences()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        var bureau = _api.Client(ApiNode.Bureau);

        var verified = await bureau.Attestation.VerifyLicenceAsync(new VerifyLicenceRequest { Identifier = identifier });
        var error = await Assert.ThrowsAsync<RpcException>(() => bureau.Attestation.ListLicencesByHolderAsync(new ListLicencesByHolderRequest { Holder = ApiNode.Holder }).ResponseAsync);

        Assert.Equal(identifier, verified.Licence.Identifier);
        Assert.Equal((StatusCode.PermissionDenied, "MISSING_ROLE"), (error.StatusCode, ApiNode.Reason(error)));
    }
}
