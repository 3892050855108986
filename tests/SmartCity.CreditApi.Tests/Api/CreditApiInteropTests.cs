using System.Globalization;
using System.Text.Json;
using SmartCity.Contracts.Audit.V1;
using SmartCity.Contracts.Credit.V1;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using LedgerListColour = SmartCity.Ledger.Domain.Transactions.ListColour;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// The credit API against a client nobody here wrote: Node's @grpc/grpc-js with stubs loaded by @grpc/proto-loader
/// from the committed .proto files, every request signed by ethers from the byte layout in docs/api.md
/// (tests/interop/node/credit_client.js). Every method of the four services with real answers checked here (receipts
/// verified offline, the score equal to the C# client's), the server streams read and cancelled, and every kind of
/// refusal. One node host serves the class (its data is written once); each test runs one Node process for a plan of calls.
/// </summary>
public sealed class CreditApiInteropTests(CreditApiInteropTests.SharedNode shared) : IClassFixture<CreditApiInteropTests.SharedNode>
{
    private ApiNode Api => shared.Api;

    private static string Credit(string method) => $"/smartcity.credit.v1.{method}";

    private static string Audit(string method) => $"/smartcity.audit.v1.AuditService/{method}";

    private static readonly Dictionary<string, int> Members = new()
    {
        ["regulator-tj"] = ApiNode.TianjinRegulator,
        ["credit-office"] = ApiNode.CreditOffice,
        ["bureau"] = ApiNode.Bureau,
        ["bank"] = ApiNode.Bank,
        ["regulator"] = ApiNode.Regulator,
    };

