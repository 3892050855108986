using System.Globalization;
using System.Text.Json;
using SmartCity.Contracts.Audit.V1;
using SmartCity.Contracts.Credit.V1;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Testing;
using LedgerListColour = SmartCity.Ledger.Domain.Transactions.ListColour;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// The credit API against Python grpcio, with messages from stubs generated from the committed .proto files and every
/// request signed by tests/interop/python/credit_client.py from the byte layout in docs/api.md (Keccak-256 from
/// pycryptodome, secp256k1 from python-ecdsa): every method of the four services answered, and the error paths.
/// </summary>
public sealed class PythonCreditApiInteropTests : IAsyncLifetime
{
    private readonly ApiNode _api = new();

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    private Task<JsonElement> CallAsync(string method, object request, int member, params string[] extra)
        => PythonCreditClient.Instance.RunAsync(_api.Target, "call", [
            "--method", method,
            "--request", JsonSerializer.Serialize(request),
            "--keystore", _api.KeystoreOf(member).Keystore,
            "--password-file", _api.KeystoreOf(member).PasswordFile,
            "--chain-id", _api.Genesis.ChainId.ToString(CultureInfo.InvariantCulture),
            .. extra]);

    private static string Credit(string method) => $"/smartcity.credit.v1.{method}";

    private static string Audit(string method) => $"/smartcity.audit.v1.AuditService/{method}";

    private static void AssertOk(JsonElement result, string method)
        => Assert.True(result.GetProperty("code").GetString() == "OK", $"{method}: {result}");

    private static (string Code, string? Rejection) Refusal(JsonElement result)
        => (result.GetProperty("code").GetString()!, result.TryGetProperty("rejection_code", out var code) ? code.GetString() : null);

