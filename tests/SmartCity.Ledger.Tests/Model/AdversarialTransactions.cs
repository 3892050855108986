using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Model;

/// <summary>One generated transaction: who signs it, with which nonce offset (0 = the right nonce), and its body.</summary>
internal sealed record GeneratedStep(TestKey Signer, int NonceOffset, ITransactionBody Body, string Intent);

/// <summary>
/// A seeded generator of transactions of every kind, built against the model's state so that follow-ups name real
/// objects: most are what an honest member would send (right role, region and owner), the rest are attacks — wrong
/// role, region or owner, removed members and outsiders, boundary enum values, zero, duplicate and unknown ids, text at
/// and over its limit, times in the future, stale votes — and governance keeps moving members in and out.
/// </summary>
internal sealed class AdversarialTransactions(int seed, LedgerModel model, CryptoSuiteId suite)
{
    private const string TypeCode = "11100000000013338W032";
    private static readonly string[] ListTypes = ["court-defaulter", "tax-a-grade"];
    private static readonly string[] Measures = ["restrict-high-consumption", "ban-public-procurement", "green-channel", "fewer-inspections"];
    private static readonly string[] CandidateUsccs = ["91350100M000100Y43", "914403001922038216", "91440300708461136T", "91110000802100433B", "91330100716105852F"];
    private static readonly string[] BadSubjects = ["uscc:914403001922038217", "11010519491231002X", "person:0xABC", ""];
    private static readonly string[] BadTexts = ["", new('x', 513), string.Concat(Enumerable.Repeat("😀", 513)), "basis \uD800"];
    private static readonly string[] GoodEdgeTexts = [new('x', 512), string.Concat(Enumerable.Repeat("😀", 512)), "信用"];

    private static readonly TestKey[] Candidates =
    [
        .. CandidateUsccs.Select((uscc, i) => new TestKey(200 + i, $"candidate {i}", uscc, new[] { "BJ", "TJ", "HE", "XA" }[i % 4])),
    ];

    private static readonly TestKey[] ValidatorCandidates = [new(105, "validator 5", "", "BJ"), new(106, "validator 6", "", "TJ")];

    private readonly Random _random = new(seed);
    private int _sequence;

    /// <summary>Every party that may sign: the sample members, the candidates governance may admit, and an outsider.</summary>
    public static IReadOnlyList<TestKey> Parties { get; } = [.. TestKeys.Members, .. Candidates, TestKeys.Outsider];

    private IEnumerable<Address> ValidatorAddresses => model.Validators;

    /// <summary>Mostly minutes or hours; sometimes days or months, so that periods, deadlines and lifetimes run out.</summary>
    public TimeSpan NextPause() => _random.Next(1000) switch
    {
        < 700 => TimeSpan.FromMinutes(_random.Next(0, 180)),
        < 980 => TimeSpan.FromHours(_random.Next(3, 24)),
        < 997 => TimeSpan.FromDays(_random.Next(1, 20)),
        _ => TimeSpan.FromDays(_random.Next(20, 120)),
    };

    public GeneratedStep Next(ulong now)
    {
        var attack = _random.Next(100) < 30;
        var (signer, body, intent) = _random.Next(100) switch
        {
            < 10 => Submit(now, attack),
            < 15 => Amend(attack),
            < 19 => Repair(attack),
            < 22 => Annul(attack),
            < 28 => FileObjection(attack),
            < 33 => ResolveObjection(attack),
            < 41 => IssueLicence(now, attack),
            < 51 => ChangeLicenceStatus(attack),
            < 55 => ChangeLicence(now, attack),
            < 61 => AddEntry(now, attack),
            < 65 => RemoveEntry(attack),
            < 69 => PublishMemorandum(now, attack),
            < 77 => Feedback(now, attack),
            < 82 => Propose(attack),
            _ => Vote(now, attack),
        };

        if (attack && _random.Next(6) == 0)
        {
            (signer, intent) = (Pick(Parties), intent + ", any party signs");
        }

        var nonceOffset = _random.Next(50) switch { 0 => -1, 1 => 1, _ => 0 };
        return new GeneratedStep(signer, nonceOffset, body, intent);
    }

