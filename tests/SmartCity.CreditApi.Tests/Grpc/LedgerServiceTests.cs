using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Services;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;

namespace SmartCity.CreditApi.Tests.Grpc;

/// <summary>
/// NodeService over a live single-validator ledger (Grpc.Net.Client against Grpc.AspNetCore): status that tells the
/// truth, submissions, receipts that verify offline, committed blocks as a resumable stream, and every refusal as a
/// precise status with its ErrorInfo. Each test gets its own node (about a second to start).
/// </summary>
public sealed class LedgerServiceTests : IAsyncLifetime
{
    private readonly InProcessNode _node = new();
    private GenesisDocument _genesis = null!;
    private Eip712Domain _domain = null!;

    private NodeService.NodeServiceClient Client => _node.Client;

    public async Task InitializeAsync()
    {
        await _node.InitializeAsync();
        _genesis = (await _node.Ledger.StartupAsync()).Genesis;
        _domain = _genesis.Eip712Domain.ToDomain();
    }

    public Task DisposeAsync() => _node.DisposeAsync();

    /// <summary>Member 1 is the Tianjin regulator of the setup (credit, licence, list and measure roles).</summary>
    private static readonly InMemorySigner Outsider = new(Keccak256.Hash("nobody"u8).Bytes);

    private SignedTransaction Signed(ITransactionBody body, ulong nonce, int member = 1, ulong? chainId = null)
        => SignedTransaction.Sign(_node.Ledger.MemberKey(member), _domain, chainId ?? _genesis.ChainId, nonce, body);

