using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Testing.TestKit;

/// <summary>
/// A seeded source of plausible transactions, valid and not: ids come from small pools so that duplicates,
/// unknown ids and wrong actors happen often; a few envelopes get a wrong nonce, chain or signature.
/// </summary>
public sealed class RandomTransactions(int seed)
{
    private static readonly string[] Subjects = [TestKeys.Company, TestKeys.OtherCompany, "uscc:91440300708461136T", "person:0x" + new string('a', 64), "uscc:914403001922038217"];
    private static readonly string[] Divisions = ["110105", "120101", "130102", "133100", "130629", "440300"];
    private static readonly string[] Measures = ["restrict-high-consumption", "ban-public-procurement", "green-channel"];
    private static readonly string[] RegionCodes = ["BJ", "TJ", "HE", "XA"];
    private static readonly TestKey[] Signers = [.. TestKeys.Members, TestKeys.Outsider];
    private readonly Random _random = new(seed);
    private readonly Dictionary<string, int> _counts = [];

    /// <summary>
    /// The next transaction: four times in five a signer with the role the kind needs, acting in its own region
    /// with consistent fields; otherwise any party with arbitrary fields.
    /// </summary>
    public (TestKey Signer, ITransactionBody Body) Next(ulong now)
    {
        var kind = _random.Next(18);
        var valid = _random.Next(5) != 0;
        var signer = valid ? Pick(kind switch
        {
            <= 4 => TestKeys.Members.Take(5).ToArray(),
            >= 7 and <= 12 or 16 => TestKeys.Members.Take(4).ToArray(),
            13 or 14 => [TestKeys.BeijingCourt, TestKeys.TianjinRegulator],
            15 => [TestKeys.JointCreditOffice],
            _ => [.. TestKeys.Members],
        }) : Pick(Signers);
        return (signer, Body(kind, valid, signer, now));
    }

    /// <summary>How far the clock moves before the next transaction: mostly hours, sometimes months.</summary>
    public TimeSpan NextPause() => _random.Next(10) == 0 ? TimeSpan.FromDays(_random.Next(30, 200)) : TimeSpan.FromHours(_random.Next(0, 48));

    /// <summary>0 = correct nonce; otherwise a replay or a gap.</summary>
    public int NextNonceError() => _random.Next(20) switch { 0 => -1, 1 => 1, _ => 0 };

    public int NextEnvelopeDamage() => _random.Next(100) switch { 0 => 1, 1 => 2, 2 => 3, _ => 0 };

    private ITransactionBody Body(int kind, bool valid, TestKey signer, ulong now)
    {
        // Ids live in pools per owner (designator, initiator), so that a valid follow-up names its own objects.
        var own = valid ? signer.Seed : Pick(Signers).Seed;
        var designator = Pick(TestKeys.Members.Take(5).ToArray()).Seed;
        var record = kind <= 1 ? NewId($"record-{own}") : OldId($"record-{own}");
        var licence = Licence(signer);
        var division = valid ? DivisionIn(signer.Region) : Pick(Divisions);
        var (category, severity, months, grade) = valid ? ConsistentRecord() : ((RecordCategory)_random.Next(0, 5), (Severity)_random.Next(0, 4), (uint)_random.Next(0, 40), "");
        return kind switch
        {
            0 or 1 => new CreditRecordSubmit(record, Pick(Subjects), category, severity, division, now - (ulong)_random.Next(0, 60_000_000), months, "Administrative Penalty Law", grade, Id("payload", 3)),
            2 => new CreditRecordAmend(record, severity, months, "basis", Id("payload", 3), "amend"),
            3 => new CreditRecordRepair(record, "repair"),
            4 => new CreditRecordAnnul(record, "annul"),
            5 => new ObjectionFile(NewId($"objection-{designator}"), OldId($"record-{designator}"), Id("grounds", 2)),
            6 => new ObjectionResolve(OldId($"objection-{own}"), (ObjectionOutcome)_random.Next(0, 4), Id("answer", 2)),
            7 => new LicenceIssue(Licence(signer, fresh: true), Pick(Subjects), "Business licence", division, now, now + (ulong)_random.Next(1, 50_000_000), Id("file", 3)),
            8 => new LicenceSuspend(licence, "suspend"),
            9 => new LicenceResume(licence, "resume"),
            10 => new LicenceRevoke(licence, _random.Next(2) == 0, "revoke"),
            11 => new LicenceCancel(licence, "cancel"),
            12 => new LicenceChange(licence, Licence(signer), now, now + (ulong)_random.Next(1, 50_000_000), Id("file", 3), "change"),
            13 => new ListEntryAdd(NewId($"entry-{own}"), Pick(Subjects), (ListColour)_random.Next(1, 3), _random.Next(2) == 0 ? "court-defaulter" : "tax-a-grade", "Civil Procedure Law", division, now, _random.Next(3) == 0 ? now + (ulong)_random.Next(1, 30_000_000) : 0),
            14 => new ListEntryRemove(OldId($"entry-{own}"), "remove"),
            15 => new MemorandumPublish(NewId("memo"), "memorandum", (ListColour)_random.Next(1, 3), _random.Next(2) == 0 ? "court-defaulter" : "tax-a-grade", [.. Measures.Where(_ => _random.Next(2) == 0).DefaultIfEmpty("ban-public-procurement")], [.. RegionCodes.Where(r => r == "BJ" || _random.Next(3) != 0)], now, _random.Next(3) == 0 ? now + (ulong)_random.Next(1, 30_000_000) : 0),
            16 => new MeasureFeedback(NewId("feedback"), OldId($"entry-{Pick([TestKeys.BeijingCourt, TestKeys.TianjinRegulator]).Seed}"), OldId("memo"), Pick(Measures), (FeedbackOutcome)_random.Next(1, 4), now),
            _ => _random.Next(2) == 0
                ? new GovernancePropose(NewId("proposal"), (GovernanceAction)_random.Next(1, 6), Pick(Signers.Append(new TestKey(105, "v", "", "BJ")).ToArray()).Address, "91110000802100433B", "candidate", Pick(RegionCodes), (MemberRole)_random.Next(1, 32))
                : new GovernanceVote(OldId("proposal"), _random.Next(4) != 0),
        };
    }

