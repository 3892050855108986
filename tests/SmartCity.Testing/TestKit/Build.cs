using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.State;

namespace SmartCity.Testing.TestKit;

/// <summary>Test data builders that read as sentences: <c>Build.A.CreditRecord.By(member).For(subject)</c>.</summary>
public sealed class Build
{
    public static Build A { get; } = new();

    public static Build An => A;

    public GenesisBuilder Genesis => new();

    public CreditRecordBuilder CreditRecord => new();

    public LicenceBuilder Licence => new();

    public ListEntryBuilder ListEntry => new();

    public MemorandumBuilder Memorandum => new();

    /// <summary>A deterministic id from a readable name, e.g. <c>Build.Id("record-1")</c>.</summary>
    public static Hash256 Id(string name) => Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(name));

    private static int _sequence;

    internal static Hash256 NextId(string prefix) => Id($"{prefix}-{Interlocked.Increment(ref _sequence)}");
}

/// <summary>Starts from the sample genesis and changes what a test needs.</summary>
public sealed class GenesisBuilder
{
    private readonly Dictionary<Address, TestKey> _keys = TestKeys.Members.Concat(TestKeys.Validators).Append(TestKeys.Outsider).ToDictionary(k => k.Address);
    private GenesisDocument _genesis = Sample.Value;
    private CryptoSuiteId _suite = CryptoSuiteId.Eth;
    private string? _sm2Id;

    /// <summary>The sample genesis as a chain of <paramref name="suite"/> (gm: every test key's address is its SM2 address).</summary>
    public static GenesisDocument SampleIn(CryptoSuiteId suite) => new GenesisBuilder().InSuite(suite).TestObject;

    /// <summary>
    /// The genesis in <paramref name="suite"/>: <c>"crypto"</c> set and every member's and validator's address that is a
    /// test key's replaced by that key's address in the suite (for gm, with <paramref name="sm2Id"/> when given).
    /// </summary>
    public GenesisBuilder InSuite(CryptoSuiteId suite, string? sm2Id = null)
    {
        _suite = suite;
        _sm2Id = sm2Id;
        return this;
    }

    public static Lazy<GenesisDocument> Sample { get; } = new(() =>
        GenesisLoader.Load(RepositoryFiles.Read("contracts/genesis/sample-genesis.json")).Document
        ?? throw new InvalidOperationException("the sample genesis does not load"));

    public GenesisBuilder WithMember(TestKey key, MemberRole roles)
    {
        ArgumentNullException.ThrowIfNull(key);
        _keys[key.Address] = key;
        _genesis = _genesis with { Members = [.. _genesis.Members.Where(m => m.Address != key.Address), new GenesisMember(key.Address, UnifiedSocialCreditCode.Parse(key.Uscc).Value, key.Name, key.Region, roles)] };
        return this;
    }

    public GenesisBuilder WithOnlyMembers(params TestKey[] keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys)
        {
            _keys[key.Address] = key;
        }

        _genesis = _genesis with { Members = [.. keys.Select(k => new GenesisMember(k.Address, UnifiedSocialCreditCode.Parse(k.Uscc).Value, k.Name, k.Region, MemberRoles.All))] };
        return this;
    }

    public GenesisBuilder WithGovernance(GovernanceRule rule)
    {
        _genesis = _genesis with { Parameters = _genesis.Parameters with { Governance = rule } };
        return this;
    }

    public GenesisBuilder WithMaxTransactionBytes(int bytes)
    {
        _genesis = _genesis with { Parameters = _genesis.Parameters with { MaxTransactionBytes = bytes } };
        return this;
    }

    public GenesisDocument TestObject
    {
        get
        {
            if (_suite == CryptoSuiteId.Eth)
            {
                return _genesis;
            }

            Address In(Address address) => _keys.TryGetValue(address, out var key) ? key.AddressIn(_suite) : address;
            return _genesis with
            {
                Members = [.. _genesis.Members.Select(m => m with { Address = In(m.Address) })],
                Validators = [.. _genesis.Validators.Select(v => v with { Address = In(v.Address) })],
                Crypto = new GenesisCrypto(_suite, _sm2Id ?? SmartCity.Ledger.Crypto.Gm.Sm2.DefaultDistinguishingId),
            };
        }
    }
}

