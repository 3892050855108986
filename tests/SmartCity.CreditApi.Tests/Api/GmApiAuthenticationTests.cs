using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using SmartCity.Contracts.Credit.V1;
using SmartCity.CreditApi.Auth;
using SmartCity.CreditApi.Cli;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Receipts;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// The credit API of a running gm node (<c>smartcity init --crypto gm</c>: SM2 member keys in gm keystores, SM3) over
/// real HTTP/2: requests signed with SM2 over the SM3 digest of docs/api.md are served, their receipts verify offline
/// in the gm suite only, and a bad SM2 signature, an eth-signed request or a replay is UNAUTHENTICATED with nothing
/// logged. The C# client and the <c>smartcity</c> API commands sign with the gm keystores.
/// </summary>
public sealed class GmApiAuthenticationTests : IAsyncLifetime
{
    private const string VerifyLicenceMethod = "/smartcity.credit.v1.AttestationService/VerifyLicence";

    private readonly ApiNode _api = new(suite: CryptoSuiteId.Gm);
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-gm-api-").FullName;

    public Task InitializeAsync() => _api.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The metadata of <paramref name="request"/> signed by <paramref name="key"/> with the digest of <paramref name="suite"/>.</summary>
    private Metadata Signed(CryptoSuite suite, ISigner key, IMessage request)
    {
        var headers = new Metadata();
        foreach (var (name, value) in ApiRequestSigning.Sign(suite, key, _api.Genesis.ChainId, VerifyLicenceMethod, request, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), RandomNumberGenerator.GetBytes(ApiRequestSigning.NonceSize), "LOAN_REVIEW"))
        {
            headers.Add(name, value);
        }