    private (TestKey, ITransactionBody, string) Submit(ulong now, bool attack)
    {
        var signer = MemberWith(MemberRole.CreditDesignator);
        var (category, severity, months, grade) = ConsistentRecord();
        var body = new CreditRecordSubmit(Fresh("record"), Subject(), category, severity, DivisionIn(Region(signer)), now - (ulong)_random.Next(0, 40_000_000), months, Text(), grade, Id("payload"));
        if (!attack)
        {
            return (signer, body, "submit");
        }

        return _random.Next(11) switch
        {
            0 => (signer, body with { Severity = (Severity)Pick<byte>([0, 4, 5, 9, 200, 255]) }, "submit: boundary severity"),
            1 => (signer, body with { Category = (RecordCategory)Pick<byte>([0, 5, 255]) }, "submit: unknown category"),
            2 => (signer, body with { Grade = Pick(["E", "A", "a", "AA"]) }, "submit: wrong grade"),
            3 => (signer, body with { DecidedAt = now + (ulong)_random.Next(1, 1000) }, "submit: decided in the future"),
            4 => (signer, body with { DivisionCode = Pick(["110105", "120101", "130102", "133100", "130629", "440300", "11010", "1101x5"]) }, "submit: other division"),
            5 => (signer, body with { Subject = Pick(BadSubjects) }, "submit: bad subject"),
            6 => (signer, body with { RecordId = Existing(model.Records.Keys) ?? Hash256.Zero }, "submit: duplicate id"),
            7 => (signer, body with { RecordId = Hash256.Zero }, "submit: zero id"),
            8 => (signer, body with { LegalBasis = Pick(_random.Next(2) == 0 ? BadTexts : GoodEdgeTexts) }, "submit: text at or over its limit"),
            9 => (signer, body with { PublicationMonths = Pick<uint>([0, 2, 3, 11, 12, 13, 23, 24, 36, 37, 60, 61]) }, "submit: boundary period"),
            _ => (Pick(Parties), body, "submit: any party"),
        };
    }

    private (TestKey, ITransactionBody, string) Amend(bool attack)
    {
        var (id, record) = ExistingRecord();
        var signer = Owner(record?.Designator);
        var category = record?.Category ?? RecordCategory.AdministrativePenalty;
        var (severity, months) = category switch
        {
            RecordCategory.AdministrativePenalty => ConsistentPenalty(),
            RecordCategory.CourtDefaulter => (Severity.None, (uint)_random.Next(24, 61)),
            _ => (Severity.None, (uint)_random.Next(1, 37)),
        };
        var body = new CreditRecordAmend(id, severity, months, Text(), Id("payload"), Text());
        return !attack ? (signer, body, "amend") : _random.Next(5) switch
        {
            0 => (signer, body with { Severity = (Severity)Pick<byte>([0, 1, 3, 4, 9, 255]) }, "amend: boundary severity"),
            1 => (signer, body with { PublicationMonths = Pick<uint>([0, 2, 13, 37, 61]) }, "amend: boundary period"),
            2 => (signer, body with { RecordId = Unknown() }, "amend: unknown record"),
            3 => (signer, body with { Reason = Pick(BadTexts) }, "amend: bad reason"),
            _ => (Member(), body, "amend: another member"),
        };
    }

    private (TestKey, ITransactionBody, string) Repair(bool attack)
    {
        var (id, record) = ExistingRecord();
        var body = new CreditRecordRepair(id, Text());
        var signer = Owner(record?.Designator);
        return !attack ? (signer, body, "repair") : _random.Next(3) switch
        {
            0 => (signer, body with { RecordId = Unknown() }, "repair: unknown record"),
            1 => (signer, body with { Reason = Pick(BadTexts) }, "repair: bad reason"),
            _ => (Member(), body, "repair: another member"),
        };
    }

    private (TestKey, ITransactionBody, string) Annul(bool attack)
    {
        var (id, record) = ExistingRecord();
        var body = new CreditRecordAnnul(id, Text());
        var signer = Owner(record?.Designator);
        return !attack ? (signer, body, "annul") : _random.Next(3) switch
        {
            0 => (signer, body with { RecordId = Unknown() }, "annul: unknown record"),
            1 => (signer, body with { Reason = Pick(BadTexts) }, "annul: bad reason"),
            _ => (Member(), body, "annul: another member"),
        };
    }

