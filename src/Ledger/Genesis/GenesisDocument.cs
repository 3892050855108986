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
    ChainParameters Parameters);

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
