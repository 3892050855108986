namespace SmartCity.Ledger.Domain.Transactions;

/// <summary>The kinds of transaction; the number is the kind byte of the canonical encoding.</summary>
public enum TransactionKind : byte
{
    CreditRecordSubmit = 1,
    CreditRecordAmend = 2,
    CreditRecordRepair = 3,
    CreditRecordAnnul = 4,
    ObjectionFile = 10,
    ObjectionResolve = 11,
    LicenceIssue = 20,
    LicenceSuspend = 21,
    LicenceResume = 22,
    LicenceChange = 23,
    LicenceRevoke = 24,
    LicenceCancel = 25,
    ListEntryAdd = 30,
    ListEntryRemove = 31,
    MemorandumPublish = 40,
    MeasureFeedback = 41,
    GovernancePropose = 50,
    GovernanceVote = 51,
}

public enum RecordCategory : byte
{
    AdministrativePenalty = 1,
    CourtDefaulter = 2,
    TaxGrade = 3,
    Honour = 4,
}

/// <summary>Severity of an administrative penalty (SAMR Order 107); None for every other category.</summary>
public enum Severity : byte
{
    None = 0,
    Minor = 1,
    Moderate = 2,
    Serious = 3,
}

public enum ObjectionOutcome : byte
{
    Corrected = 1,
    Upheld = 2,
    Noted = 3,
}

public enum ListColour : byte
{
    Red = 1,
    Black = 2,
}

public enum FeedbackOutcome : byte
{
    Applied = 1,
    NotApplicable = 2,
    Lifted = 3,
}

public enum GovernanceAction : byte
{
    AddMember = 1,
    RemoveMember = 2,
    ChangeRoles = 3,
    AddValidator = 4,
    RemoveValidator = 5,
}
