using Grpc.Core;
using SmartCity.Contracts.Audit.V1;
using SmartCity.Contracts.Credit.V1;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.Storage;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>
/// AuditService over real HTTP/2 for a regulator: the access log with what it needs to re-check the hash chain
/// offline, history-consistency receipts between two certified heads, chain verification with progress, and a
/// transaction with its inclusion receipt.
/// </summary>
public sealed class AuditApiTests : IAsyncLifetime
{
    private readonly ApiNode _api = new();

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task A_regulator_reads_the_access_log_and_re_checks_its_hash_chain_and_signatures_offline()
    {
        var identifier = await _api.IssueLicenceAsync("2430599");
        var bank = _api.Client(ApiNode.Bank, "LOAN_REVIEW");
        var bureau = _api.Client(ApiNode.Bureau);
        await bank.Attestation.VerifyLicenceAsync(new VerifyLicenceRequest { Identifier = identifier });
        await bureau.Credit.GetTrustScoreAsync(new GetTrustScoreRequest { Subject = ApiNode.Holder });
        await bank.Credit.GetTrustScoreAsync(new GetTrustScoreRequest { Subject = "uscc:91110000MA0000008A" });
        var regulator = _api.Client(ApiNode.Regulator, "SUPERVISION");

        var log = await regulator.Audit.GetAccessLogAsync(new GetAccessLogRequest { Subject = ApiNode.Holder });

        Assert.True(log.ChainIntact);
        Assert.Equal(3, log.Entries.Count);
        Assert.Equal([0L, 1L], log.MatchingSequences);
        Assert.Equal((2L, log.Entries[^1].EntryHash), (log.HeadSequence, log.HeadHash));
        var entries = log.Entries.Select(e => new Ledger.Storage.AccessLogEntry(e.Sequence, new AccessRequest(Address.Parse(e.Requester), e.Method, e.Subject, e.Timestamp, Hash256.Parse(e.RequestDigest), e.Signature.ToByteArray()), Hash256.Parse(e.PreviousHash), Hash256.Parse(e.EntryHash))).ToList();
        Assert.True(AccessLogChain.Verify(entries).IsIntact);
        Assert.All(entries, e => Assert.Equal(SignatureCheck.Ok, Secp256k1.Default.Verify(e.Request.RequestDigest, new Signature(e.Request.Signature.ToArray()), e.Request.Requester)));
        var edited = entries.Select((e, i) => i == 1 ? e with { Request = e.Request with { Subject = "uscc:91110000MA0000008A" } } : e).ToList();
        Assert.False(AccessLogChain.Verify(edited).IsIntact);

        // The regulator's own read of the log is logged too.
        var after = await regulator.Audit.GetAccessLogAsync(new GetAccessLogRequest { FromSequence = 3 });
        Assert.Equal(("/smartcity.audit.v1.AuditService/GetAccessLog;purpose=SUPERVISION", ApiNode.Holder), (Assert.Single(after.Entries).Method.Split(";result=")[0], after.Entries[0].Subject));
    }

