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

    /// <summary>The EIP-712(-shaped) domain every transaction and seal of this chain is signed under, in the chain's suite.</summary>
    public Eip712Domain Domain(CryptoSuite suite) => Eip712Domain.ToDomain(suite);
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
    public CryptoSuite CreateSuite(Microsoft.Extensions.Logging.ILogger? logger = null) => CryptoSuite.Create(Suite, logger, Sm2DistinguishingId);

    /// <summary>
    /// The chain's suite over a caller's signature scheme (native or managed, cached or not): the scheme must be of
    /// this genesis's suite, and an SM2 scheme must use its distinguishing identifier; anything else is a wiring bug
    /// and throws.
    /// </summary>
    public CryptoSuite SuiteOver(ISignatureScheme signatures)
    {
        ArgumentNullException.ThrowIfNull(signatures);
        if (signatures.Suite != Suite)
        {
            throw new ArgumentException($"the chain's genesis names the {Suite.ToName()} crypto suite; the given signature scheme {signatures.Name} is {signatures.Suite.ToName()}", nameof(signatures));
        }

        if (signatures is Crypto.Gm.ISm2 sm2 && !sm2.DistinguishingId.SequenceEqual(System.Text.Encoding.UTF8.GetBytes(Sm2DistinguishingId)))
        {
            throw new ArgumentException($"the chain's genesis names the SM2 distinguishing identifier '{Sm2DistinguishingId}'; the given SM2 scheme uses another", nameof(signatures));
        }

        return CryptoSuite.Over(signatures);
    }
}

/// <summary>The EIP-712 domain every transaction is signed under.</summary>
public sealed record Eip712DomainSpec(string Name, string Version, ulong ChainId)
{
    /// <summary>The domain as the EIP-712 encoder takes it (eth suite).</summary>
    public Eip712Domain ToDomain() => new(Name, Version, ChainId);

    /// <summary>The domain in <paramref name="suite"/>: its separator and digests use the suite's hash.</summary>
    public Eip712Domain ToDomain(CryptoSuite suite) => new(suite, Name, Version, ChainId);
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
