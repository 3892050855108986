using System.Text.Json;
using SmartCity.CreditApi.Cli;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Receipts;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// The credit-API client commands of <c>smartcity</c> against a real node (Kestrel, HTTP/2): <c>score --api</c>,
/// <c>licence verify</c> (receipt checked offline), <c>audit verify</c>, <c>audit consistency</c> and <c>submit</c>,
/// each signing with a member keystore; exit 0/1/2 and the one stderr line per docs/cli.md.
/// </summary>
public sealed class ApiClientCommandTests : IAsyncLifetime
{
    private readonly ApiNode _api = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-api-cli-").FullName;

    public Task InitializeAsync() => _api.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private string[] As(int member) => ["--api", $"http://{_api.Target}", "--key", _api.KeystoreOf(member).Keystore, "--password-file", _api.KeystoreOf(member).PasswordFile, "--genesis", _api.GenesisPath];

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    private static void AssertOneErrorLine(int exit, string error, string command, string contains)
    {
        Assert.Equal(ExitCodes.BadInput, exit);
        var line = Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith($"smartcity {command}: ", line, StringComparison.Ordinal);
        Assert.Contains(contains, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_over_the_api_prints_the_nodes_answer_and_the_read_is_access_logged()
    {
        var penalty = await _api.PenaliseAsync("late filing");

        var (exit, output, error) = await RunAsync(["score", ApiNode.Holder, .. As(ApiNode.Bureau)]);
        var (jsonExit, json, _) = await RunAsync(["score", ApiNode.Holder, "--json", "--purpose", "LOAN_REVIEW", .. As(ApiNode.Bank)]);

        Assert.True(exit == ExitCodes.Success, error);
        Assert.StartsWith($"{ApiNode.Holder}: ", output, StringComparison.Ordinal);
        Assert.Contains($"block {penalty.Height} ({_api.Ledger.Node.Head.Header.Hash})", output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Success, jsonExit);
        using var answer = JsonDocument.Parse(json);
        Assert.Contains(Ledger.Crypto.Keccak256.Hash("late filing"u8).ToString(), json, StringComparison.OrdinalIgnoreCase);
        var log = await _api.AccessLogAsync();
        Assert.Equal([(_api.AddressOf(ApiNode.Bureau), "CREDIT_CHECK"), (_api.AddressOf(ApiNode.Bank), "LOAN_REVIEW")], log.Select(e => (e.Request.Requester, e.Request.Method.Split(";purpose=")[1].Split(';')[0])));
    }

    [Fact]
    public async Task Score_over_the_api_refused_by_role_or_given_bad_input_is_one_line_and_exit_2()
    {
        var (deniedExit, _, denied) = await RunAsync(["score", ApiNode.Holder, .. As(ApiNode.CreditOffice)]);
        var (noGenesisExit, _, noGenesis) = await RunAsync("score", ApiNode.Holder, "--api", $"http://{_api.Target}", "--key", _api.KeystoreOf(ApiNode.Bank).Keystore, "--password-file", _api.KeystoreOf(ApiNode.Bank).PasswordFile);
        var (bothExit, _, both) = await RunAsync(["score", ApiNode.Holder, "--store", _directory, .. As(ApiNode.Bank)]);
        var (badUrlExit, _, badUrl) = await RunAsync(["score", ApiNode.Holder, .. As(ApiNode.Bank)[2..], "--api", "ftp://example"]);
        var (purposeExit, _, purpose) = await RunAsync(["score", ApiNode.Holder, "--purpose", "credit check", .. As(ApiNode.Bank)]);

        AssertOneErrorLine(deniedExit, denied, "score", "the node refused: PERMISSION_DENIED MissingRole:");
        AssertOneErrorLine(noGenesisExit, noGenesis, "score", "--genesis FILE is required with --api");
        AssertOneErrorLine(bothExit, both, "score", "not both");
        AssertOneErrorLine(badUrlExit, badUrl, "score", "--api: 'ftp://example' is not http://HOST:PORT");
        AssertOneErrorLine(purposeExit, purpose, "score", "--purpose: 'credit check' is not a purpose code");
        Assert.Empty(await _api.AccessLogAsync());
    }

    [Fact]
    public async Task Licence_verify_checks_the_combined_receipt_offline_saves_it_and_says_whether_the_holder_matches()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        var saved = Path.Combine(_directory, "licence.json");

        var (exit, output, error) = await RunAsync(["licence", "verify", identifier, "--expected-holder", ApiNode.Holder, "--save-receipt", saved, .. As(ApiNode.Bank)]);
        var (otherExit, other, _) = await RunAsync(["licence", "verify", identifier, "--expected-holder", "uscc:91110000MA0000008A", .. As(ApiNode.Bank)]);

        Assert.True(exit == ExitCodes.Success, error);
        Assert.StartsWith("VALID", output, StringComparison.Ordinal);
        Assert.Contains($"licence {identifier}: status 01 Valid at block time, holder {ApiNode.Holder} (as expected)", output, StringComparison.Ordinal);
        var report = ReceiptVerifier.VerifyDocument(await File.ReadAllBytesAsync(saved), TrustAnchor.FromGenesis(_api.Genesis), Ledger.Crypto.Secp256k1.Default);
        Assert.IsType<LicenceReceipt>(report.Receipt);
        Assert.Equal(ExitCodes.NegativeVerdict, otherExit);
        Assert.StartsWith("INVALID: another holder", other, StringComparison.Ordinal);
        var (again, _, _) = await RunAsync("receipt", "verify", "--file", saved, "--genesis", _api.GenesisPath);
        Assert.Equal(ExitCodes.Success, again);
    }

    [Fact]
    public async Task Licence_verify_of_an_unknown_or_malformed_licence_or_over_an_existing_file_is_one_line_and_exit_2()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        var existing = Path.Combine(_directory, "exists.json");
        await File.WriteAllTextAsync(existing, "{}");

        var (unknownExit, _, unknown) = await RunAsync(["licence", "verify", _api.LicenceId("9999999"), .. As(ApiNode.Bank)]);
        var (malformedExit, _, malformed) = await RunAsync(["licence", "verify", "1.2.156.3005.2.nonsense", .. As(ApiNode.Bank)]);
        var (overwriteExit, _, overwrite) = await RunAsync(["licence", "verify", identifier, "--save-receipt", existing, .. As(ApiNode.Bank)]);
        var (unreachableExit, _, unreachable) = await RunAsync(["licence", "verify", identifier, .. As(ApiNode.Bank)[2..], "--api", "http://127.0.0.1:1"]);

        AssertOneErrorLine(unknownExit, unknown, "licence verify", "the node refused: NOT_FOUND UnknownLicence:");
        AssertOneErrorLine(malformedExit, malformed, "licence verify", "the node refused: INVALID_ARGUMENT InvalidRequest: identifier:");
        AssertOneErrorLine(overwriteExit, overwrite, "licence verify", "exists; a receipt is never written over a file");
        AssertOneErrorLine(unreachableExit, unreachable, "licence verify", "unreachable");
        Assert.Equal("{}", await File.ReadAllTextAsync(existing));
        Assert.Empty(await _api.AccessLogAsync());
    }

