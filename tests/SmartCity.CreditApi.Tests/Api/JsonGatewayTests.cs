using System.Globalization;
using System.Net;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using SmartCity.Contracts.Audit.V1;
using SmartCity.Contracts.Credit.V1;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Testing;
using LedgerListColour = SmartCity.Ledger.Domain.Transactions.ListColour;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// Every method of the four credit-API services through the JSON gateway with a plain <see cref="HttpClient"/>, on
/// the gRPC listener (HTTP/2 with prior knowledge) and on the HTTP/1.1 listener (<c>httpListen</c>): requests built
/// from the <c>google.api.http</c> rules, signed over the protobuf message the gateway rebuilds, answers checked
/// (receipts verified offline, the score equal to the gRPC answer, the streams' messages the committed blocks), and
/// refusals mapped to the HTTP status of their gRPC status with a <c>google.rpc.Status</c> body.
/// </summary>
public sealed class JsonGatewayTests(JsonGatewayTests.SharedNode shared) : IClassFixture<JsonGatewayTests.SharedNode>
{
    private ApiNode Api => shared.Api;

    public static TheoryData<string> Versions => new() { "2.0", "1.1" };

    private Uri AddressFor(Version version) => version == HttpVersion.Version20 ? Api.Host.Address : Api.HttpAddress;

    private static readonly ServiceDescriptor[] Services = [CreditService.Descriptor, AttestationService.Descriptor, IncentiveService.Descriptor, AuditService.Descriptor];

    /// <summary>A method by <c>Service/Method</c>, e.g. <c>CreditService/GetTrustScore</c>.</summary>
    private static MethodDescriptor Method(string name)
        => Services.Single(s => s.Name == name.Split('/')[0]).FindMethodByName(name.Split('/')[1]);

    private async Task<GatewayAnswer> CallAsync(string version, MethodDescriptor method, IMessage request, int member, string purpose = "CREDIT_CHECK", Func<IMessage, IMessage>? sendInstead = null)
    {
        var v = Version.Parse(version);
        var (verb, path, body) = JsonGateway.ToHttp(method, sendInstead?.Invoke(request) ?? request);
        return await JsonGateway.SendAsync(AddressFor(v), v, verb, path, body, JsonGateway.Headers(Api.Key(member), Api.Genesis.ChainId, method, request, purpose));
    }

    private static JsonElement Ok(GatewayAnswer answer, string method, Version version)
    {
        Assert.True(answer.Status == HttpStatusCode.OK, $"{method}: {answer}");
        Assert.Equal(version, answer.Version);
        Assert.Equal("application/json", answer.ContentType);
        return answer.Json;
    }

    private static long Long(JsonElement element) => long.Parse(element.GetString()!, CultureInfo.InvariantCulture);