    [Fact]
    public async Task A_consistency_receipt_between_two_certified_heads_verifies_offline()
    {
        for (var i = 0; i < 4; i++)
        {
            await _api.PenaliseAsync($"record {i}");
        }

        var regulator = _api.Client(ApiNode.Regulator, "SUPERVISION");

        var answer = await regulator.Audit.GetConsistencyProofAsync(new GetConsistencyProofRequest { FromHeight = 1, ToHeight = 3 });
        var backwards = await Assert.ThrowsAsync<RpcException>(() => regulator.Audit.GetConsistencyProofAsync(new GetConsistencyProofRequest { FromHeight = 3, ToHeight = 1 }).ResponseAsync);
        var beyond = await Assert.ThrowsAsync<RpcException>(() => regulator.Audit.GetConsistencyProofAsync(new GetConsistencyProofRequest { FromHeight = 1, ToHeight = 99 }).ResponseAsync);

        Assert.Equal((1L, 3L), (answer.FromHeight, answer.ToHeight));
        var report = ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(answer.ReceiptJson), TrustAnchor.FromGenesis(_api.Genesis), Secp256k1.Default);
        Assert.Equal(ReceiptOutcome.Valid, report.Outcome);
        var receipt = Assert.IsType<ConsistencyReceipt>(report.Receipt);
        Assert.Equal((1L, 3L), (receipt.FromHeader.HistorySize, receipt.Header.HistorySize));
        Assert.Equal(StatusCode.InvalidArgument, backwards.StatusCode);
        Assert.Equal(StatusCode.NotFound, beyond.StatusCode);
    }

    [Fact]
    public async Task Verify_chain_streams_one_valid_verdict_per_block_with_progress()
    {
        for (var i = 0; i < 3; i++)
        {
            await _api.PenaliseAsync($"record {i}");
        }

        var regulator = _api.Client(ApiNode.Regulator, "SUPERVISION");
        using var call = regulator.Audit.VerifyChain(new VerifyChainRequest { FromHeight = 1 });
        var verdicts = new List<VerifyChainResponse>();
        await foreach (var verdict in call.ResponseStream.ReadAllAsync())
        {
            verdicts.Add(verdict);
        }

        Assert.Equal([1L, 2L, 3L], verdicts.Select(v => v.Height));
        Assert.All(verdicts, v => Assert.True(v.Verdict == BlockVerdict.Valid, v.Reason));
        Assert.Equal([1L, 2L, 3L], verdicts.Select(v => v.BlocksChecked));
        Assert.All(verdicts, v => Assert.Equal(3L, v.BlocksTotal));
        Assert.Equal(3L, verdicts[^1].TransactionsChecked);
    }

    [Fact]
    public async Task A_transaction_comes_with_an_inclusion_receipt_and_unknown_ones_are_not_found()
    {
        var committed = await _api.PenaliseAsync("looked up");
        var regulator = _api.Client(ApiNode.Regulator, "SUPERVISION");

        var answer = await regulator.Audit.GetTransactionAsync(new Contracts.Audit.V1.GetTransactionRequest { TransactionId = committed.TransactionId });
        var unknown = await Assert.ThrowsAsync<RpcException>(() => regulator.Audit.GetTransactionAsync(new Contracts.Audit.V1.GetTransactionRequest { TransactionId = Keccak256.Hash("never"u8).ToString() }).ResponseAsync);
        var malformed = await Assert.ThrowsAsync<RpcException>(() => regulator.Audit.GetTransactionAsync(new Contracts.Audit.V1.GetTransactionRequest { TransactionId = "0x12" }).ResponseAsync);

        Assert.Equal((committed.Height, 0), (answer.Height, answer.IndexInBlock));
        Assert.Equal(ReceiptOutcome.Valid, ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(answer.ReceiptJson), TrustAnchor.FromGenesis(_api.Genesis), Secp256k1.Default).Outcome);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, malformed.StatusCode);
    }

    [Fact]
    public async Task Any_member_reads_a_certified_header_but_only_a_regulator_the_access_log()
    {
        await _api.PenaliseAsync("one block");
        var bank = _api.Client(ApiNode.Bank);

        var header = await bank.Audit.GetCertifiedHeaderAsync(new GetCertifiedHeaderRequest { Latest = true });
        var denied = await Assert.ThrowsAsync<RpcException>(() => bank.Audit.GetAccessLogAsync(new GetAccessLogRequest()).ResponseAsync);

        Assert.Equal(1L, header.Height);
        Assert.True(Ledger.Blocks.BlockHeader.TryDecode(header.Header.Span, out var decoded, out _));
        Assert.True(Ledger.Blocks.CommitCertificate.TryDecode(header.Certificate.Span, out var certificate, out _));
        var anchor = TrustAnchor.FromGenesis(_api.Genesis);
        Assert.True(certificate!.Verify(decoded!, anchor.Validators, anchor.DomainSeparator, Secp256k1.Default).IsValid);
        Assert.Equal((StatusCode.PermissionDenied, "MISSING_ROLE"), (denied.StatusCode, ApiNode.Reason(denied)));
    }
}
