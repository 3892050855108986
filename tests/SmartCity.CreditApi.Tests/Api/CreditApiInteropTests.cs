using System.Globalization;
using System.Text.Json;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Receipts;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// The credit API against a client nobody here wrote: Node's @grpc/grpc-js with stubs loaded from the committed
/// .proto files, every request signed by ethers from the byte layout in docs/api.md (tests/interop/node/credit_client.js).
/// </summary>
public sealed class CreditApiInteropTests : IAsyncLifetime
{
    private readonly ApiNode _api = new();

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    /// <summary>The Node client opens the member's keystore itself (ethers' Wallet.fromEncryptedJson) with the setup's password file.</summary>
    private Task<JsonElement> VerifyAsync(string identifier, int member, params string[] extra)
        => NodeJsInteropClient.Credit.RunAsync(_api.Target, "verify-licence", [
            "--keystore", _api.KeystoreOf(member).Keystore,
            "--password-file", _api.KeystoreOf(member).PasswordFile,
            "--chain-id", _api.Genesis.ChainId.ToString(CultureInfo.InvariantCulture),
            "--identifier", identifier,
            .. extra]);

    [NodeJsInteropFact]
    public async Task A_bank_on_grpc_js_signing_with_ethers_verifies_a_licence_and_gets_a_receipt_that_verifies_offline()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");

        var result = await VerifyAsync(identifier, ApiNode.Bank, "--expected-holder", ApiNode.Holder, "--replay");

        Assert.Equal("OK", result.GetProperty("code").GetString());
        Assert.Equal((identifier, ApiNode.Holder, "01", true), (result.GetProperty("identifier").GetString(), result.GetProperty("holder").GetString(), result.GetProperty("effective_status").GetString(), result.GetProperty("holder_matches").GetBoolean()));
        var report = ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(result.GetProperty("receipt_json").GetString()!), TrustAnchor.FromGenesis(_api.Genesis), Secp256k1.Default);
        Assert.Equal(ReceiptOutcome.Valid, report.Outcome);
        Assert.IsType<LicenceReceipt>(report.Receipt);
        var replay = result.GetProperty("replay");
        Assert.Equal(("UNAUTHENTICATED", "ReplayedRequest"), (replay.GetProperty("code").GetString(), replay.GetProperty("rejection_code").GetString()));
        var entry = Assert.Single(await _api.AccessLogAsync());
        Assert.Equal(_api.AddressOf(ApiNode.Bank), entry.Request.Requester);
        Assert.Contains(";purpose=LOAN_REVIEW;", entry.Request.Method, StringComparison.Ordinal);
    }

    [NodeJsInteropFact]
    public async Task Grpc_js_calls_that_are_unsigned_stale_from_a_wrong_role_or_malformed_get_the_precise_status()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");

        var unsigned = await VerifyAsync(identifier, ApiNode.Bank, "--unsigned");
        var stale = await VerifyAsync(identifier, ApiNode.Bank, "--stale");
        var publisher = await VerifyAsync(identifier, ApiNode.CreditOffice);
        var malformed = await VerifyAsync("1.2.156.3005.2.nonsense", ApiNode.Bank);

        Assert.Equal(("UNAUTHENTICATED", "MissingCredentials"), (unsigned.GetProperty("code").GetString(), unsigned.GetProperty("rejection_code").GetString()));
        Assert.Equal(("UNAUTHENTICATED", "StaleRequest"), (stale.GetProperty("code").GetString(), stale.GetProperty("rejection_code").GetString()));
        Assert.Equal(("PERMISSION_DENIED", "MissingRole"), (publisher.GetProperty("code").GetString(), publisher.GetProperty("rejection_code").GetString()));
        Assert.Equal(("INVALID_ARGUMENT", "InvalidRequest"), (malformed.GetProperty("code").GetString(), malformed.GetProperty("rejection_code").GetString()));
        Assert.StartsWith("InvalidRequest: identifier:", malformed.GetProperty("details").GetString(), StringComparison.Ordinal);
        Assert.Empty(await _api.AccessLogAsync());
    }
}