    private ReceiptOutcome Verify(JsonElement receiptJson)
        => ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(receiptJson.GetString()!), TrustAnchor.FromGenesis(Api.Genesis), Secp256k1.Default).Outcome;

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task A_plain_http_client_calls_every_method_of_the_four_services_as_json_and_gets_verifiable_answers(string version)
    {
        var v = Version.Parse(version);
        var identifier = shared.Licence;
        var transaction = Api.Sign(ApiNode.PenaltyBody($"submitted as json {Guid.NewGuid()}"));
        var logBefore = (await Api.AccessLogAsync()).Count;
        var called = new List<MethodDescriptor>();

        async Task<JsonElement> Json(MethodDescriptor method, IMessage request, int member, string purpose = "CREDIT_CHECK")
        {
            called.Add(method);
            var answer = await CallAsync(version, method, request, member, purpose);
            if (!method.IsServerStreaming)
            {
                return Ok(answer, method.FullName, v);
            }

            Assert.True(answer.Status == HttpStatusCode.OK, $"{method.FullName}: {answer}");
            return JsonSerializer.SerializeToElement(answer.Messages);
        }

        var submitted = await Json(Method("CreditService/SubmitTransaction"), new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(TransactionCodec.Encode(transaction)), WaitForCommit = true }, ApiNode.TianjinRegulator, "SUBMISSION");
        Assert.Equal("TRANSACTION_STATUS_COMMITTED", submitted.GetProperty("status").GetString());
        Assert.Equal(ReceiptOutcome.Valid, Verify(submitted.GetProperty("receiptJson")));
        var head = Api.Ledger.Node.Head;

        var score = await Json(Method("CreditService/GetTrustScore"), new GetTrustScoreRequest { Subject = ApiNode.Holder }, ApiNode.Bureau);
        var expected = await Api.Client(ApiNode.Bureau).Credit.GetTrustScoreAsync(new GetTrustScoreRequest { Subject = ApiNode.Holder });
        Assert.Equal((expected.Score, expected.Band, expected.HeaderHash, expected.AnswerJson), (score.GetProperty("score").GetInt32(), score.GetProperty("band").GetString(), score.GetProperty("headerHash").GetString(), score.GetProperty("answerJson").GetString()));
        var past = await Json(Method("CreditService/GetTrustScore"), new GetTrustScoreRequest { Subject = ApiNode.Holder, Height = 1 }, ApiNode.Bureau);
        Assert.Equal(1L, Long(past.GetProperty("height")));

        var records = await Json(Method("CreditService/ListCreditRecords"), new ListCreditRecordsRequest { Subject = ApiNode.Holder, PageSize = 1, Category = Contracts.Credit.V1.RecordCategory.AdministrativePenalty }, ApiNode.Bureau);
        Assert.Single(records.GetProperty("records").EnumerateArray());
        var next = await Json(Method("CreditService/ListCreditRecords"), new ListCreditRecordsRequest { Subject = ApiNode.Holder, PageSize = 1, Category = Contracts.Credit.V1.RecordCategory.AdministrativePenalty, PageToken = records.GetProperty("nextPageToken").GetString() }, ApiNode.Bureau);
        Assert.NotEqual(records.GetProperty("records")[0].GetProperty("recordId").GetString(), next.GetProperty("records")[0].GetProperty("recordId").GetString());

        Assert.Equal(ApiNode.Holder, (await Json(Method("AttestationService/GetLicence"), new GetLicenceRequest { Identifier = identifier }, ApiNode.Bank)).GetProperty("licence").GetProperty("holder").GetString());
        var verified = await Json(Method("AttestationService/VerifyLicence"), new VerifyLicenceRequest { Identifier = identifier, ExpectedHolder = ApiNode.Holder }, ApiNode.Bank, "LOAN_REVIEW");
        Assert.True(verified.GetProperty("holderMatches").GetBoolean());
        Assert.Equal(ReceiptOutcome.Valid, Verify(verified.GetProperty("receiptJson")));
        var byHolder = await Json(Method("AttestationService/ListLicencesByHolder"), new ListLicencesByHolderRequest { Holder = ApiNode.Holder, PageSize = 10 }, ApiNode.Bank);
        Assert.Equal([identifier], byHolder.GetProperty("licences").EnumerateArray().Select(l => l.GetProperty("identifier").GetString()));

        var entries = await Json(Method("IncentiveService/ListEntries"), new ListEntriesRequest { Subject = ApiNode.Holder }, ApiNode.Bank);
        Assert.Equal("LIST_COLOUR_BLACK", Assert.Single(entries.GetProperty("entries").EnumerateArray()).GetProperty("colour").GetString());
        var measures = await Json(Method("IncentiveService/GetApplicableMeasures"), new GetApplicableMeasuresRequest { Subject = ApiNode.Holder, Region = "TJ" }, ApiNode.TianjinRegulator);
        Assert.Equal("TJ", measures.GetProperty("region").GetString());

        var header = await Json(Method("AuditService/GetCertifiedHeader"), new GetCertifiedHeaderRequest { Latest = true }, ApiNode.Bank);
        Assert.Equal(head.Header.Encode(), Convert.FromBase64String(header.GetProperty("header").GetString()!));
        var first = await Json(Method("AuditService/GetCertifiedHeader"), new GetCertifiedHeaderRequest { Height = 1 }, ApiNode.Bank);
        Assert.Equal((await Api.Ledger.Node.GetBlockEventAsync(1, CancellationToken.None)).Certificate.Encode(), Convert.FromBase64String(first.GetProperty("certificate").GetString()!));

        // A server stream over JSON is a sequence of JSON objects, each written as the node sends it.
        var blocks = await Json(Method("AuditService/StreamBlocks"), new StreamBlocksRequest { FromHeight = 1, ToHeight = 3 }, ApiNode.Regulator, "SUPERVISION");
        Assert.Equal([1L, 2L, 3L], blocks.EnumerateArray().Select(b => Long(b.GetProperty("height"))));
        foreach (var block in blocks.EnumerateArray())
        {
            var committed = await Api.Ledger.Node.GetBlockEventAsync(Long(block.GetProperty("height")), CancellationToken.None);
            Assert.Equal(committed.Header.Hash.ToString(), block.GetProperty("headerHash").GetString());
        }

        var fetched = await Json(Method("AuditService/GetTransaction"), new Contracts.Audit.V1.GetTransactionRequest { TransactionId = shared.PenaltyId }, ApiNode.Regulator, "SUPERVISION");
        Assert.Equal(ReceiptOutcome.Valid, Verify(fetched.GetProperty("receiptJson")));
        var consistency = await Json(Method("AuditService/GetConsistencyProof"), new GetConsistencyProofRequest { FromHeight = 1, ToHeight = 3 }, ApiNode.Bank, "SUPERVISION");
        Assert.Equal(ReceiptOutcome.Valid, Verify(consistency.GetProperty("receiptJson")));
        var verdicts = await Json(Method("AuditService/VerifyChain"), new VerifyChainRequest { FromHeight = 1, ToHeight = head.Height }, ApiNode.Regulator, "SUPERVISION");
        Assert.Equal(Enumerable.Range(1, (int)head.Height).Select(h => (long)h), verdicts.EnumerateArray().Select(b => Long(b.GetProperty("height"))));
        Assert.All(verdicts.EnumerateArray(), verdict => Assert.Equal("BLOCK_VERDICT_VALID", verdict.GetProperty("verdict").GetString()));

        var log = await Json(Method("AuditService/GetAccessLog"), new GetAccessLogRequest { FromSequence = logBefore, Requester = Api.AddressOf(ApiNode.Bank).ToString(), MatchingOnly = true }, ApiNode.Regulator, "SUPERVISION");
        Assert.True(log.GetProperty("chainIntact").GetBoolean());
        Assert.Equal(
            ["GetLicence", "VerifyLicence", "ListLicencesByHolder", "ListEntries"],
            log.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("method").GetString()!.Split(';')[0].Split('/')[^1]));
        var reports = await Json(Method("AuditService/ListReconciliationReports"), new ListReconciliationReportsRequest { Limit = 10 }, ApiNode.Regulator, "SUPERVISION");
        Assert.Equal((await Api.Ledger.JobState.ListReportsAsync(0, 10, CancellationToken.None)).Count, reports.TryGetProperty("reports", out var listed) ? listed.GetArrayLength() : 0);
        var notifications = await Json(Method("AuditService/ListLifecycleNotifications"), new ListLifecycleNotificationsRequest { Limit = 10 }, ApiNode.Regulator, "SUPERVISION");
        Assert.Equal((await Api.Ledger.JobState.ListNotificationsAsync(0, 10, designator: null, CancellationToken.None)).Count, notifications.TryGetProperty("notifications", out var noted) ? noted.GetArrayLength() : 0);

        var every = new[] { CreditService.Descriptor, AttestationService.Descriptor, IncentiveService.Descriptor, AuditService.Descriptor }.SelectMany(s => s.Methods).Select(m => m.FullName);
        Assert.Equal(every.Order(StringComparer.Ordinal), called.Select(m => m.FullName).Distinct().Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Json_refusals_carry_the_http_status_of_their_grpc_status_and_a_status_body_and_change_nothing(string version)
    {
        var v = Version.Parse(version);
        var identifier = shared.Licence;
        var logBefore = (await Api.AccessLogAsync()).Count;
        var height = Api.Ledger.Node.Head.Height;
        var verify = Method("AttestationService/VerifyLicence");
        var verifyRequest = new VerifyLicenceRequest { Identifier = identifier };
        var (verb, path, body) = JsonGateway.ToHttp(verify, verifyRequest);
        var signed = JsonGateway.Headers(Api.Key(ApiNode.Bank), Api.Genesis.ChainId, verify, verifyRequest, "LOAN_REVIEW");

        var unsigned = await JsonGateway.SendAsync(AddressFor(v), v, verb, path, body, []);
        var stale = await JsonGateway.SendAsync(AddressFor(v), v, verb, path, body, JsonGateway.Headers(Api.Key(ApiNode.Bank), Api.Genesis.ChainId, verify, verifyRequest, "LOAN_REVIEW", DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeMilliseconds()));
        var tampered = await CallAsync(version, verify, verifyRequest, ApiNode.Bank, sendInstead: r => new VerifyLicenceRequest { Identifier = identifier, ExpectedHolder = "uscc:91110000MA0000008A" });
        var once = await JsonGateway.SendAsync(AddressFor(v), v, verb, path, body, signed);
        var replayed = await JsonGateway.SendAsync(AddressFor(v), v, verb, path, body, signed);
        var wrongRole = await CallAsync(version, Method("AuditService/GetAccessLog"), new GetAccessLogRequest(), ApiNode.Bank);
        var otherRegion = await CallAsync(version, Method("IncentiveService/GetApplicableMeasures"), new GetApplicableMeasuresRequest { Subject = ApiNode.Holder, Region = "BJ" }, ApiNode.TianjinRegulator);
        var badSubject = await CallAsync(version, Method("CreditService/GetTrustScore"), new GetTrustScoreRequest { Subject = "uscc:nonsense" }, ApiNode.Bureau);
        var backwards = await CallAsync(version, Method("AuditService/StreamBlocks"), new StreamBlocksRequest { FromHeight = 2, ToHeight = 1 }, ApiNode.Regulator);
        var unknownLicence = await CallAsync(version, Method("AttestationService/GetLicence"), new GetLicenceRequest { Identifier = Api.LicenceId("9999999") }, ApiNode.Bank);
        var unknownTransaction = await CallAsync(version, Method("AuditService/GetTransaction"), new Contracts.Audit.V1.GetTransactionRequest { TransactionId = Keccak256.Hash("never"u8).ToString() }, ApiNode.Regulator);
        var aboveHead = await CallAsync(version, Method("CreditService/GetTrustScore"), new GetTrustScoreRequest { Subject = ApiNode.Holder, Height = 99 }, ApiNode.Bureau);
        var pageTooLarge = await CallAsync(version, Method("CreditService/ListCreditRecords"), new ListCreditRecordsRequest { Subject = ApiNode.Holder, PageSize = 501 }, ApiNode.Bureau);
        var resubmitted = await CallAsync(version, Method("CreditService/SubmitTransaction"), new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(shared.PenaltyBytes) }, ApiNode.Bank);

        var expected = new (string Name, GatewayAnswer Answer, HttpStatusCode Http, global::Grpc.Core.StatusCode Grpc, string? Reason)[]
        {
            ("unsigned", unsigned, HttpStatusCode.Unauthorized, global::Grpc.Core.StatusCode.Unauthenticated, "MISSING_CREDENTIALS"),
            ("stale", stale, HttpStatusCode.Unauthorized, global::Grpc.Core.StatusCode.Unauthenticated, "STALE_REQUEST"),
            ("tampered", tampered, HttpStatusCode.Unauthorized, global::Grpc.Core.StatusCode.Unauthenticated, "BAD_SIGNATURE"),
            ("replayed", replayed, HttpStatusCode.Unauthorized, global::Grpc.Core.StatusCode.Unauthenticated, "REPLAYED_REQUEST"),
            ("wrong role", wrongRole, HttpStatusCode.Forbidden, global::Grpc.Core.StatusCode.PermissionDenied, "MISSING_ROLE"),
            ("other region", otherRegion, HttpStatusCode.Forbidden, global::Grpc.Core.StatusCode.PermissionDenied, "REGION_MISMATCH"),
            ("bad subject", badSubject, HttpStatusCode.BadRequest, global::Grpc.Core.StatusCode.InvalidArgument, "INVALID_REQUEST"),
            ("backwards stream", backwards, HttpStatusCode.BadRequest, global::Grpc.Core.StatusCode.InvalidArgument, "INVALID_REQUEST"),
            ("unknown licence", unknownLicence, HttpStatusCode.NotFound, global::Grpc.Core.StatusCode.NotFound, "UNKNOWN_LICENCE"),
            ("unknown transaction", unknownTransaction, HttpStatusCode.NotFound, global::Grpc.Core.StatusCode.NotFound, "UNKNOWN_TRANSACTION"),
            ("above the head", aboveHead, HttpStatusCode.NotFound, global::Grpc.Core.StatusCode.NotFound, "UNKNOWN_HEIGHT"),
            ("page too large", pageTooLarge, HttpStatusCode.TooManyRequests, global::Grpc.Core.StatusCode.ResourceExhausted, "PAGE_TOO_LARGE"),
            ("resubmitted", resubmitted, HttpStatusCode.BadRequest, global::Grpc.Core.StatusCode.FailedPrecondition, "NONCE_REUSED"),
        };
        Assert.Equal(HttpStatusCode.OK, once.Status);
        foreach (var (name, answer, http, grpc, reason) in expected)
        {
            Assert.True(answer.Status == http, $"{name}: {answer}");
            Assert.Equal(v, answer.Version);
            Assert.True(answer.Refusal == ((int)grpc, reason), $"{name}: {answer}");
        }

        Assert.Contains("subject", badSubject.Json.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("to_height", backwards.Json.GetProperty("message").GetString(), StringComparison.Ordinal);
        var added = (await Api.AccessLogAsync()).Skip(logBefore).ToList();
        Assert.Equal("/smartcity.credit.v1.AttestationService/VerifyLicence", Assert.Single(added).Request.Method.Split(';')[0]);
        Assert.Equal(height, Api.Ledger.Node.Head.Height);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task An_open_ended_block_stream_over_json_delivers_each_block_as_it_is_written_until_the_client_hangs_up(string version)
    {
        var v = Version.Parse(version);
        var method = Method("AuditService/StreamBlocks");
        var request = new StreamBlocksRequest { FromHeight = 1 };
        var (verb, path, _) = JsonGateway.ToHttp(method, request);
        using var http = new HttpClient { BaseAddress = AddressFor(v), Timeout = Timeout.InfiniteTimeSpan };
        using var message = new HttpRequestMessage(verb, path) { Version = v, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        foreach (var header in JsonGateway.Headers(Api.Key(ApiNode.Regulator), Api.Genesis.ChainId, method, request, "SUPERVISION"))
        {
            message.Headers.Add(header.Key, header.Value);
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var answer = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        await using var body = await answer.Content.ReadAsStreamAsync(deadline.Token);

        // The stream never ends by itself (to_height 0 follows the chain): the blocks already committed arrive while the
        // response is still open, then a block committed now arrives too; the client then hangs up.
        var text = new System.Text.StringBuilder();
        var buffer = new byte[4096];
        var head = Api.Ledger.Node.Head.Height;
        async Task<int> ReadUntilAsync(long height)
        {
            while (true)
            {
                var complete = text.ToString();
                complete = complete[..(complete.LastIndexOf('}') + 1)];
                var heights = GatewayAnswer.Sequence(complete).Select(m => Long(m.GetProperty("height"))).ToList();
                if (heights.Count > 0 && heights[^1] >= height)
                {
                    Assert.Equal(Enumerable.Range(1, (int)height).Select(h => (long)h), heights);
                    return heights.Count;
                }

                var read = await body.ReadAsync(buffer, deadline.Token);
                Assert.True(read > 0, $"the stream ended: {text}");
                text.Append(System.Text.Encoding.UTF8.GetString(buffer, 0, read));
            }
        }

        Assert.Equal((int)head, await ReadUntilAsync(head));
        await Api.PenaliseAsync($"live over json {Guid.NewGuid()}");
        Assert.Equal((int)head + 1, await ReadUntilAsync(head + 1));
    }

    [Fact]
    public async Task Every_example_of_the_readme_api_reference_is_answered_over_grpc_and_json_and_both_forms_are_the_same_request()
    {
        var readme = RepositoryFiles.Read("README.md");
        var start = readme.IndexOf("### API reference: one example per call", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no API reference");
        var block = readme[readme.IndexOf("```sh\n", start, StringComparison.Ordinal)..];
        var lines = block[..block.IndexOf("\n```\n", StringComparison.Ordinal)].Split('\n').Skip(1).ToList();
        var grpcurl = new System.Text.RegularExpressions.Regex(@"^grpcurl -plaintext \$AUTH -d '(?<json>[^']*)' \$NODE (?<service>[\w.]+)/(?<method>\w+)$");
        var curl = new System.Text.RegularExpressions.Regex(@"^curl (-N )?\$AUTH (-X (?<verb>POST) -H 'content-type: application/json' -d '(?<body>[^']*)' )?""\$HTTP(?<path>[^""]+)""$");
        Assert.Equal(Api.LicenceId("2430599"), System.Text.RegularExpressions.Regex.Match(readme[start..], @"1\.2\.156\.3005\.2\.[0-9A-Z.]+\.T").Value);
        var transactions = 0;
        // A fresh transaction (the next nonce) only where the text holds one: a nonce signed but never sent would leave a gap.
        string Substitute(string text, bool sameForBoth) => (!text.Contains("<transaction base64>", StringComparison.Ordinal) ? text : text
            .Replace("<transaction base64>", sameForBoth ? "AQID" : Convert.ToBase64String(TransactionCodec.Encode(Api.Sign(ApiNode.PenaltyBody($"readme example {++transactions} {Guid.NewGuid()}")))), StringComparison.Ordinal))
            .Replace("<transaction id>", shared.PenaltyId, StringComparison.Ordinal)
            .Replace("<bank address>", Api.AddressOf(ApiNode.Bank).ToString(), StringComparison.Ordinal);
        var covered = new List<string>();

        for (var i = 0; i < lines.Count; i += 3)
        {
            var name = lines[i].TrimStart('#', ' ');
            var g = grpcurl.Match(lines[i + 1]);
            var c = curl.Match(lines[i + 2]);
            Assert.True(g.Success && c.Success, $"README example of {name} is not in the form the test reads: {lines[i + 1]} / {lines[i + 2]}");
            var method = Method(name);
            Assert.Equal(method.Service.FullName, g.Groups["service"].Value);
            Assert.Equal(method.Name, g.Groups["method"].Value);
            covered.Add(name);

            // Both forms name the same request message.
            var grpcMessage = JsonParser.Default.Parse(Substitute(g.Groups["json"].Value, true), method.InputType);
            var verb = c.Groups["verb"].Success ? HttpMethod.Post : HttpMethod.Get;
            var body = c.Groups["body"].Success ? c.Groups["body"].Value : null;
            Assert.Equal(JsonGateway.Route(method).Verb, verb);
            Assert.Equal(grpcMessage, JsonGateway.MessageOf(method, Substitute(c.Groups["path"].Value, true), body is null ? null : Substitute(body, true)));

            // The gRPC form over HTTP/2 and the JSON form over HTTP/1.1, each signed by a member allowed to call it.
            var member = new[] { ApiNode.Bank, ApiNode.Bureau, ApiNode.Regulator, ApiNode.TianjinRegulator }.First(m => SmartCity.CreditApi.Services.Api.ApiRoles.Allows($"/{method.Service.FullName}/{method.Name}", Api.Genesis.Members[m].Roles));
            var sent = JsonParser.Default.Parse(Substitute(g.Groups["json"].Value, false), method.InputType);
            var replies = await GrpcAsync(method, sent, member);
            Assert.NotEmpty(replies);
            var path = Substitute(c.Groups["path"].Value, false);
            body = body is null ? null : Substitute(body, false);
            var answer = await JsonGateway.SendAsync(Api.HttpAddress, HttpVersion.Version11, verb, path, body, JsonGateway.Headers(Api.Key(member), Api.Genesis.ChainId, method, JsonGateway.MessageOf(method, path, body), "CREDIT_CHECK"));
            Assert.True(answer.Status == HttpStatusCode.OK, $"{name}: {answer}");
            Assert.Equal(replies.Count, answer.Messages.Count);
            Assert.All(answer.Messages, m => Assert.Equal(JsonValueKind.Object, m.ValueKind));
        }

        Assert.Equal(Services.SelectMany(s => s.Methods).Select(m => $"{m.Service.Name}/{m.Name}").Order(StringComparer.Ordinal), covered.Order(StringComparer.Ordinal));
    }

    /// <summary>One call by its descriptor over gRPC (HTTP/2), signed by <paramref name="member"/>: the reply, or every message of a stream.</summary>
    private async Task<List<IMessage>> GrpcAsync(MethodDescriptor method, IMessage request, int member)
    {
        var requests = global::Grpc.Core.Marshallers.Create<IMessage>(m => m.ToByteArray(), b => method.InputType.Parser.ParseFrom(b));
        var responses = global::Grpc.Core.Marshallers.Create<IMessage>(m => m.ToByteArray(), b => method.OutputType.Parser.ParseFrom(b));
        var call = new global::Grpc.Core.Method<IMessage, IMessage>(method.IsServerStreaming ? global::Grpc.Core.MethodType.ServerStreaming : global::Grpc.Core.MethodType.Unary, method.Service.FullName, method.Name, requests, responses);
        var headers = new global::Grpc.Core.Metadata();
        foreach (var header in JsonGateway.Headers(Api.Key(member), Api.Genesis.ChainId, method, request, "CREDIT_CHECK"))
        {
            headers.Add(header.Key, header.Value);
        }

        var options = new global::Grpc.Core.CallOptions(headers, DateTime.UtcNow.AddSeconds(60));
        if (!method.IsServerStreaming)
        {
            try
            {
                return [await Api.Unsigned.AsyncUnaryCall(call, null, options, request)];
            }
            catch (global::Grpc.Core.RpcException error)
            {
                throw new InvalidOperationException($"{method.FullName}: {error.Status}", error);
            }
        }

        using var stream = Api.Unsigned.AsyncServerStreamingCall(call, null, options, request);
        var all = new List<IMessage>();
        while (await stream.ResponseStream.MoveNext(CancellationToken.None))
        {
            all.Add(stream.ResponseStream.Current);
        }

        return all;
    }

    /// <summary>The node host the class shares (both listeners), with a licence, a penalty and a black-list entry.</summary>
    public sealed class SharedNode : IAsyncLifetime
    {
        public ApiNode Api { get; } = new(httpListener: true);

        public string Licence { get; private set; } = "";

        public string PenaltyId { get; private set; } = "";

        public byte[] PenaltyBytes { get; private set; } = [];

        public async Task InitializeAsync()
        {
            await Api.InitializeAsync();
            Licence = await Api.IssueLicenceAsync("2430599");
            var penalty = Api.Sign(ApiNode.PenaltyBody("late filing"));
            PenaltyBytes = TransactionCodec.Encode(penalty);
            var committed = await Api.Host.Client.SubmitTransactionAsync(new Contracts.Node.V1.SubmitTransactionRequest { Transaction = ByteString.CopyFrom(PenaltyBytes), WaitForCommit = true });
            PenaltyId = committed.TransactionId;
            await Api.CommitAsync(new ListEntryAdd(Keccak256.Hash("entry"u8), ApiNode.Holder, LedgerListColour.Black, "court-defaulter", "art. 1", "120101", LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(-1)), 0));
        }

        public Task DisposeAsync() => Api.DisposeAsync();
    }
}