    private static ITransactionBody Record(string name, string division = "120101")
        => new CreditRecordSubmit(Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(name)), "uscc:91350100M000100Y43", RecordCategory.AdministrativePenalty, Severity.Moderate, division, LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(-1)), 6, "Administrative Penalty Law, art. 28", "", Keccak256.Hash("payload"u8));

    private static SubmitTransactionRequest Request(SignedTransaction tx, bool wait = true) => new() { Transaction = ByteString.CopyFrom(TransactionCodec.Encode(tx)), WaitForCommit = wait };

    [Fact]
    public async Task Status_tells_the_ledger_chain_head_state_root_validators_mempool_and_store()
    {
        var before = (await Client.StatusAsync(new StatusRequest())).Ledger;
        await Client.SubmitTransactionAsync(Request(Signed(Record("status"), 0)));
        var after = (await Client.StatusAsync(new StatusRequest())).Ledger;

        Assert.Equal(_genesis.ChainId, before.ChainId);
        Assert.Equal((0L, 1L), (before.Height, after.Height));
        Assert.Equal((0L, 1L), (before.HistorySize, after.HistorySize));
        Assert.NotEqual(before.StateRoot, after.StateRoot);
        Assert.Matches("^0x[0-9a-f]{64}$", after.HeadHash);
        Assert.Equal(_genesis.Validators[0].Address.ToString(), Assert.Single(after.Validators).Address);
        Assert.Equal(("TJ", 1), (after.Validators[0].Region, after.Quorum));
        Assert.Equal(("embedded", "solo", true, 0L), (after.StoreKind, after.Certification, after.Committing, after.MempoolSize));
    }

    [Fact]
    public async Task A_committed_transaction_has_an_inclusion_receipt_and_its_state_a_value_receipt_that_verify_offline()
    {
        var identifier = LicenceIdentifier.Compose("11100000000013338W032", _genesis.Members[1].Uscc.Value, "2430599", 1);
        var licence = Signed(new LicenceIssue(identifier, "uscc:91350100M000100Y43", "Business licence", "120101", LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(-1)), LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddYears(5)), Keccak256.Hash("file"u8)), 0);

        var submitted = await Client.SubmitTransactionAsync(Request(licence));
        var inclusion = await Client.GetReceiptAsync(new GetReceiptRequest { TransactionId = submitted.TransactionId });
        var state = await Client.GetReceiptAsync(new GetReceiptRequest { StateKey = $"licence/{identifier}" });
        var status = await Client.GetTransactionAsync(new GetTransactionRequest { TransactionId = submitted.TransactionId });

        Assert.Equal((TransactionStatus.Committed, 1L, 0), (submitted.Status, submitted.Height, submitted.IndexInBlock));
        Assert.Equal(licence.Hash(_domain).ToString(), submitted.TransactionId);
        Assert.Equal((TransactionStatus.Committed, 1L), (status.Status, status.Height));
        foreach (var json in new[] { inclusion.ReceiptJson, state.ReceiptJson })
        {
            Assert.True(ReceiptJson.TryParse(json, out var receipt, out var error), error);
            var verdict = ReceiptVerifier.Verify(receipt, TrustAnchor.FromGenesis(_genesis), Secp256k1.Default);
            Assert.True(verdict.IsValid, verdict.Reason);
        }

        Assert.True(ReceiptJson.TryParse(state.ReceiptJson, out var stateReceipt, out _));
        Assert.Equal(LicenceStatus.Valid, StateValue.Decode(((StateReceipt)stateReceipt).Value!, LicenceState.Read).Status);
    }

    [Fact]
    public async Task Without_waiting_a_submission_is_pending_then_committed()
    {
        var pending = await Client.SubmitTransactionAsync(Request(Signed(Record("pending"), 0), wait: false));

        GetTransactionResponse status;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        do
        {
            status = await Client.GetTransactionAsync(new GetTransactionRequest { TransactionId = pending.TransactionId });
        }
        while (status.Status != TransactionStatus.Committed && DateTime.UtcNow < deadline && await Task.Delay(20).ContinueWith(_ => true));

        Assert.Equal(TransactionStatus.Pending, pending.Status);
        Assert.Equal(TransactionStatus.Committed, status.Status);
    }

    public static TheoryData<string, StatusCode, string> Refusals => new()
    {
        { "malformed", StatusCode.InvalidArgument, "MALFORMED" },
        { "wrong chain", StatusCode.InvalidArgument, "WRONG_CHAIN_ID" },
        { "high s", StatusCode.InvalidArgument, "BAD_SIGNATURE" },
        { "outsider", StatusCode.PermissionDenied, "NOT_A_MEMBER" },
        { "replay", StatusCode.FailedPrecondition, "NONCE_REUSED" },
        { "too far ahead", StatusCode.OutOfRange, "NONCE_TOO_FAR_AHEAD" },
        { "rule in the block", StatusCode.PermissionDenied, "REGION_MISMATCH" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_refused_submission_is_a_precise_status_with_its_reason_and_changes_nothing(string input, StatusCode code, string reason)
    {
        var committed = Signed(Record("first"), 0);
        await Client.SubmitTransactionAsync(Request(committed));
        var before = (await Client.StatusAsync(new StatusRequest())).Ledger;
        var request = input switch
        {
            "malformed" => new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(1, 2, 3), WaitForCommit = true },
            "wrong chain" => Request(Signed(Record("chain"), 1, chainId: 1)),
            "high s" => Request(Signed(Record("high-s"), 1) is var tx ? tx with { Signature = HighS(tx.Signature) } : null!),
            "outsider" => Request(SignedTransaction.Sign(Outsider, _domain, _genesis.ChainId, 0, Record("outsider"))),
            "replay" => Request(committed),
            "too far ahead" => Request(Signed(Record("far"), 1000)),
            _ => Request(Signed(Record("beijing", division: "110105"), 1)),
        };

        var error = await Assert.ThrowsAsync<RpcException>(() => Client.SubmitTransactionAsync(request).ResponseAsync);
        var after = (await Client.StatusAsync(new StatusRequest())).Ledger;

        Assert.Equal(code, error.StatusCode);
        Assert.Equal(reason, Assert.Single(error.GetRpcStatus()!.GetDetail<ErrorInfo>() is { } info ? [info] : Array.Empty<ErrorInfo>()).Reason);
        Assert.False(string.IsNullOrWhiteSpace(error.Status.Detail));
        Assert.NotNull(error.Trailers.GetValue(LedgerErrors.CodeTrailer));
        Assert.Equal((before.Height, before.StateRoot, 0L), (after.Height, after.StateRoot, after.MempoolSize));
    }

    [Fact]
    public async Task Receipt_and_transaction_requests_that_name_nothing_valid_are_invalid_arguments_or_not_found()
    {
        var unknown = Keccak256.Hash("never submitted"u8).ToString();

        var notFound = await Assert.ThrowsAsync<RpcException>(() => Client.GetReceiptAsync(new GetReceiptRequest { TransactionId = unknown }).ResponseAsync);
        var badId = await Assert.ThrowsAsync<RpcException>(() => Client.GetReceiptAsync(new GetReceiptRequest { TransactionId = "0x12" }).ResponseAsync);
        var badKey = await Assert.ThrowsAsync<RpcException>(() => Client.GetReceiptAsync(new GetReceiptRequest { StateKey = "licence/with space" }).ResponseAsync);
        var nothing = await Assert.ThrowsAsync<RpcException>(() => Client.GetReceiptAsync(new GetReceiptRequest()).ResponseAsync);
        var status = await Client.GetTransactionAsync(new GetTransactionRequest { TransactionId = unknown });

        Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
        Assert.Equal([StatusCode.InvalidArgument, StatusCode.InvalidArgument, StatusCode.InvalidArgument], new[] { badId.StatusCode, badKey.StatusCode, nothing.StatusCode });
        Assert.Equal(TransactionStatus.Unknown, status.Status);
    }

    [Fact]
    public async Task WatchBlocks_resumes_from_a_height_and_follows_new_commits_with_certified_headers()
    {
        for (var nonce = 0UL; nonce < 2; nonce++)
        {
            await Client.SubmitTransactionAsync(Request(Signed(Record($"watch {nonce}"), nonce)));
        }

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var call = Client.WatchBlocks(new WatchBlocksRequest { FromHeight = 1 }, cancellationToken: cancel.Token);
        var seen = new List<WatchBlocksResponse>();
        var third = Task.Run(async () =>
        {
            await Task.Delay(200);
            return await Client.SubmitTransactionAsync(Request(Signed(Record("watch 2"), 2)));
        });
        await foreach (var block in call.ResponseStream.ReadAllAsync(cancel.Token))
        {
            seen.Add(block);
            if (block.Height == 3)
            {
                break;
            }
        }

        Assert.Equal([1L, 2L, 3L], seen.Select(b => b.Height));
        Assert.Equal((await third).TransactionId, Assert.Single(seen[2].TransactionIds));
        var anchor = TrustAnchor.FromGenesis(_genesis);
        foreach (var block in seen)
        {
            Assert.True(Ledger.Blocks.BlockHeader.TryDecode(block.Header.Span, out var header, out _));
            Assert.True(Ledger.Blocks.CommitCertificate.TryDecode(block.Certificate.Span, out var certificate, out _));
            Assert.Equal(block.BlockHash, header!.Hash.ToString());
            Assert.True(certificate!.Verify(header, anchor.Validators, anchor.DomainSeparator, Secp256k1.Default).IsValid);
        }

        Assert.Equal(seen[0].BlockHash, seen[1].PreviousHash);
    }

    private static Signature HighS(Signature signature)
    {
        var n = System.Numerics.BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);
        var high = (n - new System.Numerics.BigInteger(signature.S, isUnsigned: true, isBigEndian: true)).ToByteArray(isUnsigned: true, isBigEndian: true);
        var bytes = signature.Bytes.ToArray();
        Array.Clear(bytes, 32, 32);
        high.CopyTo(bytes, 64 - high.Length);
        bytes[64] = (byte)(bytes[64] == 27 ? 28 : 27);
        return new Signature(bytes);
    }
}

