using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Domain;

public sealed class BlockBuilderTests
{
    private readonly TestLedger _ledger = TestLedger.Start();

    [Fact]
    public void Applies_transactions_in_order_and_skips_rejected_ones_with_their_reasons()
    {
        var first = Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(nonce: 0);
        var second = Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(nonce: 1); // needs the first one's nonce
        var outsider = Build.A.CreditRecord.By(TestKeys.Outsider).Signed();
        byte[] garbage = [1, 2, 3];

        var body = new BlockBuilder(_ledger.Machine).Build(_ledger.State, [Encode(first), Encode(outsider), garbage, Encode(second), Encode(first)], _ledger.Now);

        Assert.Equal([first.Hash(_ledger.Machine.Domain), second.Hash(_ledger.Machine.Domain)], body.Included.Select(t => t.Hash));
        Assert.Equal(
            [(1, RejectionCode.NotAMember), (2, RejectionCode.Malformed), (4, RejectionCode.NonceReused)],
            body.Skipped.Select(s => (s.Index, s.Code)));
        Assert.All(body.Skipped, s => Assert.False(string.IsNullOrEmpty(s.Reason)));
    }

    [Fact]
    public void The_block_writes_equal_applying_its_transactions_one_by_one()
    {
        var transactions = Enumerable.Range(0, 5).Select(i => Encode(Build.A.CreditRecord.By(TestKeys.TianjinRegulator).InDivision("120101").Signed((ulong)i))).ToList();
        var body = new BlockBuilder(_ledger.Machine).Build(_ledger.State, transactions.Select(t => (ReadOnlyMemory<byte>)t), _ledger.Now);

        var oneByOne = TestLedger.Start();
        foreach (var transaction in transactions)
        {
            Assert.True(oneByOne.Submit(transaction).IsAccepted);
        }

        _ledger.State.Apply(body.Writes);
        Assert.Equal(oneByOne.State.Digest(), _ledger.State.Digest());
        Assert.Equal(body.Writes.OrderBy(w => w.Key), body.Writes);
    }

    [Fact]
    public void Transactions_beyond_the_block_limit_are_deferred_not_rejected()
    {
        var genesis = Build.A.Genesis.TestObject;
        var limited = genesis with { Parameters = genesis.Parameters with { MaxBlockTransactions = 2 } };
        var ledger = TestLedger.Start(limited);
        var transactions = Enumerable.Range(0, 4).Select(i => TransactionCodec.Encode(TestLedger.Sign(limited, TestKeys.HebeiRegulator, Build.A.CreditRecord.InDivision("130102").Body(), (ulong)i))).ToList();

        var body = new BlockBuilder(ledger.Machine).Build(ledger.State, transactions.Select(t => (ReadOnlyMemory<byte>)t), ledger.Now);

        Assert.Equal(2, body.Included.Count);
        Assert.Equal(2, body.Deferred.Count);
        Assert.Empty(body.Skipped);
        Assert.Equal(transactions[..2].Sum(t => t.Length), body.Bytes);
    }

    private static byte[] Encode(SignedTransaction transaction) => TransactionCodec.Encode(transaction);
}