    private (TestKey, ITransactionBody, string) FileObjection(bool attack)
    {
        var (id, record) = ExistingRecord();
        var signer = Member();
        var body = new ObjectionFile(Fresh("objection"), id, Id("grounds"));
        return !attack ? (signer, body, "objection") : _random.Next(5) switch
        {
            0 => (signer, body with { ObjectionId = Hash256.Zero }, "objection: zero id"),
            1 => (signer, body with { ObjectionId = Existing(model.Objections.Keys) ?? Hash256.Zero }, "objection: duplicate id"),
            2 => (signer, body with { RecordId = Unknown() }, "objection: unknown record"),
            _ => (Owner(record?.Designator), body, "objection: by the designator"),
        };
    }

    private (TestKey, ITransactionBody, string) ResolveObjection(bool attack)
    {
        var open = model.Objections.Where(o => o.Value.Open).Select(o => o.Key).ToList();
        var id = open.Count > 0 && _random.Next(5) != 0 ? Pick(open.ToArray()) : Existing(model.Objections.Keys) ?? Unknown();
        var designator = model.Objections.TryGetValue(id, out var objection) ? model.Records[objection.RecordId].Designator : (Address?)null;
        var signer = Owner(designator);
        var body = new ObjectionResolve(id, (ObjectionOutcome)_random.Next(1, 4), Id("answer"));
        return !attack ? (signer, body, "answer") : _random.Next(3) switch
        {
            0 => (signer, body with { Outcome = (ObjectionOutcome)Pick<byte>([0, 4, 255]) }, "answer: unknown outcome"),
            1 => (signer, body with { ObjectionId = Unknown() }, "answer: unknown objection"),
            _ => (Member(), body, "answer: another member"),
        };
    }

    private (TestKey, ITransactionBody, string) IssueLicence(ulong now, bool attack)
    {
        var signer = MemberWith(MemberRole.LicenceIssuer);
        var identifier = LicenceIdentifier.Compose(TypeCode, Uscc(signer), "N" + Interlocked.Increment(ref _sequence), 1);
        var validTo = now + (ulong)(_random.Next(4) == 0 ? _random.Next(1, 30 * 86_400) : _random.Next(86_400, 100_000_000));
        var body = new LicenceIssue(identifier, Subject(), "Business licence", DivisionIn(Region(signer)), now, validTo, Id("file"));
        return !attack ? (signer, body, "issue") : _random.Next(8) switch
        {
            0 => (signer, body with { Identifier = LicenceIdentifier.Compose(TypeCode, Uscc(signer), "N" + _sequence, 2) }, "issue: version 002"),
            1 => (signer, body with { Identifier = LicenceIdentifier.Compose(TypeCode, Uscc(Member()), "N" + _sequence, 1) }, "issue: another member's USCC"),
            2 => (signer, body with { Identifier = identifier[..^1] + (identifier[^1] == 'A' ? 'B' : 'A') }, "issue: wrong check character"),
            3 => (signer, body with { Identifier = Existing(model.Licences.Keys) ?? identifier }, "issue: duplicate identifier"),
            4 => (signer, body with { AreaCode = Pick(["110105", "120101", "130629", "440300"]) }, "issue: other area"),
            5 => (signer, body with { ValidTo = body.ValidFrom - (ulong)_random.Next(0, 2) }, "issue: validFrom ≥ validTo"),
            6 => (signer, body with { Holder = Pick(BadSubjects) }, "issue: bad holder"),
            _ => (signer, body with { LicenceName = Pick(BadTexts) }, "issue: bad name"),
        };
    }

    private (TestKey, ITransactionBody, string) ChangeLicenceStatus(bool attack)
    {
        // Mostly a licence whose recorded status the kind applies to, so that every transition gets exercised.
        var kind = _random.Next(4);
        var from = kind switch { 0 => LicenceStatus.Valid, 1 => LicenceStatus.Suspended, _ => _random.Next(2) == 0 ? LicenceStatus.Valid : LicenceStatus.Suspended };
        var fitting = model.Licences.Where(l => l.Value.Status == from).Select(l => l.Key).ToArray();
        var identifier = fitting.Length > 0 && _random.Next(4) != 0 ? Pick(fitting) : Existing(model.Licences.Keys) ?? SampleTransactions.Licence;
        var signer = Owner(model.Licences.GetValueOrDefault(identifier)?.Issuer);
        var reason = Text();
        ITransactionBody body = kind switch
        {
            0 => new LicenceSuspend(identifier, reason),
            1 => new LicenceResume(identifier, reason),
            2 => new LicenceRevoke(identifier, _random.Next(2) == 0, reason),
            _ => new LicenceCancel(identifier, reason),
        };
        if (!attack)
        {
            return (signer, body, "licence status");
        }

        var other = _random.Next(3) switch
        {
            0 => LicenceIdentifier.Compose(TypeCode, Uscc(signer), "X" + _random.Next(1000), 1),
            1 => identifier[..^1] + (identifier[^1] == 'A' ? 'B' : 'A'),
            _ => identifier,
        };
        return _random.Next(3) switch
        {
            0 => (signer, Rebuild(body, other, reason), "licence status: unknown or malformed identifier"),
            1 => (signer, Rebuild(body, identifier, Pick(BadTexts)), "licence status: bad reason"),
            _ => (Member(), body, "licence status: another member"),
        };
    }

