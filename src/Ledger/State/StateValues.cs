// Canonical value encodings of the state: each record's fields in this order, encoded as CanonicalWriter does.
using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.State;

/// <summary>A member institution: who it is, where it acts and what it may do.</summary>
public sealed partial record MemberState(string Uscc, string Name, string Region, MemberRole Roles) : IStateValue
{
    public void WriteFields(IFieldWriter writer)
    {
        writer.String("uscc", Uscc);
        writer.String("name", Name);
        writer.String("region", Region);
        writer.UInt32("roles", (uint)Roles);
    }

    public static MemberState Read(IFieldReader reader) => new(
        reader.String("uscc"),
        reader.String("name"),
        reader.String("region"),
        (MemberRole)reader.UInt32("roles"));
}

/// <summary>A validator of the consortium.</summary>
public sealed partial record ValidatorState(string Name, string Region) : IStateValue
{
    public void WriteFields(IFieldWriter writer)
    {
        writer.String("name", Name);
        writer.String("region", Region);
    }

    public static ValidatorState Read(IFieldReader reader) => new(
        reader.String("name"),
        reader.String("region"));
}

/// <summary>The validator addresses, sorted, as the consensus engine reads them.</summary>
public sealed partial record ValidatorSetState(IReadOnlyList<string> Addresses) : IStateValue
{
    public void WriteFields(IFieldWriter writer)
    {
        writer.StringArray("addresses", Addresses);
    }

    public static ValidatorSetState Read(IFieldReader reader) => new(
        reader.StringArray("addresses"));
}

/// <summary>A counter: the next nonce of a signer, or the number of members.</summary>
public sealed partial record CounterState(ulong Value) : IStateValue
{
    public void WriteFields(IFieldWriter writer)
    {
        writer.UInt64("value", Value);
    }

    public static CounterState Read(IFieldReader reader) => new(
        reader.UInt64("value"));
}

/// <summary>
/// The chain's parameters as genesis fixed them: the crypto suite by name, the SM2 distinguishing identifier (the
/// default for eth) and the suite's hash of the whole genesis document (<see cref="Genesis.GenesisCommitment"/>), so the
/// genesis state root, and with it the genesis block's hash, commits to every chain parameter.
/// </summary>
public sealed partial record ChainParametersState(string Crypto, string Sm2Id, Hash256 GenesisDigest) : IStateValue
{
    public void WriteFields(IFieldWriter writer)
    {
        writer.String("crypto", Crypto);
        writer.String("sm2Id", Sm2Id);
        writer.Bytes32("genesisDigest", GenesisDigest);
    }

    public static ChainParametersState Read(IFieldReader reader) => new(
        reader.String("crypto"),
        reader.String("sm2Id"),
        reader.Bytes32("genesisDigest"));
}

/// <summary>The current version of a credit record (each version is also kept under record/{id}/v/{n}).</summary>
public sealed partial record CreditRecordState(string Subject, RecordCategory Category, Severity Severity, string DivisionCode, string Region, Address Designator, ulong DecidedAt, uint PublicationMonths, string LegalBasis, string Grade, Hash256 PayloadDigest, uint Version, RecordStatus Status, ulong StatusChangedAt, Hash256 OpenObjection) : IStateValue
{
    public void WriteFields(IFieldWriter writer)
    {
        writer.String("subject", Subject);
        writer.UInt8("category", (byte)Category);
        writer.UInt8("severity", (byte)Severity);
        writer.String("divisionCode", DivisionCode);
        writer.String("region", Region);
        writer.Address("designator", Designator);
        writer.UInt64("decidedAt", DecidedAt);
        writer.UInt32("publicationMonths", PublicationMonths);
        writer.String("legalBasis", LegalBasis);
        writer.String("grade", Grade);
        writer.Bytes32("payloadDigest", PayloadDigest);
        writer.UInt32("version", Version);
        writer.UInt8("status", (byte)Status);
        writer.UInt64("statusChangedAt", StatusChangedAt);
        writer.Bytes32("openObjection", OpenObjection);
    }