    /// <summary>Runs the calls, in order, in one Node process; returns each call's outcome by name.</summary>
    private async Task<Dictionary<string, JsonElement>> RunAsync(params NodeCall[] calls)
    {
        var plan = Path.Combine(shared.Directory, $"plan-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(plan, JsonSerializer.Serialize(new
        {
            chain_id = Api.Genesis.ChainId,
            members = Members.ToDictionary(m => m.Key, m => new { keystore = Api.KeystoreOf(m.Value).Keystore, password_file = Api.KeystoreOf(m.Value).PasswordFile }),
            calls = calls.Select(c => new { name = c.Name, method = c.Method, request = c.Request, member = c.Member, purpose = c.Purpose, mode = c.Mode, count = c.Count }),
        }));
        var output = await NodeJsInteropClient.Credit.RunAsync(Api.Target, "plan", "--plan", plan);
        return output.GetProperty("results").EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
    }

    private static JsonElement Ok(Dictionary<string, JsonElement> results, string name)
    {
        var result = results[name];
        Assert.True(result.GetProperty("code").GetString() == "OK", $"{name}: {result}");
        return result.TryGetProperty("reply", out var reply) ? reply : result.GetProperty("replies");
    }

    private static (string Code, string? Rejection) Refusal(JsonElement result)
        => (result.GetProperty("code").GetString()!, result.TryGetProperty("rejection_code", out var code) && code.ValueKind == JsonValueKind.String ? code.GetString() : null);

    private static long Long(JsonElement element) => long.Parse(element.GetString()!, CultureInfo.InvariantCulture);

    private ReceiptOutcome Verify(JsonElement receiptJson)
        => ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(receiptJson.GetString()!), TrustAnchor.FromGenesis(Api.Genesis), Secp256k1.Default).Outcome;

    [NodeJsInteropFact]
    public async Task Grpc_js_with_requests_signed_by_ethers_calls_every_method_of_the_four_services_and_gets_verifiable_answers()
    {
        var identifier = shared.Licence;
        var transaction = Api.Sign(ApiNode.PenaltyBody($"submitted from node {Guid.NewGuid()}"));
        var logBefore = (await Api.AccessLogAsync()).Count;
        var bank = Api.AddressOf(ApiNode.Bank).ToString();

        var results = await RunAsync(
            new("submit", Credit("CreditService/SubmitTransaction"), new { transaction = Convert.ToBase64String(TransactionCodec.Encode(transaction)), wait_for_commit = true }, "regulator-tj", Purpose: "SUBMISSION"),
            new("score", Credit("CreditService/GetTrustScore"), new { subject = ApiNode.Holder }, "bureau"),
            new("records", Credit("CreditService/ListCreditRecords"), new { subject = ApiNode.Holder, page_size = 1 }, "bureau"),
            new("licence", Credit("AttestationService/GetLicence"), new { identifier }, "bank", Purpose: "LOAN_REVIEW"),
            new("verify", Credit("AttestationService/VerifyLicence"), new { identifier, expected_holder = ApiNode.Holder }, "bank", Purpose: "LOAN_REVIEW"),
            new("by-holder", Credit("AttestationService/ListLicencesByHolder"), new { holder = ApiNode.Holder }, "bank", Purpose: "LOAN_REVIEW"),
            new("entries", Credit("IncentiveService/ListEntries"), new { subject = ApiNode.Holder }, "bank"),
            new("measures", Credit("IncentiveService/GetApplicableMeasures"), new { subject = ApiNode.Holder, region = "TJ" }, "regulator-tj", Purpose: "MEASURES"),
            new("header", Audit("GetCertifiedHeader"), new { latest = true }, "bank"),
            new("header-1", Audit("GetCertifiedHeader"), new { height = 1 }, "bureau"),
            new("blocks", Audit("StreamBlocks"), new { from_height = 1, to_height = 3 }, "regulator", Purpose: "SUPERVISION"),
            new("blocks-live", Audit("StreamBlocks"), new { from_height = 1 }, "regulator", Purpose: "SUPERVISION", Count: 2),
            new("transaction", Audit("GetTransaction"), new { transaction_id = shared.PenaltyId }, "regulator", Purpose: "SUPERVISION"),
            new("consistency", Audit("GetConsistencyProof"), new { from_height = 1, to_height = 3 }, "bank", Purpose: "SUPERVISION"),
            new("verify-chain", Audit("VerifyChain"), new { from_height = 1 }, "regulator", Purpose: "SUPERVISION"),
            new("access-log", Audit("GetAccessLog"), new { requester = bank, matching_only = true }, "regulator", Purpose: "SUPERVISION"),
            new("reports", Audit("ListReconciliationReports"), new { limit = 10 }, "regulator", Purpose: "SUPERVISION"),
            new("notifications", Audit("ListLifecycleNotifications"), new { limit = 10 }, "regulator", Purpose: "SUPERVISION"));

        var submitted = Ok(results, "submit");
        Assert.Equal("TRANSACTION_STATUS_COMMITTED", submitted.GetProperty("status").GetString());
        Assert.Equal(ReceiptOutcome.Valid, Verify(submitted.GetProperty("receipt_json")));
        var head = Api.Ledger.Node.Head;
        Assert.Equal(head.Height, Long(submitted.GetProperty("height")));

        // The same score, band and explainable answer as the C# client reads at the same head.
        var score = Ok(results, "score");
        var expected = await Api.Client(ApiNode.Bureau).Credit.GetTrustScoreAsync(new GetTrustScoreRequest { Subject = ApiNode.Holder });
        Assert.Equal((expected.Score, expected.Band, expected.HeaderHash, expected.AnswerJson), (score.GetProperty("score").GetInt32(), score.GetProperty("band").GetString(), score.GetProperty("header_hash").GetString(), score.GetProperty("answer_json").GetString()));
        Assert.Contains(Keccak256.Hash("late filing"u8).ToString(), expected.AnswerJson, StringComparison.OrdinalIgnoreCase);

        var records = Ok(results, "records");
        Assert.Single(records.GetProperty("records").EnumerateArray());
        Assert.False(string.IsNullOrEmpty(records.GetProperty("next_page_token").GetString()));

        Assert.Equal(ApiNode.Holder, Ok(results, "licence").GetProperty("licence").GetProperty("holder").GetString());
        var verified = Ok(results, "verify");
        Assert.Equal((identifier, "01", true), (verified.GetProperty("licence").GetProperty("identifier").GetString(), verified.GetProperty("licence").GetProperty("effective_status").GetString(), verified.GetProperty("holder_matches").GetBoolean()));
        Assert.Equal(ReceiptOutcome.Valid, Verify(verified.GetProperty("receipt_json")));
        Assert.Equal([identifier], Ok(results, "by-holder").GetProperty("licences").EnumerateArray().Select(l => l.GetProperty("identifier").GetString()));
        var entry = Assert.Single(Ok(results, "entries").GetProperty("entries").EnumerateArray());
        Assert.Equal(("LIST_COLOUR_BLACK", 1), (entry.GetProperty("colour").GetString(), entry.GetProperty("status").GetInt32()));
        var measures = Ok(results, "measures");
        Assert.Equal(("TJ", ApiNode.Holder), (measures.GetProperty("region").GetString(), measures.GetProperty("subject").GetString()));

        var header = Ok(results, "header");
        Assert.Equal(head.Header.Hash.ToString(), header.GetProperty("header_hash").GetString());
        Assert.Equal(head.Header.Encode(), Convert.FromBase64String(header.GetProperty("header").GetString()!));
        var first = await Api.Ledger.Node.GetBlockEventAsync(1, CancellationToken.None);
        Assert.Equal(first.Certificate.Encode(), Convert.FromBase64String(Ok(results, "header-1").GetProperty("certificate").GetString()!));

        var blocks = Ok(results, "blocks").EnumerateArray().ToList();
        Assert.Equal([1L, 2L, 3L], blocks.Select(b => Long(b.GetProperty("height"))));
        foreach (var block in blocks)
        {
            var committed = await Api.Ledger.Node.GetBlockEventAsync(Long(block.GetProperty("height")), CancellationToken.None);
            Assert.Equal(committed.Header.Hash.ToString(), block.GetProperty("header_hash").GetString());
            Assert.Equal(committed.TransactionIds.Select(id => id.ToString()), block.GetProperty("transaction_ids").EnumerateArray().Select(t => t.GetString()));
        }

        // An open-ended stream follows the chain live until the client cancels it after two blocks.
        var live = results["blocks-live"];
        Assert.Equal("CANCELLED", live.GetProperty("code").GetString());
        Assert.Equal([1L, 2L], live.GetProperty("replies").EnumerateArray().Select(b => Long(b.GetProperty("height"))));

        var fetched = Ok(results, "transaction");
        Assert.Equal(shared.PenaltyId, fetched.GetProperty("transaction_id").GetString());
        Assert.Equal(ReceiptOutcome.Valid, Verify(fetched.GetProperty("receipt_json")));
        var consistency = Ok(results, "consistency");
        Assert.Equal((1L, 3L), (Long(consistency.GetProperty("from_height")), Long(consistency.GetProperty("to_height"))));
        Assert.Equal(ReceiptOutcome.Valid, Verify(consistency.GetProperty("receipt_json")));

        var verdicts = Ok(results, "verify-chain").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(1, (int)head.Height).Select(h => (long)h), verdicts.Select(v => Long(v.GetProperty("height"))));
        Assert.All(verdicts, v => Assert.Equal("BLOCK_VERDICT_VALID", v.GetProperty("verdict").GetString()));
        Assert.Equal(head.Height, Long(verdicts[^1].GetProperty("blocks_checked")));

        // The bank's three licence reads and the list-entry read, each logged once, signed by the bank, chain intact.
        var log = Ok(results, "access-log");
        Assert.True(log.GetProperty("chain_intact").GetBoolean());
        var bankEntries = log.GetProperty("entries").EnumerateArray().Where(e => Long(e.GetProperty("sequence")) >= logBefore).ToList();
        Assert.Equal(
            ["/smartcity.credit.v1.AttestationService/GetLicence", "/smartcity.credit.v1.AttestationService/VerifyLicence", "/smartcity.credit.v1.AttestationService/ListLicencesByHolder", "/smartcity.credit.v1.IncentiveService/ListEntries"],
            bankEntries.Select(e => e.GetProperty("method").GetString()!.Split(';')[0]));
        Assert.All(bankEntries.Take(3), e => Assert.Contains(";purpose=LOAN_REVIEW;", e.GetProperty("method").GetString(), StringComparison.Ordinal));
        var stored = await Api.Ledger.JobState.ListReportsAsync(0, 10, CancellationToken.None);
        Assert.Equal(stored.Count, Ok(results, "reports").GetProperty("reports").GetArrayLength());
        var notifications = await Api.Ledger.JobState.ListNotificationsAsync(0, 10, designator: null, CancellationToken.None);
        Assert.Equal(notifications.Count, Ok(results, "notifications").GetProperty("notifications").GetArrayLength());

        var every = new[] { CreditService.Descriptor, AttestationService.Descriptor, IncentiveService.Descriptor, AuditService.Descriptor }
            .SelectMany(s => s.Methods).Select(m => $"/{m.Service.FullName}/{m.Name}");
        var called = new[] { "submit", "score", "records", "licence", "verify", "by-holder", "entries", "measures", "header", "blocks", "transaction", "consistency", "verify-chain", "access-log", "reports", "notifications" }
            .Select(name => Method(name));
        Assert.Equal(every.Order(StringComparer.Ordinal), called.Order(StringComparer.Ordinal));

        string Method(string name) => name switch
        {
            "submit" => Credit("CreditService/SubmitTransaction"),
            "score" => Credit("CreditService/GetTrustScore"),
            "records" => Credit("CreditService/ListCreditRecords"),
            "licence" => Credit("AttestationService/GetLicence"),
            "verify" => Credit("AttestationService/VerifyLicence"),
            "by-holder" => Credit("AttestationService/ListLicencesByHolder"),
            "entries" => Credit("IncentiveService/ListEntries"),
            "measures" => Credit("IncentiveService/GetApplicableMeasures"),
            "header" => Audit("GetCertifiedHeader"),
            "blocks" => Audit("StreamBlocks"),
            "transaction" => Audit("GetTransaction"),
            "consistency" => Audit("GetConsistencyProof"),
            "verify-chain" => Audit("VerifyChain"),
            "access-log" => Audit("GetAccessLog"),
            "notifications" => Audit("ListLifecycleNotifications"),
            _ => Audit("ListReconciliationReports"),
        };
    }

    [NodeJsInteropFact]
    public async Task Grpc_js_calls_that_are_unsigned_stale_forged_replayed_from_strangers_or_wrong_roles_or_bad_are_refused_precisely_and_log_nothing()
    {
        var identifier = shared.Licence;
        var verify = Credit("AttestationService/VerifyLicence");
        var logBefore = (await Api.AccessLogAsync()).Count;
        var height = Api.Ledger.Node.Head.Height;

        var results = await RunAsync(
            new("unsigned", verify, new { identifier }, "bank", Mode: "unsigned"),
            new("stale", verify, new { identifier }, "bank", Mode: "stale"),
            new("tampered", verify, new { identifier }, "bank", Mode: "tampered"),
            new("wrong-chain", verify, new { identifier }, "bank", Mode: "wrong-chain"),
            new("stranger", verify, new { identifier }, "stranger"),
            new("replay", Credit("IncentiveService/ListEntries"), new { subject = "uscc:91110000MA0000008A" }, "bank", Mode: "replay"),
            new("publisher-verifies", verify, new { identifier }, "credit-office"),
            new("bureau-lists-licences", Credit("AttestationService/ListLicencesByHolder"), new { holder = ApiNode.Holder }, "bureau"),
            new("bank-lists-records", Credit("CreditService/ListCreditRecords"), new { subject = ApiNode.Holder }, "bank"),
            new("bank-reads-log", Audit("GetAccessLog"), new { }, "bank"),
            new("bank-streams", Audit("StreamBlocks"), new { from_height = 1, to_height = 1 }, "bank"),
            new("bank-verifies-chain", Audit("VerifyChain"), new { from_height = 1 }, "bank"),
            new("other-region", Credit("IncentiveService/GetApplicableMeasures"), new { subject = ApiNode.Holder, region = "BJ" }, "regulator-tj"),
            new("bad-subject", Credit("CreditService/GetTrustScore"), new { subject = "uscc:nonsense" }, "bureau"),
            new("bad-identifier", verify, new { identifier = "1.2.156.3005.2.nonsense" }, "bank"),
            new("bad-transaction", Credit("CreditService/SubmitTransaction"), new { transaction = Convert.ToBase64String([1, 2, 3]) }, "bank"),
            new("backwards-stream", Audit("StreamBlocks"), new { from_height = 2, to_height = 1 }, "regulator"),
            new("backwards-consistency", Audit("GetConsistencyProof"), new { from_height = 3, to_height = 1 }, "regulator"),
            new("unknown-licence", Credit("AttestationService/GetLicence"), new { identifier = Api.LicenceId("9999999") }, "bank"),
            new("unknown-transaction", Audit("GetTransaction"), new { transaction_id = Keccak256.Hash("never"u8).ToString() }, "regulator"),
            new("unknown-height", Audit("GetCertifiedHeader"), new { height = 99 }, "bank"),
            new("page-too-large", Credit("AttestationService/ListLicencesByHolder"), new { holder = ApiNode.Holder, page_size = 501 }, "bank"));

        Assert.Equal(("UNAUTHENTICATED", "MissingCredentials"), Refusal(results["unsigned"]));
        Assert.Equal(("UNAUTHENTICATED", "StaleRequest"), Refusal(results["stale"]));
        Assert.Equal(("UNAUTHENTICATED", "BadSignature"), Refusal(results["tampered"]));
        Assert.Equal(("UNAUTHENTICATED", "BadSignature"), Refusal(results["wrong-chain"]));
        Assert.Equal(("UNAUTHENTICATED", "UnknownMember"), Refusal(results["stranger"]));
        Assert.Equal(("OK", null), Refusal(results["replay"]));
        Assert.Equal(("UNAUTHENTICATED", "ReplayedRequest"), Refusal(results["replay"].GetProperty("replay")));
        foreach (var denied in new[] { "publisher-verifies", "bureau-lists-licences", "bank-lists-records", "bank-reads-log", "bank-streams", "bank-verifies-chain" })
        {
            Assert.True(Refusal(results[denied]) == ("PERMISSION_DENIED", "MissingRole"), $"{denied}: {results[denied]}");
        }

        Assert.Empty(results["bank-streams"].GetProperty("replies").EnumerateArray());
        Assert.Equal(("PERMISSION_DENIED", "RegionMismatch"), Refusal(results["other-region"]));
        foreach (var (name, field) in new[] { ("bad-subject", "subject"), ("bad-identifier", "identifier"), ("backwards-stream", "to_height"), ("backwards-consistency", "from_height") })
        {
            Assert.True(Refusal(results[name]) == ("INVALID_ARGUMENT", "InvalidRequest"), $"{name}: {results[name]}");
            Assert.Contains(field, results[name].GetProperty("details").GetString(), StringComparison.Ordinal);
        }

        Assert.Empty(results["backwards-stream"].GetProperty("replies").EnumerateArray());
        Assert.Equal("INVALID_ARGUMENT", Refusal(results["bad-transaction"]).Code);
        Assert.Equal(("NOT_FOUND", "UnknownLicence"), Refusal(results["unknown-licence"]));
        Assert.Equal(("NOT_FOUND", "UnknownTransaction"), Refusal(results["unknown-transaction"]));
        Assert.Equal(("NOT_FOUND", "UnknownHeight"), Refusal(results["unknown-height"]));
        Assert.Equal(("RESOURCE_EXHAUSTED", "PageTooLarge"), Refusal(results["page-too-large"]));

        // Only the first of the replayed pair was answered (a subject never listed: an empty answer, still logged).
        var added = (await Api.AccessLogAsync()).Skip(logBefore).ToList();
        var logged = Assert.Single(added);
        Assert.StartsWith("/smartcity.credit.v1.IncentiveService/ListEntries;", logged.Request.Method, StringComparison.Ordinal);
        Assert.Equal(height, Api.Ledger.Node.Head.Height);
    }

    /// <summary>One call of a plan: the member is a key of <see cref="Members"/> or <c>stranger</c> (no member).</summary>
    private sealed record NodeCall(string Name, string Method, object Request, string Member, string Purpose = "CREDIT_CHECK", string Mode = "signed", int Count = 0);

    /// <summary>
    /// The node host the class shares, with its data written once: a licence of the holder, a penalty, a black-list
    /// entry (three blocks).
    /// </summary>
    public sealed class SharedNode : IAsyncLifetime
    {
        public ApiNode Api { get; } = new();

        public string Licence { get; private set; } = "";

        public string PenaltyId { get; private set; } = "";

        public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("smartcity-node-plan-").FullName;

        public async Task InitializeAsync()
        {
            if (NodeJsInteropClient.Credit.SkipReason is not null)
            {
                return;
            }

            await Api.InitializeAsync();
            Licence = await Api.IssueLicenceAsync("2430599");
            PenaltyId = (await Api.PenaliseAsync("late filing")).TransactionId;
            await Api.CommitAsync(new ListEntryAdd(Keccak256.Hash("entry"u8), ApiNode.Holder, LedgerListColour.Black, "court-defaulter", "art. 1", "120101", LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(-1)), 0));
        }

        public async Task DisposeAsync()
        {
            if (NodeJsInteropClient.Credit.SkipReason is null)
            {
                await Api.DisposeAsync();
            }

            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