    private static ITransactionBody Rebuild(ITransactionBody body, string identifier, string reason) => body switch
    {
        LicenceSuspend => new LicenceSuspend(identifier, reason),
        LicenceResume => new LicenceResume(identifier, reason),
        LicenceRevoke r => new LicenceRevoke(identifier, r.AsPenalty, reason),
        _ => new LicenceCancel(identifier, reason),
    };

    private (TestKey, ITransactionBody, string) ChangeLicence(ulong now, bool attack)
    {
        var previous = Existing(model.Licences.Keys) ?? SampleTransactions.Licence;
        var parsed = LicenceIdentifier.Parse(previous).Value;
        var signer = Owner(model.Licences.GetValueOrDefault(previous)?.Issuer);
        var next = parsed.Version < 999 ? parsed.NextVersion() : previous;
        var body = new LicenceChange(previous, next, now, now + (ulong)_random.Next(86_400, 100_000_000), Id("file"), Text());
        return !attack ? (signer, body, "change") : _random.Next(5) switch
        {
            0 => (signer, body with { Identifier = LicenceIdentifier.Compose(parsed.TypeCode, parsed.Issuer.Value, parsed.LicenceNumber, Math.Min(999, parsed.Version + 2)) }, "change: skips a version"),
            1 => (signer, body with { Identifier = LicenceIdentifier.Compose(TypeCode, Uscc(signer), "Y" + _random.Next(1000), parsed.Version + 1) }, "change: other lineage"),
            2 => (signer, body with { ValidTo = now }, "change: validFrom ≥ validTo"),
            3 => (signer, body with { PreviousIdentifier = LicenceIdentifier.Compose(TypeCode, Uscc(signer), "Z" + _random.Next(1000), 1) }, "change: unknown licence"),
            _ => (Member(), body, "change: another member"),
        };
    }

    private (TestKey, ITransactionBody, string) AddEntry(ulong now, bool attack)
    {
        var signer = MemberWith(MemberRole.ListInitiator);
        var effectiveFrom = now - (ulong)_random.Next(0, 86_400) + (ulong)(_random.Next(5) == 0 ? _random.Next(0, 20 * 86_400) : 0);
        var expiresAt = _random.Next(3) == 0 ? effectiveFrom + (ulong)_random.Next(1, 60 * 86_400) : 0;
        var body = new ListEntryAdd(Fresh("entry"), Subject(), (ListColour)_random.Next(1, 3), Pick(ListTypes), Text(), DivisionIn(Region(signer)), effectiveFrom, expiresAt);
        return !attack ? (signer, body, "list") : _random.Next(8) switch
        {
            0 => (signer, body with { Colour = (ListColour)Pick<byte>([0, 3, 255]) }, "list: unknown colour"),
            1 => (signer, body with { EntryId = Hash256.Zero }, "list: zero id"),
            2 => (signer, body with { EntryId = Existing(model.Entries.Keys) ?? Hash256.Zero }, "list: duplicate id"),
            3 => (signer, body with { LegalBasis = Pick(BadTexts) }, "list: no legal basis"),
            4 => (signer, body with { ExpiresAt = effectiveFrom - (ulong)_random.Next(0, 2) }, "list: expires before it starts"),
            5 => (signer, body with { DivisionCode = Pick(["110105", "120101", "133100", "440300"]) }, "list: other division"),
            6 => (signer, body with { Subject = Pick(BadSubjects) }, "list: bad subject"),
            _ => (signer, body with { ListType = Pick(BadTexts) }, "list: bad list type"),
        };
    }