    public static CreditRecordState Read(IFieldReader reader) => new(
        reader.String("subject"),
        (RecordCategory)reader.UInt8("category"),
        (Severity)reader.UInt8("severity"),
        reader.String("divisionCode"),
        reader.String("region"),
        reader.Address("designator"),
        reader.UInt64("decidedAt"),
        reader.UInt32("publicationMonths"),
        reader.String("legalBasis"),
        reader.String("grade"),
        reader.Bytes32("payloadDigest"),
        reader.UInt32("version"),
        (RecordStatus)reader.UInt8("status"),
        reader.UInt64("statusChangedAt"),
        reader.Bytes32("openObjection"));
}

/// <summary>An objection to a record; Outcome 0 while open.</summary>
public sealed partial record ObjectionState(Hash256 RecordId, Address FiledBy, ulong FiledAt, ulong DeadlineAt, Hash256 GroundsDigest, ObjectionOutcome Outcome, ulong ResolvedAt, Hash256 AnswerDigest) : IStateValue
{
    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("recordId", RecordId);
        writer.Address("filedBy", FiledBy);
        writer.UInt64("filedAt", FiledAt);
        writer.UInt64("deadlineAt", DeadlineAt);
        writer.Bytes32("groundsDigest", GroundsDigest);
        writer.UInt8("outcome", (byte)Outcome);
        writer.UInt64("resolvedAt", ResolvedAt);
        writer.Bytes32("answerDigest", AnswerDigest);
    }

    public static ObjectionState Read(IFieldReader reader) => new(
        reader.Bytes32("recordId"),
        reader.Address("filedBy"),
        reader.UInt64("filedAt"),
        reader.UInt64("deadlineAt"),
        reader.Bytes32("groundsDigest"),
        (ObjectionOutcome)reader.UInt8("outcome"),
        reader.UInt64("resolvedAt"),
        reader.Bytes32("answerDigest"));
}

/// <summary>One version of an e-licence with its recorded status (expiry is computed, see EffectiveStatusAt).</summary>
public sealed partial record LicenceState(string Holder, string LicenceName, string AreaCode, Address Issuer, ulong ValidFrom, ulong ValidTo, Hash256 FileDigest, LicenceStatus Status, ulong StatusChangedAt, string Previous, string Next) : IStateValue
{
    public void WriteFields(IFieldWriter writer)
    {
        writer.String("holder", Holder);
        writer.String("licenceName", LicenceName);
        writer.String("areaCode", AreaCode);
        writer.Address("issuer", Issuer);
        writer.UInt64("validFrom", ValidFrom);
        writer.UInt64("validTo", ValidTo);
        writer.Bytes32("fileDigest", FileDigest);
        writer.UInt8("status", (byte)Status);
        writer.UInt64("statusChangedAt", StatusChangedAt);
        writer.String("previous", Previous);
        writer.String("next", Next);
    }

    public static LicenceState Read(IFieldReader reader) => new(
        reader.String("holder"),
        reader.String("licenceName"),
        reader.String("areaCode"),
        reader.Address("issuer"),
        reader.UInt64("validFrom"),
        reader.UInt64("validTo"),
        reader.Bytes32("fileDigest"),
        (LicenceStatus)reader.UInt8("status"),
        reader.UInt64("statusChangedAt"),
        reader.String("previous"),
        reader.String("next"));
}

/// <summary>A red or black list entry; RemovedAt 0 while not removed, ExpiresAt 0 when open-ended.</summary>
public sealed partial record ListEntryState(string Subject, ListColour Colour, string ListType, string LegalBasis, string DivisionCode, string Region, Address Initiator, ulong EffectiveFrom, ulong ExpiresAt, ulong RemovedAt) : IStateValue
{
    public void WriteFields(IFieldWriter writer)
    {
        writer.String("subject", Subject);
        writer.UInt8("colour", (byte)Colour);
        writer.String("listType", ListType);
        writer.String("legalBasis", LegalBasis);
        writer.String("divisionCode", DivisionCode);
        writer.String("region", Region);
        writer.Address("initiator", Initiator);
        writer.UInt64("effectiveFrom", EffectiveFrom);
        writer.UInt64("expiresAt", ExpiresAt);
        writer.UInt64("removedAt", RemovedAt);
    }

    public static ListEntryState Read(IFieldReader reader) => new(
        reader.String("subject"),
        (ListColour)reader.UInt8("colour"),
        reader.String("listType"),
        reader.String("legalBasis"),
        reader.String("divisionCode"),
        reader.String("region"),
        reader.Address("initiator"),
        reader.UInt64("effectiveFrom"),
        reader.UInt64("expiresAt"),
        reader.UInt64("removedAt"));
}