        return headers;
    }

    private AttestationService.AttestationServiceClient RawClient => new(_api.Unsigned);

    private async Task<RpcException> RefusedVerify(VerifyLicenceRequest request, Metadata headers)
        => await Assert.ThrowsAsync<RpcException>(() => RawClient.VerifyLicenceAsync(request, headers).ResponseAsync);

    [Fact]
    public async Task A_gm_node_serves_sm2_signed_calls_and_its_licence_receipt_verifies_offline_in_the_gm_suite_only()
    {
        Assert.Equal(CryptoSuiteId.Gm, _api.Suite.Id);
        var penalty = await _api.PenaliseAsync("late filing");
        var identifier = await _api.IssueLicenceAsync("2430599");

        var score = await _api.Client(ApiNode.Bureau).Credit.GetTrustScoreAsync(new GetTrustScoreRequest { Subject = ApiNode.Holder, Height = penalty.Height });
        var answer = await _api.Client(ApiNode.Bank, "LOAN_REVIEW").Attestation.VerifyLicenceAsync(new VerifyLicenceRequest { Identifier = identifier, ExpectedHolder = ApiNode.Holder });

        Assert.Equal((ApiNode.Holder, penalty.Height), (score.Subject, score.Height));
        Assert.InRange(score.Score, 0, 699);
        Assert.True(answer.HolderMatches);
        var anchor = TrustAnchor.FromGenesis(_api.Genesis);
        Assert.Equal(CryptoSuiteId.Gm, anchor.Crypto);
        var report = ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(answer.ReceiptJson), anchor, _api.Suite.Signatures);
        Assert.Equal(ReceiptOutcome.Valid, report.Outcome);
        Assert.IsType<LicenceReceipt>(report.Receipt);
        Assert.Equal(identifier, report.Licence!.Identifier);
        Assert.Equal("gm", System.Text.Json.Nodes.JsonNode.Parse(answer.ReceiptJson)!["crypto"]!.GetValue<string>());
        var underEth = ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(answer.ReceiptJson), anchor with { Crypto = CryptoSuiteId.Eth }, CryptoSuite.Eth.Signatures);
        Assert.NotEqual(ReceiptOutcome.Valid, underEth.Outcome);
        var log = await _api.AccessLogAsync();
        Assert.Equal([_api.AddressOf(ApiNode.Bureau), _api.AddressOf(ApiNode.Bank)], log.Select(e => e.Request.Requester));
        Assert.All(log, entry => Assert.Equal(CryptoSuite.Gm.SignatureSize, entry.Request.Signature.Length));
    }

    [Fact]
    public async Task A_gm_node_refuses_a_tampered_sm2_signature_an_eth_signed_request_and_a_replay_as_unauthenticated()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        var request = new VerifyLicenceRequest { Identifier = identifier };
        var bank = _api.Key(ApiNode.Bank);

        // The bank's SM2 signature with one bit of s flipped.
        var tampered = Signed(_api.Suite, bank, request);
        var signature = Convert.FromHexString(tampered.GetValue(ApiRequestSigning.SignatureHeader)![2..]);
        signature[40] ^= 0x01;
        tampered.Remove(tampered.Get(ApiRequestSigning.SignatureHeader)!);
        tampered.Add(ApiRequestSigning.SignatureHeader, "0x" + Convert.ToHexStringLower(signature));
        var badSignature = await RefusedVerify(request, tampered);

        // An eth client: Keccak-256 digest, secp256k1 key, 65-byte r‖s‖v.
        using var ethKey = new InMemorySigner(RandomNumberGenerator.GetBytes(32), CryptoSuite.Eth.Signatures);
        var ethSigned = await RefusedVerify(request, Signed(CryptoSuite.Eth, ethKey, request));

        // The bank's own SM2 key over the eth suite's (Keccak-256) digest of the same request.
        var ethDigest = await RefusedVerify(request, Signed(CryptoSuite.Eth, bank, request));

        // The bank's valid request, sent twice.
        var once = Signed(_api.Suite, bank, request);
        var first = await RawClient.VerifyLicenceAsync(request, once);
        var replay = await RefusedVerify(request, once);

        Assert.Equal((StatusCode.Unauthenticated, "BAD_SIGNATURE"), (badSignature.StatusCode, ApiNode.Reason(badSignature)));
        Assert.Equal((StatusCode.Unauthenticated, "MALFORMED_CREDENTIALS"), (ethSigned.StatusCode, ApiNode.Reason(ethSigned)));
        Assert.Contains("a gm signature, SM2 r‖s‖x‖y", ethSigned.Status.Detail, StringComparison.Ordinal);
        Assert.Equal((StatusCode.Unauthenticated, "BAD_SIGNATURE"), (ethDigest.StatusCode, ApiNode.Reason(ethDigest)));
        Assert.Equal(identifier, first.Licence.Identifier);
        Assert.Equal((StatusCode.Unauthenticated, "REPLAYED_REQUEST"), (replay.StatusCode, ApiNode.Reason(replay)));
        Assert.Single(await _api.AccessLogAsync());
    }

    [Fact]
    public async Task The_api_commands_sign_with_gm_keystores_submit_score_and_verify_a_licence_with_its_receipt_checked_offline()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        var transaction = _api.Sign(ApiNode.PenaltyBody("submitted from the command line"));
        Assert.Equal(CryptoSuite.Gm.SignatureSize, transaction.Signature.Bytes.Length);
        var hexFile = Path.Combine(_directory, "tx.hex");
        await File.WriteAllTextAsync(hexFile, "0x" + Convert.ToHexStringLower(TransactionCodec.Encode(transaction)) + "\n");
        var saved = Path.Combine(_directory, "licence.json");

        var (submitExit, submitted, submitError) = await RunAsync(["submit", hexFile, .. As(ApiNode.TianjinRegulator)]);
        var (scoreExit, score, scoreError) = await RunAsync(["score", ApiNode.Holder, .. As(ApiNode.Bureau)]);
        var (verifyExit, verified, verifyError) = await RunAsync(["licence", "verify", identifier, "--expected-holder", ApiNode.Holder, "--save-receipt", saved, .. As(ApiNode.Bank)]);
        var (receiptExit, _, receiptError) = await RunAsync("receipt", "verify", "--file", saved, "--genesis", _api.GenesisPath);

        Assert.True(submitExit == ExitCodes.Success, submitError);
        Assert.StartsWith($"COMMITTED {transaction.Hash(_api.Domain)}", submitted, StringComparison.Ordinal);
        Assert.True(scoreExit == ExitCodes.Success, scoreError);
        Assert.StartsWith($"{ApiNode.Holder}: ", score, StringComparison.Ordinal);
        Assert.True(verifyExit == ExitCodes.Success, verifyError);
        Assert.StartsWith("VALID", verified, StringComparison.Ordinal);
        Assert.True(receiptExit == ExitCodes.Success, receiptError);
        var log = await _api.AccessLogAsync();
        Assert.Equal([_api.AddressOf(ApiNode.Bureau), _api.AddressOf(ApiNode.Bank)], log.Select(e => e.Request.Requester).Where(r => r != _api.AddressOf(ApiNode.TianjinRegulator)));
    }

    private string[] As(int member) => ["--api", $"http://{_api.Target}", "--key", _api.KeystoreOf(member).Keystore, "--password-file", _api.KeystoreOf(member).PasswordFile, "--genesis", _api.GenesisPath];

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }
}