    private (TestKey, ITransactionBody, string) RemoveEntry(bool attack)
    {
        var id = Existing(model.Entries.Keys) ?? Unknown();
        var signer = Owner(model.Entries.GetValueOrDefault(id)?.Initiator);
        var body = new ListEntryRemove(id, Text());
        return !attack ? (signer, body, "unlist") : _random.Next(3) switch
        {
            0 => (signer, body with { EntryId = Unknown() }, "unlist: unknown entry"),
            1 => (signer, body with { Reason = Pick(BadTexts) }, "unlist: bad reason"),
            _ => (Member(), body, "unlist: another member"),
        };
    }

    private (TestKey, ITransactionBody, string) PublishMemorandum(ulong now, bool attack)
    {
        var signer = MemberWith(MemberRole.MemorandumPublisher);
        var regions = model.RegionCodes.Where(r => r == Region(signer) || _random.Next(3) != 0).ToArray();
        var measures = Measures.Where(_ => _random.Next(2) == 0).DefaultIfEmpty(Measures[0]).ToArray();
        var effectiveTo = _random.Next(3) == 0 ? now + (ulong)_random.Next(1, 60 * 86_400) : 0;
        var body = new MemorandumPublish(Fresh("memo"), "Joint memorandum", (ListColour)_random.Next(1, 3), Pick(ListTypes), measures, regions, now - (ulong)_random.Next(0, 3600), effectiveTo);
        return !attack ? (signer, body, "memorandum") : _random.Next(9) switch
        {
            0 => (signer, body with { Regions = [.. model.RegionCodes.Where(r => r != Region(signer))] }, "memorandum: not the publisher's region"),
            1 => (signer, body with { Regions = [.. regions, "SX"] }, "memorandum: unknown region"),
            2 => (signer, body with { Regions = [.. regions, regions[0]] }, "memorandum: duplicate region"),
            3 => (signer, body with { Measures = [] }, "memorandum: no measure"),
            4 => (signer, body with { Measures = [.. measures, measures[0]] }, "memorandum: duplicate measure"),
            5 => (signer, body with { MemorandumId = Hash256.Zero }, "memorandum: zero id"),
            6 => (signer, body with { MemorandumId = Existing(model.Memoranda.Keys) ?? Hash256.Zero }, "memorandum: duplicate id"),
            7 => (signer, body with { Colour = (ListColour)Pick<byte>([0, 3]) }, "memorandum: unknown colour"),
            _ => (signer, body with { EffectiveTo = body.EffectiveFrom }, "memorandum: ends when it starts"),
        };
    }

    private (TestKey, ITransactionBody, string) Feedback(ulong now, bool attack)
    {
        var memoId = Existing(model.Memoranda.Keys) ?? Unknown();
        var memo = model.Memoranda.GetValueOrDefault(memoId);
        var matching = memo is null ? [] : model.Entries.Where(e => e.Value.Colour == memo.Colour && e.Value.ListType == memo.ListType).Select(e => e.Key).ToArray();
        var entryId = matching.Length > 0 && _random.Next(4) != 0 ? Pick(matching) : Existing(model.Entries.Keys) ?? Unknown();
        var implementers = model.Members.Where(m => (m.Value.Roles & MemberRole.MeasureImplementer) != 0 && (memo is null || memo.Regions.Contains(m.Value.Region))).Select(m => Key(m.Key)).ToArray();
        var signer = implementers.Length > 0 ? Pick(implementers) : MemberWith(MemberRole.MeasureImplementer);
        var measure = memo is null ? Pick(Measures) : Pick(memo.Measures.ToArray());
        var body = new MeasureFeedback(Fresh("feedback"), entryId, memoId, measure, (FeedbackOutcome)_random.Next(1, 4), now - (ulong)_random.Next(0, 3600));
        return !attack ? (signer, body, "feedback") : _random.Next(7) switch
        {
            0 => (signer, body with { Measure = "confiscate-passport" }, "feedback: measure not in the memorandum"),
            1 => (signer, body with { Outcome = (FeedbackOutcome)Pick<byte>([0, 4]) }, "feedback: unknown outcome"),
            2 => (signer, body with { AppliedAt = now + 1 }, "feedback: applied in the future"),
            3 => (signer, body with { FeedbackId = Existing((IReadOnlyCollection<Hash256>)model.Feedback) ?? Hash256.Zero }, "feedback: duplicate id"),
            4 => (signer, body with { EntryId = Unknown() }, "feedback: unknown entry"),
            5 => (signer, body with { MemorandumId = Unknown() }, "feedback: unknown memorandum"),
            _ => (MemberWith(MemberRole.MeasureImplementer), body, "feedback: any implementer"),
        };
    }