/// <summary>A joint memorandum in state; EffectiveTo 0 when open-ended.</summary>
public sealed partial record MemorandumState(string Title, ListColour Colour, string ListType, IReadOnlyList<string> Measures, IReadOnlyList<string> Regions, ulong EffectiveFrom, ulong EffectiveTo, Address Publisher) : IStateValue
{
    public void WriteFields(IFieldWriter writer)
    {
        writer.String("title", Title);
        writer.UInt8("colour", (byte)Colour);
        writer.String("listType", ListType);
        writer.StringArray("measures", Measures);
        writer.StringArray("regions", Regions);
        writer.UInt64("effectiveFrom", EffectiveFrom);
        writer.UInt64("effectiveTo", EffectiveTo);
        writer.Address("publisher", Publisher);
    }

    public static MemorandumState Read(IFieldReader reader) => new(
        reader.String("title"),
        (ListColour)reader.UInt8("colour"),
        reader.String("listType"),
        reader.StringArray("measures"),
        reader.StringArray("regions"),
        reader.UInt64("effectiveFrom"),
        reader.UInt64("effectiveTo"),
        reader.Address("publisher"));
}

/// <summary>An implementer's report of a measure applied.</summary>
public sealed partial record FeedbackState(Hash256 EntryId, Hash256 MemorandumId, string Measure, FeedbackOutcome Outcome, ulong AppliedAt, Address Implementer, string Region) : IStateValue
{
    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("entryId", EntryId);
        writer.Bytes32("memorandumId", MemorandumId);
        writer.String("measure", Measure);
        writer.UInt8("outcome", (byte)Outcome);
        writer.UInt64("appliedAt", AppliedAt);
        writer.Address("implementer", Implementer);
        writer.String("region", Region);
    }

    public static FeedbackState Read(IFieldReader reader) => new(
        reader.Bytes32("entryId"),
        reader.Bytes32("memorandumId"),
        reader.String("measure"),
        (FeedbackOutcome)reader.UInt8("outcome"),
        reader.UInt64("appliedAt"),
        reader.Address("implementer"),
        reader.String("region"));
}

/// <summary>
/// A governance proposal and its votes: the addresses that approved (the proposer first) and rejected, in vote order.
/// The tally counts only those that are members at the time of counting.
/// </summary>
public sealed partial record ProposalState(GovernanceAction Action, Address Target, string Uscc, string Name, string Region, MemberRole Roles, Address Proposer, ulong CreatedAt, ulong ExpiresAt, IReadOnlyList<string> Approvers, IReadOnlyList<string> Rejecters, ProposalStatus Status) : IStateValue
{
    public void WriteFields(IFieldWriter writer)
    {
        writer.UInt8("action", (byte)Action);
        writer.Address("target", Target);
        writer.String("uscc", Uscc);
        writer.String("name", Name);
        writer.String("region", Region);
        writer.UInt32("roles", (uint)Roles);
        writer.Address("proposer", Proposer);
        writer.UInt64("createdAt", CreatedAt);
        writer.UInt64("expiresAt", ExpiresAt);
        writer.StringArray("approvers", Approvers);
        writer.StringArray("rejecters", Rejecters);
        writer.UInt8("status", (byte)Status);
    }

    public static ProposalState Read(IFieldReader reader) => new(
        (GovernanceAction)reader.UInt8("action"),
        reader.Address("target"),
        reader.String("uscc"),
        reader.String("name"),
        reader.String("region"),
        (MemberRole)reader.UInt32("roles"),
        reader.Address("proposer"),
        reader.UInt64("createdAt"),
        reader.UInt64("expiresAt"),
        reader.StringArray("approvers"),
        reader.StringArray("rejecters"),
        (ProposalStatus)reader.UInt8("status"));
}

/// <summary>The index of members by USCC: which address holds a USCC (USCCs of current members are unique).</summary>
public sealed partial record MemberUsccState(Address Member) : IStateValue
{
    public void WriteFields(IFieldWriter writer)
    {
        writer.Address("member", Member);
    }

    public static MemberUsccState Read(IFieldReader reader) => new(
        reader.Address("member"));
}