/// <summary>Common part of transaction builders: who signs.</summary>
public abstract class TransactionBuilder<TSelf>
    where TSelf : TransactionBuilder<TSelf>
{
    public TestKey Signer { get; private set; } = TestKeys.BeijingRegulator;

    public TSelf By(TestKey signer)
    {
        Signer = signer;
        return (TSelf)this;
    }

    public abstract ITransactionBody Body();

    /// <summary>Signed under the sample genesis domain with the given nonce.</summary>
    public SignedTransaction Signed(ulong nonce = 0) => TestLedger.Sign(GenesisBuilder.Sample.Value, Signer, Body(), nonce);

    /// <summary>Signed by the signer's key in <paramref name="genesis"/>'s suite, under its domain, with the given nonce.</summary>
    public SignedTransaction SignedIn(GenesisDocument genesis, ulong nonce = 0) => TestLedger.Sign(genesis, Signer, Body(), nonce);
}

public sealed class CreditRecordBuilder : TransactionBuilder<CreditRecordBuilder>
{
    private Hash256 _id = Build.NextId("record");
    private string _subject = TestKeys.Company;
    private RecordCategory _category = RecordCategory.AdministrativePenalty;
    private Severity _severity = Severity.Moderate;
    private uint _months = 6;
    private string _division = "110105";
    private ulong _decidedAt = LedgerTime.ToUnixSeconds(GenesisBuilder.Sample.Value.GenesisTime);
    private string _grade = string.Empty;
    private string _legalBasis = "Administrative Penalty Law, art. 28";

    public Hash256 Id => _id;

    public CreditRecordBuilder Citing(string legalBasis)
    {
        _legalBasis = legalBasis;
        return this;
    }

    public CreditRecordBuilder WithId(Hash256 id)
    {
        _id = id;
        return this;
    }

    public CreditRecordBuilder For(string subject)
    {
        _subject = subject;
        return this;
    }

    public CreditRecordBuilder For(Subject subject) => For(subject.Text);

    public CreditRecordBuilder Penalty(Severity severity, uint months)
    {
        (_category, _severity, _months) = (RecordCategory.AdministrativePenalty, severity, months);
        return this;
    }

    public CreditRecordBuilder Of(RecordCategory category, uint months, string grade = "")
    {
        (_category, _severity, _months, _grade) = (category, Severity.None, months, grade);
        return this;
    }

    public CreditRecordBuilder InDivision(string divisionCode)
    {
        _division = divisionCode;
        return this;
    }

    public CreditRecordBuilder DecidedAt(DateTimeOffset time)
    {
        _decidedAt = LedgerTime.ToUnixSeconds(time);
        return this;
    }

    public override ITransactionBody Body() => new CreditRecordSubmit(_id, _subject, _category, _severity, _division, _decidedAt, _months, _legalBasis, _grade, Build.Id("payload"));
}

public sealed class LicenceBuilder : TransactionBuilder<LicenceBuilder>
{
    /// <summary>The type code of the GB/T 36904 example (a defining authority's USCC + 032).</summary>
    public const string TypeCode = "11100000000013338W032";

    private string _number = "2430599";
    private int _version = 1;
    private string _holder = TestKeys.Company;
    private string _area = "110105";
    private ulong _validFrom = LedgerTime.ToUnixSeconds(GenesisBuilder.Sample.Value.GenesisTime);
    private ulong _validTo = LedgerTime.ToUnixSeconds(GenesisBuilder.Sample.Value.GenesisTime.AddYears(5));
    private string? _identifier;

