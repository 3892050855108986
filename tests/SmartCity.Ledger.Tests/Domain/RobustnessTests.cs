using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Domain;

public sealed class RobustnessTests
{
    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    public void Damaged_transactions_are_rejected_as_values_never_as_exceptions(int seed)
    {
        var random = new Random(seed);
        var ledger = TestLedger.Start();
        var originals = SampleTransactions.OfEveryKind.Select(body => TransactionCodec.Encode(ledger.Sign(TestKeys.BeijingRegulator, body))).ToArray();
        for (var i = 0; i < 2000; i++)
        {
            var bytes = (byte[])originals[random.Next(originals.Length)].Clone();
            switch (random.Next(3))
            {
                case 0:
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes = bytes[..random.Next(bytes.Length)];
                    break;
                default:
                    random.NextBytes(bytes.AsSpan(random.Next(bytes.Length)));
                    break;
            }

            var transition = ledger.Machine.Apply(ledger.State, bytes, ledger.Now);
            Assert.NotNull(transition);
            Assert.True(transition.IsAccepted || transition.Writes.Count == 0);
        }
    }
}
