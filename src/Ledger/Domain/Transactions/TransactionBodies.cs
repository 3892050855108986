// One record per transaction kind. Field order is the canonical order of the binary encoding and of the EIP-712
// struct (after the leading nonce, which the envelope adds); the schemas in contracts/eip712 are generated from it.
using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Domain.Transactions;

/// <summary>A designator publishes a credit record about a subject.</summary>
public sealed record CreditRecordSubmit(Hash256 RecordId, string Subject, RecordCategory Category, Severity Severity, string DivisionCode, ulong DecidedAt, uint PublicationMonths, string LegalBasis, string Grade, Hash256 PayloadDigest) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.CreditRecordSubmit;

    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("recordId", RecordId);
        writer.String("subject", Subject);
        writer.UInt8("category", (byte)Category);
        writer.UInt8("severity", (byte)Severity);
        writer.String("divisionCode", DivisionCode);
        writer.UInt64("decidedAt", DecidedAt);
        writer.UInt32("publicationMonths", PublicationMonths);
        writer.String("legalBasis", LegalBasis);
        writer.String("grade", Grade);
        writer.Bytes32("payloadDigest", PayloadDigest);
    }

    public static CreditRecordSubmit Read(IFieldReader reader) => new(
        reader.Bytes32("recordId"),
        reader.String("subject"),
        (RecordCategory)reader.UInt8("category"),
        (Severity)reader.UInt8("severity"),
        reader.String("divisionCode"),
        reader.UInt64("decidedAt"),
        reader.UInt32("publicationMonths"),
        reader.String("legalBasis"),
        reader.String("grade"),
        reader.Bytes32("payloadDigest"));
}

/// <summary>The designator issues a new version of its record (the old versions stay in state).</summary>
public sealed record CreditRecordAmend(Hash256 RecordId, Severity Severity, uint PublicationMonths, string LegalBasis, Hash256 PayloadDigest, string Reason) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.CreditRecordAmend;

    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("recordId", RecordId);
        writer.UInt8("severity", (byte)Severity);
        writer.UInt32("publicationMonths", PublicationMonths);
        writer.String("legalBasis", LegalBasis);
        writer.Bytes32("payloadDigest", PayloadDigest);
        writer.String("reason", Reason);
    }

    public static CreditRecordAmend Read(IFieldReader reader) => new(
        reader.Bytes32("recordId"),
        (Severity)reader.UInt8("severity"),
        reader.UInt32("publicationMonths"),
        reader.String("legalBasis"),
        reader.Bytes32("payloadDigest"),
        reader.String("reason"));
}

/// <summary>The designator repairs its record once the minimum period has passed (信用修复).</summary>
public sealed record CreditRecordRepair(Hash256 RecordId, string Reason) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.CreditRecordRepair;

    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("recordId", RecordId);
        writer.String("reason", Reason);
    }

    public static CreditRecordRepair Read(IFieldReader reader) => new(
        reader.Bytes32("recordId"),
        reader.String("reason"));
}

/// <summary>The designator annuls a record made in error.</summary>
public sealed record CreditRecordAnnul(Hash256 RecordId, string Reason) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.CreditRecordAnnul;

    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("recordId", RecordId);
        writer.String("reason", Reason);
    }

    public static CreditRecordAnnul Read(IFieldReader reader) => new(
        reader.Bytes32("recordId"),
        reader.String("reason"));
}

/// <summary>A member files a subject's objection (异议) to a record; it must be answered within the deadline.</summary>
public sealed record ObjectionFile(Hash256 ObjectionId, Hash256 RecordId, Hash256 GroundsDigest) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.ObjectionFile;

    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("objectionId", ObjectionId);
        writer.Bytes32("recordId", RecordId);
        writer.Bytes32("groundsDigest", GroundsDigest);
    }

    public static ObjectionFile Read(IFieldReader reader) => new(
        reader.Bytes32("objectionId"),
        reader.Bytes32("recordId"),
        reader.Bytes32("groundsDigest"));
}

/// <summary>The record's designator answers an objection.</summary>
public sealed record ObjectionResolve(Hash256 ObjectionId, ObjectionOutcome Outcome, Hash256 AnswerDigest) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.ObjectionResolve;

    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("objectionId", ObjectionId);
        writer.UInt8("outcome", (byte)Outcome);
        writer.Bytes32("answerDigest", AnswerDigest);
    }

    public static ObjectionResolve Read(IFieldReader reader) => new(
        reader.Bytes32("objectionId"),
        (ObjectionOutcome)reader.UInt8("outcome"),
        reader.Bytes32("answerDigest"));
}

