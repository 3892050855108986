using System.Globalization;

namespace SmartCity.Ledger.Domain.Identifiers;

/// <summary>
/// A resident identity number (GB 11643-1999): 6-digit address code, 8-digit birth date, 3-digit sequence and a
/// MOD 11-2 check character. It never goes on the ledger: only <see cref="SubjectKeyDerivation"/> sees it.
/// </summary>
public readonly record struct ResidentIdNumber
{
    public const int Length = 18;
    private const string CheckCharacters = "10X98765432";

    // W_i = 2^(17-i) mod 11.
    private static ReadOnlySpan<byte> Weights => [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

    private ResidentIdNumber(string normalised) => Normalised = normalised;

    /// <summary>The 18 characters with a lower-case check 'x' written as 'X' and surrounding space removed.</summary>
    public string Normalised { get; }

    public DateOnly BirthDate => DateOnly.ParseExact(Normalised.AsSpan(6, 8), "yyyyMMdd", CultureInfo.InvariantCulture);

    public bool IsMale => (Normalised[16] - '0') % 2 == 1;

    public static ParseResult<ResidentIdNumber> Parse(string? text)
    {
        var normalised = text?.Trim().ToUpperInvariant();
        if (string.IsNullOrEmpty(normalised))
        {
            return ParseResult<ResidentIdNumber>.Fail(IdentifierError.Empty, "the number is empty");
        }

        if (normalised.Length != Length)
        {
            return ParseResult<ResidentIdNumber>.Fail(IdentifierError.WrongLength, $"a resident ID number has 18 characters, got {normalised.Length}");
        }

        for (var i = 0; i < 17; i++)
        {
            if (!char.IsAsciiDigit(normalised[i]))
            {
                return ParseResult<ResidentIdNumber>.Fail(IdentifierError.InvalidCharacter, $"position {i + 1} must be a digit");
            }
        }

        if (!char.IsAsciiDigit(normalised[17]) && normalised[17] != 'X')
        {
            return ParseResult<ResidentIdNumber>.Fail(IdentifierError.InvalidCharacter, "the check character must be a digit or X");
        }

        if (normalised[0] == '0' || normalised[0] == '9')
        {
            return ParseResult<ResidentIdNumber>.Fail(IdentifierError.InvalidDivisionCode, $"'{normalised[..6]}' is not an address code");
        }

        if (!DateOnly.TryParseExact(normalised.AsSpan(6, 8), "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var birth) || birth.Year < 1800)
        {
            return ParseResult<ResidentIdNumber>.Fail(IdentifierError.InvalidBirthDate, $"'{normalised.Substring(6, 8)}' is not a birth date");
        }

        var expected = CheckCharacter(normalised.AsSpan(0, 17));
        if (normalised[17] != expected)
        {
            return ParseResult<ResidentIdNumber>.Fail(IdentifierError.WrongCheckCharacter, $"check character is '{normalised[17]}', the number computes '{expected}'");
        }

        return ParseResult<ResidentIdNumber>.Ok(new ResidentIdNumber(normalised));
    }

    public static char CheckCharacter(ReadOnlySpan<char> first17)
    {
        var sum = 0;
        for (var i = 0; i < 17; i++)
        {
            sum += (first17[i] - '0') * Weights[i];
        }

        return CheckCharacters[sum % 11];
    }

    /// <summary>Masked so that a log line or an exception message can never carry the number.</summary>
    public override string ToString() => "ResidentIdNumber(******)";
}