    private (TestKey, ITransactionBody, string) Propose(bool attack)
    {
        var signer = Member();
        var outside = Parties.Where(p => p != TestKeys.Outsider && !model.Members.ContainsKey(p.AddressIn(suite))).ToArray();
        var roles = (MemberRole)_random.Next(1, 32);
        GovernancePropose body = _random.Next(10) switch
        {
            < 4 when outside.Length > 0 => Admit(Pick(outside), roles),
            < 6 when model.Members.Count > 4 => Action(GovernanceAction.RemoveMember, Key(Pick(model.Members.Keys.ToArray()))),
            < 8 => Action(GovernanceAction.ChangeRoles, Key(Pick(model.Members.Keys.ToArray())), roles),
            8 => Action(GovernanceAction.AddValidator, Pick(ValidatorCandidates)),
            _ => Action(GovernanceAction.RemoveValidator, ValidatorKey()),
        };
        return !attack ? (signer, body, "propose " + body.Action) : _random.Next(8) switch
        {
            0 => (signer, body with { Action = GovernanceAction.AddMember, Target = Pick(outside.Length > 0 ? outside : Candidates).AddressIn(suite), Uscc = Pick(model.Members.Values.ToArray()).Uscc }, "propose: a current member's USCC"),
            1 => (signer, body with { Target = Address.Zero }, "propose: zero target"),
            2 => (signer, body with { Action = (GovernanceAction)Pick<byte>([0, 6, 255]) }, "propose: unknown action"),
            3 => (signer, body with { Region = Pick(["SX", "", "bj"]) }, "propose: unknown region"),
            4 => (signer, body with { Roles = (MemberRole)Pick<uint>([0, 32, 33, uint.MaxValue]) }, "propose: unknown roles"),
            5 => (signer, body with { Name = Pick(BadTexts), Uscc = Pick(["", "91350100M000100Y4Z", body.Uscc]) }, "propose: bad name or USCC"),
            6 => (signer, body with { ProposalId = _random.Next(2) == 0 ? Hash256.Zero : Existing(model.Proposals.Keys) ?? Hash256.Zero }, "propose: zero or duplicate id"),
            _ => (signer, body with { Action = GovernanceAction.AddMember, Target = Key(Pick(model.Members.Keys.ToArray())).AddressIn(suite) }, "propose: admit a member again"),
        };

        GovernancePropose Admit(TestKey who, MemberRole r)
        {
            // A returning sample member may come back in another region or under another USCC.
            var region = _random.Next(3) == 0 ? Pick(model.RegionCodes.ToArray()) : who.Region;
            var uscc = _random.Next(4) == 0 ? Pick(CandidateUsccs) : who.Uscc;
            return new GovernancePropose(Fresh("proposal"), GovernanceAction.AddMember, who.AddressIn(suite), uscc, who.Name, region, r);
        }

        GovernancePropose Action(GovernanceAction action, TestKey who, MemberRole r = MemberRole.None)
            => new(Fresh("proposal"), action, who.AddressIn(suite), who.Uscc, who.Name, who.Region, r);
    }

    private (TestKey, ITransactionBody, string) Vote(ulong now, bool attack)
    {
        var late = _random.Next(10) == 0; // sometimes a proposal past its lifetime
        var open = model.Proposals.Where(p => p.Value.Status == ProposalStatus.Open && (now < p.Value.ExpiresAt) != late).Select(p => p.Key).ToArray();
        var id = open.Length > 0 && _random.Next(6) != 0 ? Pick(open) : Existing(model.Proposals.Keys) ?? Unknown();
        var voted = model.Proposals.TryGetValue(id, out var proposal) ? proposal.Voters.Keys.ToHashSet() : [];
        var fresh = model.Members.Keys.Where(m => !voted.Contains(m)).ToArray();
        var signer = fresh.Length > 0 ? Key(Pick(fresh)) : Member();
        var body = new GovernanceVote(id, _random.Next(4) != 0);
        return !attack ? (signer, body, "vote") : _random.Next(3) switch
        {
            0 => (voted.Count > 0 ? Key(Pick(voted.ToArray())) : signer, body, "vote: a second vote or a removed voter"),
            1 => (signer, body with { ProposalId = Unknown() }, "vote: unknown proposal"),
            _ => (signer, body with { Approve = false }, "vote: reject"),
        };
    }