/// <summary>An issuer attests an e-licence (GB/T 36904 identifier; the issuer USCC inside it is the signer's).</summary>
public sealed record LicenceIssue(string Identifier, string Holder, string LicenceName, string AreaCode, ulong ValidFrom, ulong ValidTo, Hash256 FileDigest) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.LicenceIssue;

    public void WriteFields(IFieldWriter writer)
    {
        writer.String("identifier", Identifier);
        writer.String("holder", Holder);
        writer.String("licenceName", LicenceName);
        writer.String("areaCode", AreaCode);
        writer.UInt64("validFrom", ValidFrom);
        writer.UInt64("validTo", ValidTo);
        writer.Bytes32("fileDigest", FileDigest);
    }

    public static LicenceIssue Read(IFieldReader reader) => new(
        reader.String("identifier"),
        reader.String("holder"),
        reader.String("licenceName"),
        reader.String("areaCode"),
        reader.UInt64("validFrom"),
        reader.UInt64("validTo"),
        reader.Bytes32("fileDigest"));
}

/// <summary>The issuer suspends a valid licence (01 → 02).</summary>
public sealed record LicenceSuspend(string Identifier, string Reason) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.LicenceSuspend;

    public void WriteFields(IFieldWriter writer)
    {
        writer.String("identifier", Identifier);
        writer.String("reason", Reason);
    }

    public static LicenceSuspend Read(IFieldReader reader) => new(
        reader.String("identifier"),
        reader.String("reason"));
}

/// <summary>The issuer resumes a suspended licence (02 → 01).</summary>
public sealed record LicenceResume(string Identifier, string Reason) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.LicenceResume;

    public void WriteFields(IFieldWriter writer)
    {
        writer.String("identifier", Identifier);
        writer.String("reason", Reason);
    }

    public static LicenceResume Read(IFieldReader reader) => new(
        reader.String("identifier"),
        reader.String("reason"));
}

/// <summary>The issuer changes or renews a licence: a new version pointing to the previous one.</summary>
public sealed record LicenceChange(string PreviousIdentifier, string Identifier, ulong ValidFrom, ulong ValidTo, Hash256 FileDigest, string Reason) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.LicenceChange;

    public void WriteFields(IFieldWriter writer)
    {
        writer.String("previousIdentifier", PreviousIdentifier);
        writer.String("identifier", Identifier);
        writer.UInt64("validFrom", ValidFrom);
        writer.UInt64("validTo", ValidTo);
        writer.Bytes32("fileDigest", FileDigest);
        writer.String("reason", Reason);
    }

    public static LicenceChange Read(IFieldReader reader) => new(
        reader.String("previousIdentifier"),
        reader.String("identifier"),
        reader.UInt64("validFrom"),
        reader.UInt64("validTo"),
        reader.Bytes32("fileDigest"),
        reader.String("reason"));
}

/// <summary>The issuer revokes a licence (03, or 07 when revoked as a penalty).</summary>
public sealed record LicenceRevoke(string Identifier, bool AsPenalty, string Reason) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.LicenceRevoke;

    public void WriteFields(IFieldWriter writer)
    {
        writer.String("identifier", Identifier);
        writer.Bool("asPenalty", AsPenalty);
        writer.String("reason", Reason);
    }

    public static LicenceRevoke Read(IFieldReader reader) => new(
        reader.String("identifier"),
        reader.Bool("asPenalty"),
        reader.String("reason"));
}

/// <summary>The issuer cancels a licence (04).</summary>
public sealed record LicenceCancel(string Identifier, string Reason) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.LicenceCancel;

    public void WriteFields(IFieldWriter writer)
    {
        writer.String("identifier", Identifier);
        writer.String("reason", Reason);
    }

    public static LicenceCancel Read(IFieldReader reader) => new(
        reader.String("identifier"),
        reader.String("reason"));
}

/// <summary>An initiating department puts a subject on a red or black list on a legal basis.</summary>
public sealed record ListEntryAdd(Hash256 EntryId, string Subject, ListColour Colour, string ListType, string LegalBasis, string DivisionCode, ulong EffectiveFrom, ulong ExpiresAt) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.ListEntryAdd;

    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("entryId", EntryId);
        writer.String("subject", Subject);
        writer.UInt8("colour", (byte)Colour);
        writer.String("listType", ListType);
        writer.String("legalBasis", LegalBasis);
        writer.String("divisionCode", DivisionCode);
        writer.UInt64("effectiveFrom", EffectiveFrom);
        writer.UInt64("expiresAt", ExpiresAt);
    }

    public static ListEntryAdd Read(IFieldReader reader) => new(
        reader.Bytes32("entryId"),
        reader.String("subject"),
        (ListColour)reader.UInt8("colour"),
        reader.String("listType"),
        reader.String("legalBasis"),
        reader.String("divisionCode"),
        reader.UInt64("effectiveFrom"),
        reader.UInt64("expiresAt"));
}