    [PythonCreditInteropFact]
    public async Task Grpcio_with_requests_signed_in_python_calls_every_method_of_the_four_services()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        await _api.PenaliseAsync("late filing");
        await _api.CommitAsync(new ListEntryAdd(Keccak256.Hash("entry"u8), ApiNode.Holder, LedgerListColour.Black, "court-defaulter", "art. 1", "120101", LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(-1)), 0));
        var transaction = _api.Sign(ApiNode.PenaltyBody("submitted from python"));
        var called = new List<string>();

        async Task<JsonElement> Ok(string method, object request, int member)
        {
            var result = await CallAsync(method, request, member);
            AssertOk(result, method);
            called.Add(method);
            return result;
        }

        var submitted = await Ok(Credit("CreditService/SubmitTransaction"), new { transaction = Convert.ToBase64String(TransactionCodec.Encode(transaction)), wait_for_commit = true }, ApiNode.TianjinRegulator);
        Assert.Equal("TRANSACTION_STATUS_COMMITTED", submitted.GetProperty("reply").GetProperty("status").GetString());
        var transactionId = submitted.GetProperty("reply").GetProperty("transaction_id").GetString()!;
        var score = await Ok(Credit("CreditService/GetTrustScore"), new { subject = ApiNode.Holder }, ApiNode.Bureau);
        Assert.Contains(Keccak256.Hash("late filing"u8).ToString(), score.GetProperty("reply").GetProperty("answer_json").GetString()!, StringComparison.OrdinalIgnoreCase);
        var records = await Ok(Credit("CreditService/ListCreditRecords"), new { subject = ApiNode.Holder }, ApiNode.Bureau);
        Assert.Equal(2, records.GetProperty("reply").GetProperty("records").GetArrayLength());
        var licence = await Ok(Credit("AttestationService/GetLicence"), new { identifier }, ApiNode.Bank);
        Assert.Equal(ApiNode.Holder, licence.GetProperty("reply").GetProperty("licence").GetProperty("holder").GetString());
        var verified = await Ok(Credit("AttestationService/VerifyLicence"), new { identifier, expected_holder = ApiNode.Holder }, ApiNode.Bank);
        Assert.True(verified.GetProperty("reply").GetProperty("holder_matches").GetBoolean());
        var report = ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(verified.GetProperty("reply").GetProperty("receipt_json").GetString()!), TrustAnchor.FromGenesis(_api.Genesis), Secp256k1.Default);
        Assert.Equal(ReceiptOutcome.Valid, report.Outcome);
        var byHolder = await Ok(Credit("AttestationService/ListLicencesByHolder"), new { holder = ApiNode.Holder }, ApiNode.Bank);
        Assert.Equal(identifier, byHolder.GetProperty("reply").GetProperty("licences")[0].GetProperty("identifier").GetString());
        var entries = await Ok(Credit("IncentiveService/ListEntries"), new { subject = ApiNode.Holder }, ApiNode.Bank);
        Assert.Equal(1, entries.GetProperty("reply").GetProperty("entries").GetArrayLength());
        var measures = await Ok(Credit("IncentiveService/GetApplicableMeasures"), new { subject = ApiNode.Holder }, ApiNode.TianjinRegulator);
        Assert.Equal("TJ", measures.GetProperty("reply").GetProperty("region").GetString());
        var header = await Ok(Audit("GetCertifiedHeader"), new { latest = true }, ApiNode.Bureau);
        Assert.Equal(_api.Ledger.Node.Head.Header.Hash.ToString(), header.GetProperty("reply").GetProperty("header_hash").GetString());
        var blocks = await Ok(Audit("StreamBlocks"), new { from_height = 1, to_height = 2 }, ApiNode.Regulator);
        Assert.Equal(["1", "2"], blocks.GetProperty("replies").EnumerateArray().Select(b => b.GetProperty("height").GetString()));
        var fetched = await Ok(Audit("GetTransaction"), new { transaction_id = transactionId }, ApiNode.Regulator);
        Assert.Equal(Convert.ToBase64String(TransactionCodec.Encode(transaction)), fetched.GetProperty("reply").GetProperty("transaction").GetString());
        var consistency = await Ok(Audit("GetConsistencyProof"), new { from_height = 1, to_height = 3 }, ApiNode.Bank);
        Assert.Equal(ReceiptOutcome.Valid, ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(consistency.GetProperty("reply").GetProperty("receipt_json").GetString()!), TrustAnchor.FromGenesis(_api.Genesis), Secp256k1.Default).Outcome);
        var chain = await Ok(Audit("VerifyChain"), new { from_height = 1 }, ApiNode.Regulator);
        Assert.All(chain.GetProperty("replies").EnumerateArray(), v => Assert.Equal("BLOCK_VERDICT_VALID", v.GetProperty("verdict").GetString()));
        var log = await Ok(Audit("GetAccessLog"), new { requester = _api.AddressOf(ApiNode.Bank).ToString(), matching_only = true }, ApiNode.Regulator);
        Assert.True(log.GetProperty("reply").GetProperty("chain_intact").GetBoolean());
        Assert.Equal(4, log.GetProperty("reply").GetProperty("entries").GetArrayLength()); // GetLicence, VerifyLicence, ListLicencesByHolder, ListEntries
        var reports = await Ok(Audit("ListReconciliationReports"), new { limit = 10 }, ApiNode.Regulator);
        var stored = await _api.Ledger.JobState.ListReportsAsync(0, 10, CancellationToken.None);
        Assert.Equal(stored.Count, reports.GetProperty("reply").TryGetProperty("reports", out var listed) ? listed.GetArrayLength() : 0);
        var notifications = await Ok(Audit("ListLifecycleNotifications"), new { limit = 10 }, ApiNode.Regulator);
        var noted = await _api.Ledger.JobState.ListNotificationsAsync(0, 10, null, CancellationToken.None);
        Assert.Equal(noted.Count, notifications.GetProperty("reply").TryGetProperty("notifications", out var notes) ? notes.GetArrayLength() : 0);

        var every = new[] { CreditService.Descriptor, AttestationService.Descriptor, IncentiveService.Descriptor, AuditService.Descriptor }
            .SelectMany(s => s.Methods).Select(m => $"/{m.Service.FullName}/{m.Name}");
        Assert.Equal(every.Order(StringComparer.Ordinal), called.Order(StringComparer.Ordinal));
    }

    [PythonCreditInteropFact]
    public async Task Grpcio_calls_that_are_unsigned_stale_tampered_replayed_or_from_a_wrong_role_are_unauthenticated_or_denied()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        var verify = Credit("AttestationService/VerifyLicence");
        var request = new { identifier };

        var unsigned = await CallAsync(verify, request, ApiNode.Bank, "--unsigned");
        var stale = await CallAsync(verify, request, ApiNode.Bank, "--stale");
        var tampered = await CallAsync(verify, request, ApiNode.Bank, "--tampered");
        var replayed = await CallAsync(verify, request, ApiNode.Bank, "--replay");
        var publisher = await CallAsync(verify, request, ApiNode.CreditOffice);
        var streamDenied = await CallAsync(Audit("StreamBlocks"), new { from_height = 0, to_height = 1 }, ApiNode.Bank);

        Assert.Equal(("UNAUTHENTICATED", "MissingCredentials"), Refusal(unsigned));
        Assert.Equal(("UNAUTHENTICATED", "StaleRequest"), Refusal(stale));
        Assert.Equal(("UNAUTHENTICATED", "BadSignature"), Refusal(tampered));
        AssertOk(replayed, "first of the replayed pair");
        Assert.Equal(("UNAUTHENTICATED", "ReplayedRequest"), Refusal(replayed.GetProperty("replay")));
        Assert.Equal(("PERMISSION_DENIED", "MissingRole"), Refusal(publisher));
        Assert.Equal(("PERMISSION_DENIED", "MissingRole"), Refusal(streamDenied));
        Assert.Single(await _api.AccessLogAsync());
    }

    [PythonCreditInteropFact]
    public async Task Grpcio_calls_with_bad_fields_unknown_ids_or_too_large_pages_get_the_precise_status_and_log_nothing()
    {
        await _api.IssueLicenceAsync("2430599");
        var height = _api.Ledger.Node.Head.Height;

        var badSubject = await CallAsync(Credit("CreditService/GetTrustScore"), new { subject = "uscc:nonsense" }, ApiNode.Bureau);
        var unknownLicence = await CallAsync(Credit("AttestationService/GetLicence"), new { identifier = _api.LicenceId("9999999") }, ApiNode.Bank);
        var bigPage = await CallAsync(Credit("AttestationService/ListLicencesByHolder"), new { holder = ApiNode.Holder, page_size = 501 }, ApiNode.Bank);
        var unknownTransaction = await CallAsync(Audit("GetTransaction"), new { transaction_id = Keccak256.Hash("none"u8).ToString() }, ApiNode.Regulator);
        var aboveHead = await CallAsync(Audit("GetCertifiedHeader"), new { height = 99 }, ApiNode.Regulator);
        var backwards = await CallAsync(Audit("StreamBlocks"), new { from_height = 2, to_height = 1 }, ApiNode.Regulator);
        var garbage = await CallAsync(Credit("CreditService/SubmitTransaction"), new { transaction = Convert.ToBase64String([1, 2, 3]) }, ApiNode.Bank);
        var otherRegion = await CallAsync(Credit("IncentiveService/GetApplicableMeasures"), new { subject = ApiNode.Holder, region = "BJ" }, ApiNode.TianjinRegulator);

        Assert.Equal(("INVALID_ARGUMENT", "InvalidRequest"), Refusal(badSubject));
        Assert.Equal(("NOT_FOUND", "UnknownLicence"), Refusal(unknownLicence));
        Assert.Equal(("RESOURCE_EXHAUSTED", "PageTooLarge"), Refusal(bigPage));
        Assert.Equal(("NOT_FOUND", "UnknownTransaction"), Refusal(unknownTransaction));
        Assert.Equal(("NOT_FOUND", "UnknownHeight"), Refusal(aboveHead));
        Assert.Equal(("INVALID_ARGUMENT", "InvalidRequest"), Refusal(backwards));
        Assert.Equal("INVALID_ARGUMENT", Refusal(garbage).Code);
        Assert.Equal(("PERMISSION_DENIED", "RegionMismatch"), Refusal(otherRegion));
        Assert.Empty(await _api.AccessLogAsync());
        Assert.Equal(height, _api.Ledger.Node.Head.Height);
    }
}