    [Fact]
    public async Task Audit_verify_reports_every_block_valid_and_audit_consistency_checks_its_receipt_offline()
    {
        for (var i = 0; i < 3; i++)
        {
            await _api.PenaliseAsync($"record {i}");
        }

        var (verifyExit, verify, verifyError) = await RunAsync(["audit", "verify", "--from", "1", .. As(ApiNode.Regulator)]);
        var (consistencyExit, consistency, consistencyError) = await RunAsync(["audit", "consistency", "--from", "1", "--to", "3", .. As(ApiNode.Bank)]);

        Assert.True(verifyExit == ExitCodes.Success, verifyError);
        Assert.Contains("VALID", verify, StringComparison.Ordinal);
        Assert.Contains("3 of 3 blocks (1..3), 3 transactions checked by the node", verify, StringComparison.Ordinal);
        Assert.True(consistencyExit == ExitCodes.Success, consistencyError);
        Assert.StartsWith("VALID", consistency, StringComparison.Ordinal);
        Assert.Contains("the history of block 1 (1 transactions", consistency, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_commands_with_a_bad_range_or_the_wrong_role_are_one_line_and_exit_2()
    {
        await _api.PenaliseAsync("record");

        var (backwardsExit, _, backwards) = await RunAsync(["audit", "consistency", "--from", "1", "--to", "0", .. As(ApiNode.Regulator)]);
        var (beyondExit, _, beyond) = await RunAsync(["audit", "consistency", "--from", "0", "--to", "9", .. As(ApiNode.Regulator)]);
        var (negativeExit, _, negative) = await RunAsync(["audit", "verify", "--from", "minus-one", .. As(ApiNode.Regulator)]);
        var (bankExit, _, bank) = await RunAsync(["audit", "verify", .. As(ApiNode.Bank)]);

        AssertOneErrorLine(backwardsExit, backwards, "audit consistency", "--to 0 is below --from 1");
        AssertOneErrorLine(beyondExit, beyond, "audit consistency", "the node refused: NOT_FOUND UnknownHeight:");
        AssertOneErrorLine(negativeExit, negative, "audit verify", "--from must be 0 or more");
        AssertOneErrorLine(bankExit, bank, "audit verify", "the node refused: PERMISSION_DENIED MissingRole:");
    }

    [Fact]
    public async Task Submit_sends_a_signed_transaction_waits_for_the_commit_and_checks_the_inclusion_receipt()
    {
        var transaction = _api.Sign(ApiNode.PenaltyBody("submitted from the command line"));
        var hexFile = Path.Combine(_directory, "tx.hex");
        await File.WriteAllTextAsync(hexFile, "0x" + Convert.ToHexStringLower(TransactionCodec.Encode(transaction)) + "\n");
        var receipt = Path.Combine(_directory, "receipt.json");

        var (exit, output, error) = await RunAsync(["submit", hexFile, "--save-receipt", receipt, .. As(ApiNode.TianjinRegulator)]);
        var (againExit, _, again) = await RunAsync(["submit", hexFile, .. As(ApiNode.TianjinRegulator)]);

        Assert.True(exit == ExitCodes.Success, error);
        Assert.StartsWith($"COMMITTED {transaction.Hash(_api.Genesis.Eip712Domain.ToDomain())}", output, StringComparison.Ordinal);
        Assert.Equal(1L, _api.Ledger.Node.Head.Height);
        Assert.IsType<InclusionReceipt>(ReceiptVerifier.VerifyDocument(await File.ReadAllBytesAsync(receipt), TrustAnchor.FromGenesis(_api.Genesis), Ledger.Crypto.Secp256k1.Default).Receipt);
        Assert.Equal(ExitCodes.BadInput, againExit);
        Assert.Contains("the node refused: ", again, StringComparison.Ordinal);
        Assert.Equal(1L, _api.Ledger.Node.Head.Height);
    }

    [Fact]
    public async Task Submit_of_a_file_that_is_not_a_transaction_or_for_another_chain_is_one_line_and_changes_nothing()
    {
        var garbage = Path.Combine(_directory, "garbage.bin");
        await File.WriteAllBytesAsync(garbage, [1, 2, 3]);
        var badHex = Path.Combine(_directory, "bad.hex");
        await File.WriteAllTextAsync(badHex, "0xzz");
        var foreign = Path.Combine(_directory, "foreign.bin");
        var domain = new Ledger.Crypto.Eip712.Eip712Domain(_api.Genesis.Eip712Domain.Name, _api.Genesis.Eip712Domain.Version, 1);
        await File.WriteAllBytesAsync(foreign, TransactionCodec.Encode(Ledger.Domain.Transactions.SignedTransaction.Sign(_api.Key(ApiNode.TianjinRegulator), domain, 1, 0, ApiNode.PenaltyBody("x"))));

        var (garbageExit, _, garbageError) = await RunAsync(["submit", garbage, .. As(ApiNode.TianjinRegulator)]);
        var (badHexExit, _, badHexError) = await RunAsync(["submit", badHex, .. As(ApiNode.TianjinRegulator)]);
        var (foreignExit, _, foreignError) = await RunAsync(["submit", foreign, .. As(ApiNode.TianjinRegulator)]);
        var (missingExit, _, missingError) = await RunAsync(["submit", Path.Combine(_directory, "absent"), .. As(ApiNode.TianjinRegulator)]);

        AssertOneErrorLine(garbageExit, garbageError, "submit", "not a signed transaction");
        AssertOneErrorLine(badHexExit, badHexError, "submit", "starts with 0x but is not hex");
        AssertOneErrorLine(foreignExit, foreignError, "submit", "the transaction is for chain 1, the genesis is chain");
        AssertOneErrorLine(missingExit, missingError, "submit", "cannot read");
        Assert.Equal(0L, _api.Ledger.Node.Head.Height);
    }
}
