namespace SmartCity.Ledger.State;

/// <summary>
/// Why a transaction was refused. Every code is a rule in docs/domain.md and has a test. The numeric order is the check
/// order: after the envelope, a transaction's checks run in ascending code order and the first failure is the answer.
/// </summary>
public enum RejectionCode
{
    None = 0,

    // Envelope
    Malformed = 1,
    TransactionTooLarge,
    WrongChainId,
    BadSignature,
    SignerMismatch,
    NotAMember,
    NonceReused,
    NonceGap,
    MissingRole,

    // Fields
    InvalidField = 20,
    InvalidSubject,
    InvalidLicenceIdentifier,
    DivisionOutsideConsortium,
    RegionMismatch,
    DuplicateId,

    // Credit records and objections
    UnknownRecord = 40,
    NotTheDesignator,
    RecordNotActive,
    PublicationPeriodOutOfRange,
    NotRepairable,
    RepairTooEarly,
    UnknownObjection,
    ObjectionAlreadyOpen,
    ObjectionAlreadyResolved,
    ObjectionToOwnRecord,

    // Licences
    UnknownLicence = 60,
    LicenceIssuerMismatch,
    InvalidLicenceTransition,
    LicenceVersionNotNext,
    LicenceExpired,

    // Lists, memoranda, measures
    UnknownListEntry = 80,
    NotTheInitiator,
    ListEntryNotActive,
    UnknownMemorandum,
    MemorandumNotInForce,
    ListNotCoveredByMemorandum,
    RegionNotCoveredByMemorandum,
    MeasureNotInMemorandum,

    // Governance
    UnknownProposal = 100,
    ProposalNotOpen,
    ProposalExpired,
    AlreadyVoted,
    InvalidProposal,
}
