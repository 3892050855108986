using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Domain;

public sealed class RobustnessTests
{
    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    public void Damaged_transactions_are_rejected_as_values_never_as_exceptions_and_change_nothing(int seed)
    {
        var random = new Random(seed);
        var ledger = TestLedger.Start();
        // Only transactions the state accepts as they are, so that every rejection below is the damage's doing.
        var originals = SampleTransactions.OfEveryKind
            .Select(body => TransactionCodec.Encode(ledger.Sign(TestKeys.BeijingRegulator, body)))
            .Where(bytes => ledger.Machine.Apply(ledger.State, bytes, ledger.Now).IsAccepted)
            .ToArray();
        Assert.NotEmpty(originals);
        var rejected = 0;
        for (var i = 0; i < 2000; i++)
        {
            var original = originals[random.Next(originals.Length)];
            var bytes = (byte[])original.Clone();
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

            if (bytes.AsSpan().SequenceEqual(original))
            {
                continue; // the random tail happened to rewrite the same bytes: not damaged
            }

            var transition = ledger.Machine.Apply(ledger.State, bytes, ledger.Now);
            Assert.False(transition.IsAccepted, $"a damaged transaction was accepted: {Convert.ToHexString(bytes)} (from {Convert.ToHexString(original)})");
            Assert.NotEqual(RejectionCode.None, transition.Code);
            Assert.Empty(transition.Writes);
            rejected++;
        }

        Assert.InRange(rejected, 1900, 2000);
    }
}