/// <summary>
/// tests/interop/python/credit_client.py on Debian's Python with python3-grpcio, python3-pycryptodome and
/// python3-ecdsa; stubs for the credit and audit protos generated once per test run with grpc_tools.protoc.
/// </summary>
public sealed class PythonCreditClient : InteropClient
{
    public static PythonCreditClient Instance { get; } = new();

    private readonly Lazy<Task<string>> _stubs = new(GenerateStubsAsync);

    public override string Language => "python";

    protected override string? FindProblem()
        => Succeeds(PythonInteropClient.Python, "-c", "import grpc, grpc_tools.protoc, Cryptodome.Hash.keccak, ecdsa")
            ? null
            : $"{PythonInteropClient.Python} cannot import grpc, grpc_tools, Cryptodome and ecdsa (apt-get install python3-grpcio python3-grpc-tools python3-pycryptodome python3-ecdsa)";

    protected override async Task<(string FileName, string[] Arguments)> CommandAsync()
        => (PythonInteropClient.Python, [RepositoryFiles.Combine("tests", "interop", "python", "credit_client.py"), "--stubs", await _stubs.Value]);

    private static async Task<string> GenerateStubsAsync()
    {
        var directory = Directory.CreateTempSubdirectory("smartcity-credit-py-").FullName;
        var protoRoot = RepositoryFiles.Combine("contracts", "proto");
        var result = await ChildProcess.RunAsync(
            PythonInteropClient.Python,
            [
                "-m", "grpc_tools.protoc", $"-I{protoRoot}", $"--python_out={directory}",
                Path.Combine(protoRoot, "google", "api", "http.proto"),
                Path.Combine(protoRoot, "google", "api", "annotations.proto"),
                Path.Combine(protoRoot, "smartcity", "credit", "v1", "credit.proto"),
                Path.Combine(protoRoot, "smartcity", "audit", "v1", "audit.proto"),
            ],
            RepositoryFiles.Root,
            TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"grpc_tools.protoc failed: {result}");
        return directory;
    }
}

/// <summary>A fact that needs the Python credit client: skipped outside CI when it is missing, failing on CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PythonCreditInteropFactAttribute : FactAttribute
{
    public PythonCreditInteropFactAttribute() => Skip = PythonCreditClient.Instance.SkipReason;
}