    private (RecordCategory, Severity, uint, string) ConsistentRecord() => _random.Next(6) switch
    {
        < 3 => Penalty(ConsistentPenalty()),
        3 => (RecordCategory.CourtDefaulter, Severity.None, (uint)_random.Next(24, 61), ""),
        4 => (RecordCategory.TaxGrade, Severity.None, (uint)_random.Next(1, 37), "ABMCD"[_random.Next(5)].ToString()),
        _ => (RecordCategory.Honour, Severity.None, (uint)_random.Next(1, 37), ""),
    };

    private static (RecordCategory, Severity, uint, string) Penalty((Severity Severity, uint Months) p) => (RecordCategory.AdministrativePenalty, p.Severity, p.Months, "");

    private (Severity, uint) ConsistentPenalty() => _random.Next(3) switch
    {
        0 => (Severity.Minor, (uint)_random.Next(0, 4)),
        1 => (Severity.Moderate, (uint)_random.Next(3, 13)),
        _ => (Severity.Serious, (uint)_random.Next(12, 37)),
    };

    private (Hash256, LedgerModel.Record?) ExistingRecord()
    {
        var active = model.Records.Where(r => r.Value.Status == RecordStatus.Active).Select(r => r.Key).ToArray();
        var id = active.Length > 0 && _random.Next(5) != 0 ? Pick(active) : Existing(model.Records.Keys) ?? Unknown();
        return (id, model.Records.GetValueOrDefault(id));
    }

    /// <summary>The owner's key when the owner is known, else any member.</summary>
    private TestKey Owner(Address? owner) => owner is { } address ? Key(address) : Member();

    private TestKey Member() => model.Members.Count > 0 ? Key(Pick(model.Members.Keys.ToArray())) : Pick(Parties);

    private TestKey MemberWith(MemberRole role)
    {
        var holders = model.Members.Where(m => (m.Value.Roles & role) != 0).Select(m => m.Key).ToArray();
        return holders.Length > 0 ? Key(Pick(holders)) : Member();
    }

    private TestKey ValidatorKey()
    {
        var known = TestKeysOfValidators().Where(k => ValidatorAddresses.Contains(k.AddressIn(suite))).ToArray();
        return known.Length > 0 ? Pick(known) : Pick(ValidatorCandidates);
    }

    private static readonly TestKey[] KnownValidatorKeys = [.. Enumerable.Range(101, 4).Select(i => new TestKey(i, $"validator {i}", "", "BJ")), .. ValidatorCandidates];

    private static IEnumerable<TestKey> TestKeysOfValidators() => KnownValidatorKeys;

    private TestKey Key(Address address) => Parties.First(p => p.AddressIn(suite) == address);

    /// <summary>The signer's region and USCC as the ledger knows them now (a re-admitted member may have new ones).</summary>
    private string Region(TestKey key) => model.Members.TryGetValue(key.AddressIn(suite), out var m) ? m.Region : key.Region;

    private string Uscc(TestKey key) => model.Members.TryGetValue(key.AddressIn(suite), out var m) ? m.Uscc : key.Uscc;

    private static string DivisionIn(string region) => region switch { "BJ" => "110105", "TJ" => "120101", "HE" => "130102", _ => "130629" };

    private string Subject() => _random.Next(4) switch
    {
        0 => TestKeys.OtherCompany,
        1 => "person:0x" + Convert.ToHexStringLower(Id("person").Bytes),
        _ => TestKeys.Company,
    };

    private string Text() => _random.Next(20) == 0 ? Pick(GoodEdgeTexts) : "Administrative Penalty Law, art. 28";

    private Hash256 Fresh(string pool) => Build.Id($"{seed}/{pool}/{Interlocked.Increment(ref _sequence)}");

    private Hash256 Unknown() => Build.Id($"unknown/{_random.Next()}");

    private Hash256 Id(string pool) => Build.Id($"{pool}/{_random.Next(4)}");

    /// <summary>An id already used (a follow-up, or a duplicate), or null while there is none.</summary>
    private Hash256? Existing(IReadOnlyCollection<Hash256> ids) => ids.Count == 0 ? null : ids.ElementAt(_random.Next(ids.Count));

    private string? Existing(IReadOnlyCollection<string> identifiers) => identifiers.Count == 0 ? null : identifiers.ElementAt(_random.Next(identifiers.Count));

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];
}
