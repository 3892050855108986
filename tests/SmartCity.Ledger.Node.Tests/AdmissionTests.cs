using SmartCity.Ledger.Crypto;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Node.Tests.NodeKit;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>Bad input is refused with a typed reason before the mempool, and changes nothing.</summary>
public sealed class AdmissionTests : IDisposable
{
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<string> BadInputs => ["malformed", "truncated", "oversized", "wrong chain", "high s", "forged signer", "outsider", "unknown format"];

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_is_refused_with_its_reason_and_changes_nothing(string input)
    {
        await using var node = await SoloNodeAsync(_directory);
        var good = Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(0);
        var (bytes, expected) = input switch
        {
            "malformed" => (new byte[] { 1, 2, 3 }, AdmissionCode.Malformed),
            "truncated" => (Bytes(good)[..^1], AdmissionCode.Malformed),
            "oversized" => (new byte[node.Genesis.Parameters.MaxTransactionBytes + 1], AdmissionCode.TransactionTooLarge),
            "wrong chain" => (Bytes(TestLedger.Sign(node.Genesis, TestKeys.BeijingRegulator, Build.A.CreditRecord.Body(), 0, chainId: 1)), AdmissionCode.WrongChainId),
            "high s" => (Bytes(good with { Signature = HighS(good.Signature) }), AdmissionCode.BadSignature),
            "forged signer" => (Bytes(good with { Signer = TestKeys.TianjinRegulator.Address }), AdmissionCode.SignerMismatch),
            "outsider" => (Bytes(Build.A.CreditRecord.By(TestKeys.Outsider).Signed(0)), AdmissionCode.NotAMember),
            _ => ([9, .. Bytes(good)[1..]], AdmissionCode.Malformed),
        };
        var head = node.Head;

        var result = await node.SubmitAsync(bytes, waitForCommit: false, Deadline());

        Assert.Equal(expected, result.Code);
        Assert.NotEmpty(result.Reason);
        Assert.Equal(0, node.MempoolSize);
        Assert.Same(head, node.Head);
    }

