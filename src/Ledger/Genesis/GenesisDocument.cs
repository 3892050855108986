using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Regions;

namespace SmartCity.Ledger.Genesis;

/// <summary>The consortium as it starts: a validated genesis file (see docs/domain.md for the JSON format).</summary>
public sealed record GenesisDocument(
    int FormatVersion,
    ulong ChainId,
    DateTimeOffset GenesisTime,
    Eip712DomainSpec Eip712Domain,
    IReadOnlyList<Region> Regions,
    IReadOnlyList<GenesisMember> Members,
    IReadOnlyList<GenesisValidator> Validators,
    ChainParameters Parameters)
{
    /// <summary>The chain's crypto suite (<c>"crypto"</c>; eth when absent), fixed for the chain's life.</summary>
    public GenesisCrypto Crypto { get; init; } = GenesisCrypto.Eth;
}

/// <summary>
/// The genesis's <c>"crypto"</c> choice: the suite, and for gm the SM2 distinguishing identifier hashed into Z
/// (<c>"sm2Id"</c>; GM/T 0009's default <c>1234567812345678</c> when absent).
/// </summary>
public sealed record GenesisCrypto(CryptoSuiteId Suite, string Sm2DistinguishingId)
{
    public static GenesisCrypto Eth { get; } = new(CryptoSuiteId.Eth, Crypto.Gm.Sm2.DefaultDistinguishingId);

    public static GenesisCrypto Gm { get; } = new(CryptoSuiteId.Gm, Crypto.Gm.Sm2.DefaultDistinguishingId);

    /// <summary>The suite this genesis names, on the process's implementations (native when they load).</summary>
    public CryptoSuite CreateSuite(Microsoft.Extensions.Logging.ILogger? logger = null) => Suite switch
    {
        CryptoSuiteId.Eth => logger is null ? CryptoSuite.Eth : CryptoSuite.Over(Secp256k1.Create(logger)),
        _ when logger is null && Sm2DistinguishingId == Crypto.Gm.Sm2.DefaultDistinguishingId => CryptoSuite.Gm,
        _ => CryptoSuite.Over(Crypto.Gm.Sm2.Create(logger, Sm2DistinguishingId)),
    };
}

/// <summary>The EIP-712 domain every transaction is signed under.</summary>
public sealed record Eip712DomainSpec(string Name, string Version, ulong ChainId)
{
    /// <summary>The domain as the EIP-712 encoder takes it.</summary>
    public Eip712Domain ToDomain() => new(Name, Version, ChainId);
}

public sealed record GenesisMember(Address Address, UnifiedSocialCreditCode Uscc, string Name, string Region, MemberRole Roles);

public sealed record GenesisValidator(Address Address, string Name, string Region);

/// <summary>Publication and repair periods of one severity, in calendar months (SAMR Order 107).</summary>
public sealed record PublicationRule(int MinMonths, int MaxMonths, int RepairAfterMonths);

/// <summary>A proposal passes when approvals × denominator &gt; members × numerator (1/2: strict majority).</summary>
public sealed record GovernanceRule(int Numerator, int Denominator)
{
    public static GovernanceRule StrictMajority { get; } = new(1, 2);

    public bool Passes(int approvals, int members) => (long)approvals * Denominator > (long)members * Numerator;
}

public sealed record ChainParameters(
    int MaxBlockTransactions,
    int MaxBlockBytes,
    int MaxTransactionBytes,
    PublicationRule Minor,
    PublicationRule Moderate,
    PublicationRule Serious,
    int ObjectionDeadlineDays,
    int ProposalLifetimeDays,
    GovernanceRule Governance);

/// <summary>One problem in a genesis file: where (a JSON path such as <c>$.members[2].uscc</c>) and why.</summary>
public sealed record GenesisError(string Path, string Reason)
{
    public override string ToString() => $"{Path}: {Reason}";
}