/// <summary>A node whose mempool holds one transaction: the next is refused with RESOURCE_EXHAUSTED.</summary>
public sealed class FullMempoolTests : IAsyncLifetime
{
    private readonly TinyMempoolNode _node = new();

    public Task InitializeAsync() => _node.InitializeAsync();

    public Task DisposeAsync() => _node.DisposeAsync();

    [Fact]
    public async Task A_full_mempool_is_resource_exhausted_and_says_so()
    {
        var startup = await _node.Ledger.StartupAsync();
        var domain = startup.Genesis.Eip712Domain.ToDomain();
        SubmitTransactionRequest Held(ulong nonce, int member) => new()
        {
            // Nonce 1 with nonce 0 missing: held in the mempool, never committed during the test.
            Transaction = ByteString.CopyFrom(TransactionCodec.Encode(SignedTransaction.Sign(_node.Ledger.MemberKey(member), domain, startup.Genesis.ChainId, nonce, new CreditRecordSubmit(Keccak256.Hash(BitConverter.GetBytes(member)), "uscc:91350100M000100Y43", RecordCategory.AdministrativePenalty, Severity.Moderate, "120101", 0, 6, "basis", "", default)))),
        };

        var first = await _node.Client.SubmitTransactionAsync(Held(1, 0));
        var error = await Assert.ThrowsAsync<RpcException>(() => _node.Client.SubmitTransactionAsync(Held(1, 2)).ResponseAsync);

        Assert.Equal(TransactionStatus.Pending, first.Status);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.StartsWith("MempoolFull: ", error.Status.Detail, StringComparison.Ordinal);
    }

    private sealed class TinyMempoolNode : InProcessNode
    {
        protected override void ConfigureLedger(System.Text.Json.Nodes.JsonObject config) => config["limits"] = new System.Text.Json.Nodes.JsonObject { ["mempoolCapacity"] = 1 };
    }
}
