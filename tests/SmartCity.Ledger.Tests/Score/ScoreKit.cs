using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.Score;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Score;

/// <summary>Scores a <see cref="TestLedger"/>'s state as of its clock, and the transactions the score tests use.</summary>
internal static class ScoreKit
{
    /// <summary>The sample genesis time: records decided at T0 are "n months old" at T0.AddMonths(n).</summary>
    public static DateTimeOffset T0 => GenesisBuilder.Sample.Value.GenesisTime;

    public static TrustScore ScoreOf(this TestLedger ledger, string subject, TrustScorer? scorer = null)
        => (scorer ?? TrustScorer.V1).Score(ledger.State, HeaderAt(ledger.Now, height: 7), Subject.Parse(subject).Value);

    /// <summary>A header at <paramref name="time"/>: the scorer reads only its height, hash and time.</summary>
    public static BlockHeader HeaderAt(DateTimeOffset time, long height)
        => new(GenesisBuilder.Sample.Value.ChainId, height, Build.Id($"parent-{height}"), time.ToUnixTimeMilliseconds(), TestKeys.BeijingRegulator.Address, 0, 0, Rfc6962.EmptyRoot, Build.Id("state-root"), 0, Rfc6962.EmptyRoot, Hash256.Zero);

    /// <summary>Submits a record decided at <paramref name="decidedAt"/> (default T0) and returns its id.</summary>
    public static Hash256 Record(this TestLedger ledger, CreditRecordBuilder record, DateTimeOffset? decidedAt = null)
    {
        record.DecidedAt(decidedAt ?? T0);
        ledger.Accept(record);
        return record.Id;
    }

    public static Hash256 Penalty(this TestLedger ledger, Severity severity, uint months, DateTimeOffset? decidedAt = null, string subject = "uscc:91350100M000100Y43")
        => ledger.Record(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(subject).Penalty(severity, months), decidedAt);

    public static Hash256 Objection(this TestLedger ledger, Hash256 recordId)
    {
        var id = Build.Id($"objection-{recordId}");
        ledger.Accept(TestKeys.TianjinRegulator, new ObjectionFile(id, recordId, Build.Id("grounds")));
        return id;
    }

    public static void MoveTo(this TestLedger ledger, DateTimeOffset time) => ledger.AdvanceTo(time);
}