/// <summary>The initiator removes its list entry (e.g. a defaulter performed).</summary>
public sealed record ListEntryRemove(Hash256 EntryId, string Reason) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.ListEntryRemove;

    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("entryId", EntryId);
        writer.String("reason", Reason);
    }

    public static ListEntryRemove Read(IFieldReader reader) => new(
        reader.Bytes32("entryId"),
        reader.String("reason"));
}

/// <summary>A joint memorandum: which list triggers which measures in which regions, and when.</summary>
public sealed record MemorandumPublish(Hash256 MemorandumId, string Title, ListColour Colour, string ListType, IReadOnlyList<string> Measures, IReadOnlyList<string> Regions, ulong EffectiveFrom, ulong EffectiveTo) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.MemorandumPublish;

    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("memorandumId", MemorandumId);
        writer.String("title", Title);
        writer.UInt8("colour", (byte)Colour);
        writer.String("listType", ListType);
        writer.StringArray("measures", Measures);
        writer.StringArray("regions", Regions);
        writer.UInt64("effectiveFrom", EffectiveFrom);
        writer.UInt64("effectiveTo", EffectiveTo);
    }

    public static MemorandumPublish Read(IFieldReader reader) => new(
        reader.Bytes32("memorandumId"),
        reader.String("title"),
        (ListColour)reader.UInt8("colour"),
        reader.String("listType"),
        reader.StringArray("measures"),
        reader.StringArray("regions"),
        reader.UInt64("effectiveFrom"),
        reader.UInt64("effectiveTo"));
}

/// <summary>An implementing department reports applying a memorandum measure to a list entry (响应).</summary>
public sealed record MeasureFeedback(Hash256 FeedbackId, Hash256 EntryId, Hash256 MemorandumId, string Measure, FeedbackOutcome Outcome, ulong AppliedAt) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.MeasureFeedback;

    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("feedbackId", FeedbackId);
        writer.Bytes32("entryId", EntryId);
        writer.Bytes32("memorandumId", MemorandumId);
        writer.String("measure", Measure);
        writer.UInt8("outcome", (byte)Outcome);
        writer.UInt64("appliedAt", AppliedAt);
    }

    public static MeasureFeedback Read(IFieldReader reader) => new(
        reader.Bytes32("feedbackId"),
        reader.Bytes32("entryId"),
        reader.Bytes32("memorandumId"),
        reader.String("measure"),
        (FeedbackOutcome)reader.UInt8("outcome"),
        reader.UInt64("appliedAt"));
}

/// <summary>A member proposes a membership, role or validator change; the proposer's approval counts.</summary>
public sealed record GovernancePropose(Hash256 ProposalId, GovernanceAction Action, Address Target, string Uscc, string Name, string Region, MemberRole Roles) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.GovernancePropose;

    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("proposalId", ProposalId);
        writer.UInt8("action", (byte)Action);
        writer.Address("target", Target);
        writer.String("uscc", Uscc);
        writer.String("name", Name);
        writer.String("region", Region);
        writer.UInt32("roles", (uint)Roles);
    }

    public static GovernancePropose Read(IFieldReader reader) => new(
        reader.Bytes32("proposalId"),
        (GovernanceAction)reader.UInt8("action"),
        reader.Address("target"),
        reader.String("uscc"),
        reader.String("name"),
        reader.String("region"),
        (MemberRole)reader.UInt32("roles"));
}

/// <summary>A member votes on an open proposal; it executes once the genesis rule is met.</summary>
public sealed record GovernanceVote(Hash256 ProposalId, bool Approve) : ITransactionBody
{
    public TransactionKind Kind => TransactionKind.GovernanceVote;

    public void WriteFields(IFieldWriter writer)
    {
        writer.Bytes32("proposalId", ProposalId);
        writer.Bool("approve", Approve);
    }

    public static GovernanceVote Read(IFieldReader reader) => new(
        reader.Bytes32("proposalId"),
        reader.Bool("approve"));
}
