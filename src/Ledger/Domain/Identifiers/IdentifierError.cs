namespace SmartCity.Ledger.Domain.Identifiers;

/// <summary>Why an identifier was refused: specific enough for an operator to see what is wrong with a real code.</summary>
public enum IdentifierError
{
    None = 0,
    Empty,
    WrongLength,
    InvalidCharacter,
    UnknownRegistrationAuthority,
    UnknownCategory,
    InvalidDivisionCode,
    WrongCheckCharacter,
    InvalidBirthDate,
    InvalidStructure,
    InvalidTypeCode,
    InvalidIssuerCode,
    InvalidVersion,
}

/// <summary>The outcome of parsing an identifier: a value, or an error with a human-readable detail. Never throws.</summary>
public readonly record struct ParseResult<T>(T Value, IdentifierError Error, string Detail)
{
    public bool IsValid => Error == IdentifierError.None;

    public static ParseResult<T> Ok(T value) => new(value, IdentifierError.None, string.Empty);

    public static ParseResult<T> Fail(IdentifierError error, string detail) => new(default!, error, detail);
}