    [Fact]
    public async Task A_high_s_signature_is_refused_although_it_recovers_the_same_signer()
    {
        var good = Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(0);
        var digest = good.Hash(new Crypto.Eip712.Eip712Domain(GenesisBuilder.Sample.Value.Eip712Domain.Name, GenesisBuilder.Sample.Value.Eip712Domain.Version, GenesisBuilder.Sample.Value.ChainId));
        Assert.Equal(SignatureCheck.HighS, Secp256k1.Default.Recover(digest, HighS(good.Signature), out _));

        await using var node = await SoloNodeAsync(_directory);
        var result = await node.SubmitAsync(Bytes(good with { Signature = HighS(good.Signature) }), false, Deadline());
        Assert.Equal(AdmissionCode.BadSignature, result.Code);
        Assert.Contains("HighS", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replays_duplicates_taken_nonces_and_nonces_too_far_ahead_are_refused_and_change_nothing()
    {
        await using var node = await IdleNodeAsync(_directory, new LedgerNodeOptions { MaxNonceGap = 2 });
        var first = Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(0);
        Assert.True((await node.SubmitAsync(Bytes(first), false, Deadline())).IsAccepted);

        var duplicate = await node.SubmitAsync(Bytes(first), false, Deadline());
        var sameNonce = await node.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(0)), false, Deadline());
        var held = await node.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(3)), false, Deadline());
        var tooFar = await node.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(4)), false, Deadline());

        Assert.Equal(AdmissionCode.AlreadyPending, duplicate.Code);
        Assert.Equal(AdmissionCode.NonceTaken, sameNonce.Code);
        Assert.True(held.IsAccepted, held.ToString());
        Assert.Equal(AdmissionCode.NonceTooFarAhead, tooFar.Code);
        Assert.Equal(2, node.MempoolSize);
        Assert.Equal(0, node.Head.Height);
    }

    [Fact]
    public async Task Concurrent_submissions_are_admitted_in_shared_passes_and_each_caller_gets_its_own_answer()
    {
        await using var node = await IdleNodeAsync(_directory);
        var transactions = Enumerable.Range(0, 40).Select(n => Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed((ulong)n))).ToList();
        var outsider = Bytes(Build.A.CreditRecord.By(TestKeys.Outsider).Signed(0));

        // Each transaction twice, plus one from a non-member, all at once: the writer admits whatever is queued in one pass.
        var results = await Task.WhenAll(transactions.Concat(transactions).Append(outsider)
            .Select(bytes => Task.Run(() => node.SubmitAsync(bytes, waitForCommit: false, Deadline()).AsTask())));

        for (var i = 0; i < transactions.Count; i++)
        {
            var (first, second) = (results[i], results[i + transactions.Count]);
            Assert.Equal(first.Id, second.Id);
            Assert.True(first.IsAccepted ^ second.IsAccepted, $"{first} / {second}");
            Assert.Equal(AdmissionCode.AlreadyPending, first.IsAccepted ? second.Code : first.Code);
        }

        Assert.Equal(AdmissionCode.NotAMember, results[^1].Code);
        Assert.Equal(transactions.Count, node.MempoolSize);
    }

    [Fact]
    public async Task With_one_intake_turn_concurrent_submissions_take_turns_and_each_is_answered()
    {
        await using var node = await IdleNodeAsync(_directory, new LedgerNodeOptions { IntakeConcurrency = 1 });
        var transactions = Enumerable.Range(0, 40).Select(n => Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed((ulong)n))).ToList();
        var malformed = new byte[] { 0xde, 0xad, 0xbe, 0xef };

        // The malformed ones are refused while holding the only turn: each must give it back, or the rest never get one.
        var results = await Task.WhenAll(Enumerable.Repeat(malformed, 5).Concat(transactions)
            .Select(bytes => Task.Run(() => node.SubmitAsync(bytes, waitForCommit: false, Deadline()).AsTask())));

        Assert.All(results[..5], r => Assert.Equal(AdmissionCode.Malformed, r.Code));
        Assert.All(results[5..], r => Assert.True(r.IsAccepted, r.ToString()));
        Assert.Equal(transactions.Count, node.MempoolSize);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void An_intake_concurrency_below_one_is_refused_by_the_options_check(int value)
    {
        var errors = new LedgerNodeOptions { IntakeConcurrency = value }.Validate();

        Assert.Contains(errors, e => e.StartsWith("IntakeConcurrency must be at least 1", StringComparison.Ordinal));
        Assert.Empty(new LedgerNodeOptions { IntakeConcurrency = 1 }.Validate());
        Assert.Equal(Math.Max(1, Environment.ProcessorCount - 1), new LedgerNodeOptions().EffectiveIntakeConcurrency);
    }

    [Fact]
    public async Task Submissions_still_queued_when_the_node_stops_are_answered_unavailable_not_left_waiting()
    {
        var node = await IdleNodeAsync(_directory);
        var submissions = Enumerable.Range(0, 40)
            .Select(n => Task.Run(() => node.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed((ulong)n)), waitForCommit: false, Deadline()).AsTask()))
            .ToList();

        await node.DisposeAsync();
        var results = await Task.WhenAll(submissions).WaitAsync(TimeSpan.FromSeconds(60)); // a hang guard, not a timing assertion

        Assert.All(results, r => Assert.True(r.IsAccepted || r.Code == AdmissionCode.Unavailable, r.ToString()));
    }

    [Fact]
    public async Task A_replay_of_a_committed_transaction_is_refused_as_a_reused_nonce()
    {
        await using var node = await SoloNodeAsync(_directory);
        var tx = Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(0));
        Assert.Equal(TransactionState.Committed, (await node.SubmitAsync(tx, true, Deadline())).Outcome!.State);
        var root = node.Head.StateRoot;

        var replay = await node.SubmitAsync(tx, true, Deadline());

        Assert.Equal(AdmissionCode.NonceReused, replay.Code);
        Assert.Equal(root, node.Head.StateRoot);
        Assert.Equal(1, node.Head.Height);
    }

    [Fact]
    public async Task A_full_mempool_refuses_with_a_clear_reason_and_a_full_signer_queue_too()
    {
        await using var node = await IdleNodeAsync(_directory, new LedgerNodeOptions { MempoolCapacity = 3, MaxTransactionsPerSigner = 2 });
        var results = new List<SubmitResult>();
        foreach (var tx in new[]
        {
            Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(0),
            Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(1),
            Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(2),
            Build.A.CreditRecord.By(TestKeys.TianjinRegulator).Signed(0),
            Build.A.CreditRecord.By(TestKeys.HebeiRegulator).Signed(0),
        })
        {
            results.Add(await node.SubmitAsync(Bytes(tx), false, Deadline()));
        }

        Assert.Equal([AdmissionCode.Accepted, AdmissionCode.Accepted, AdmissionCode.SignerQueueFull, AdmissionCode.Accepted, AdmissionCode.MempoolFull], results.Select(r => r.Code));
        Assert.Contains("limit 3", results[4].Reason, StringComparison.Ordinal);
        Assert.Equal(3, node.MempoolSize);
    }

    [Fact]
    public async Task A_batch_is_verified_together_and_answered_in_order_with_each_verdict()
    {
        await using var node = await IdleNodeAsync(_directory);
        var good = Enumerable.Range(0, 40).Select(i => Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed((ulong)i))).ToList();
        var forged = Build.A.CreditRecord.By(TestKeys.TianjinRegulator).Signed(0);
        var batch = good.Select(b => (ReadOnlyMemory<byte>)b).ToList();
        batch.Insert(10, Bytes(forged with { Signer = TestKeys.HebeiRegulator.Address }));
        batch.Insert(20, new byte[] { 0 });

        var results = await node.SubmitManyAsync(batch, waitForCommit: false, Deadline());

        Assert.Equal(42, results.Count);
        Assert.Equal(AdmissionCode.SignerMismatch, results[10].Code);
        Assert.Equal(AdmissionCode.Malformed, results[20].Code);
        Assert.Equal(40, results.Count(r => r.IsAccepted));
        Assert.Equal(40, node.MempoolSize);
    }
}