    public string Identifier => _identifier ?? LicenceIdentifier.Compose(TypeCode, Signer.Uscc, _number, _version);

    public LicenceBuilder Numbered(string number)
    {
        _number = number;
        return this;
    }

    public LicenceBuilder Version(int version)
    {
        _version = version;
        return this;
    }

    public LicenceBuilder WithIdentifier(string identifier)
    {
        _identifier = identifier;
        return this;
    }

    public LicenceBuilder HeldBy(string holder)
    {
        _holder = holder;
        return this;
    }

    public LicenceBuilder InArea(string areaCode)
    {
        _area = areaCode;
        return this;
    }

    public LicenceBuilder ValidUntil(DateTimeOffset time)
    {
        _validTo = LedgerTime.ToUnixSeconds(time);
        return this;
    }

    public LicenceBuilder ValidBetween(ulong from, ulong to)
    {
        (_validFrom, _validTo) = (from, to);
        return this;
    }

    public override ITransactionBody Body() => new LicenceIssue(Identifier, _holder, "Business licence", _area, _validFrom, _validTo, Build.Id("file"));
}

public sealed class ListEntryBuilder : TransactionBuilder<ListEntryBuilder>
{
    private Hash256 _id = Build.NextId("entry");
    private string _subject = TestKeys.Company;
    private ListColour _colour = ListColour.Black;
    private string _listType = "court-defaulter";
    private string _division = "110105";
    private ulong _expiresAt;

    public Hash256 Id => _id;

    public ListEntryBuilder WithId(Hash256 id)
    {
        _id = id;
        return this;
    }

    public ListEntryBuilder For(string subject)
    {
        _subject = subject;
        return this;
    }

    public ListEntryBuilder On(ListColour colour, string listType)
    {
        (_colour, _listType) = (colour, listType);
        return this;
    }

    public ListEntryBuilder InDivision(string divisionCode)
    {
        _division = divisionCode;
        return this;
    }

    public ListEntryBuilder ExpiringAt(DateTimeOffset time)
    {
        _expiresAt = LedgerTime.ToUnixSeconds(time);
        return this;
    }

    public override ITransactionBody Body() => new ListEntryAdd(_id, _subject, _colour, _listType, "Civil Procedure Law, art. 262", _division, LedgerTime.ToUnixSeconds(GenesisBuilder.Sample.Value.GenesisTime), _expiresAt);
}

public sealed class MemorandumBuilder : TransactionBuilder<MemorandumBuilder>
{
    private Hash256 _id = Build.NextId("memo");
    private ListColour _colour = ListColour.Black;
    private string _listType = "court-defaulter";
    private string[] _measures = ["restrict-high-consumption", "ban-public-procurement"];
    private string[] _regions = ["BJ", "TJ", "HE", "XA"];
    private ulong _effectiveTo;

    public MemorandumBuilder() => By(TestKeys.JointCreditOffice);

    public Hash256 Id => _id;

    public MemorandumBuilder WithId(Hash256 id)
    {
        _id = id;
        return this;
    }

    public MemorandumBuilder Covering(ListColour colour, string listType)
    {
        (_colour, _listType) = (colour, listType);
        return this;
    }

    public MemorandumBuilder WithMeasures(params string[] measures)
    {
        _measures = measures;
        return this;
    }

    public MemorandumBuilder InRegions(params string[] regions)
    {
        _regions = regions;
        return this;
    }

    public MemorandumBuilder InForceUntil(DateTimeOffset time)
    {
        _effectiveTo = LedgerTime.ToUnixSeconds(time);
        return this;
    }

    public override ITransactionBody Body() => new MemorandumPublish(_id, "Joint punishment of court-listed defaulters", _colour, _listType, _measures, _regions, LedgerTime.ToUnixSeconds(GenesisBuilder.Sample.Value.GenesisTime), _effectiveTo);
}