    private static string DivisionIn(string region) => region switch { "BJ" => "110105", "TJ" => "120101", "HE" => "130102", _ => "130629" };

    private (RecordCategory, Severity, uint, string) ConsistentRecord() => _random.Next(6) switch
    {
        0 => (RecordCategory.AdministrativePenalty, Severity.Minor, (uint)_random.Next(0, 4), ""),
        1 => (RecordCategory.AdministrativePenalty, Severity.Moderate, (uint)_random.Next(3, 13), ""),
        2 => (RecordCategory.AdministrativePenalty, Severity.Serious, (uint)_random.Next(12, 37), ""),
        3 => (RecordCategory.CourtDefaulter, Severity.None, (uint)_random.Next(24, 61), ""),
        4 => (RecordCategory.TaxGrade, Severity.None, 12u, "ABMCD"[_random.Next(5)].ToString()),
        _ => (RecordCategory.Honour, Severity.None, 12u, ""),
    };

    private string Licence(TestKey signer, bool fresh = false)
    {
        var pool = $"licence-{signer.Seed}";
        var count = _counts.GetValueOrDefault(pool);
        var number = fresh ? count : Math.Max(0, count - 1 - _random.Next(Math.Min(count, 4) + 1));
        _counts[pool] = fresh ? count + 1 : count;
        var issuer = _random.Next(10) == 0 ? TestKeys.Outsider.Uscc : signer.Uscc;
        return LicenceIdentifier.Compose(LicenceBuilder.TypeCode, issuer, "N" + number, fresh ? 1 : _random.Next(1, 3));
    }

    private Hash256 Id(string pool, int size) => Build.Id($"{pool}-{_random.Next(size)}");

    /// <summary>Mostly a fresh id of the pool; sometimes one already used (a duplicate).</summary>
    private Hash256 NewId(string pool)
    {
        var count = _counts.GetValueOrDefault(pool);
        if (count > 0 && _random.Next(10) == 0)
        {
            return Build.Id($"{pool}-{_random.Next(count)}");
        }

        _counts[pool] = count + 1;
        return Build.Id($"{pool}-{count}");
    }

    /// <summary>A recent id of the pool, sometimes one never created (unknown).</summary>
    private Hash256 OldId(string pool)
    {
        var count = _counts.GetValueOrDefault(pool);
        return Build.Id($"{pool}-{Math.Max(0, count - 1 - _random.Next(Math.Min(count, 8) + 1))}");
    }

    private T Pick<T>(T[] items) => items[_random.Next(items.Length)];
}
