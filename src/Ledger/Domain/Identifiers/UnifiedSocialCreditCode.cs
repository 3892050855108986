namespace SmartCity.Ledger.Domain.Identifiers;

/// <summary>
/// The 18-character Unified Social Credit Code of a legal person or other organisation (GB 32100-2015):
/// registration authority, organisation category, 6-digit GB/T 2260 division code, 9-character organisation
/// code and a check character, all over a 31-character alphabet without I, O, S, V and Z.
/// </summary>
public readonly record struct UnifiedSocialCreditCode
{
    public const int Length = 18;
    public const string Alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";

    // W_i = 3^(i-1) mod 31, i = 1..17.
    private static ReadOnlySpan<byte> Weights => [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

    // GB 32100-2015 Appendix A: registration authority -> the organisation categories it registers.
    private static readonly Dictionary<char, string> CategoriesByAuthority = new()
    {
        ['1'] = "1239", // staffing (organs, public institutions, mass organisations, other)
        ['2'] = "19",   // foreign affairs
        ['3'] = "123459", // justice (law firms, notaries, legal services, forensics, arbitration, other)
        ['4'] = "19",   // culture
        ['5'] = "1239", // civil affairs (social organisations, private non-enterprise units, foundations, other)
        ['6'] = "129",  // tourism
        ['7'] = "129",  // religious affairs
        ['8'] = "19",   // trade unions
        ['9'] = "123",  // market regulation (enterprise, individual business, farmers' cooperative)
        ['A'] = "19",   // Central Military Commission staffing
        ['N'] = "1239", // agriculture (rural collective economic organisations)
        ['Y'] = "1",    // other
    };

    private UnifiedSocialCreditCode(string value) => Value = value;

    public string Value { get; }

    public char RegistrationAuthority => Value[0];

    public char Category => Value[1];

    /// <summary>GB/T 2260 division code of the registering authority (positions 3-8).</summary>
    public string DivisionCode => Value.Substring(2, 6);

    public static ParseResult<UnifiedSocialCreditCode> Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return ParseResult<UnifiedSocialCreditCode>.Fail(IdentifierError.Empty, "the code is empty");
        }

        if (text.Length != Length)
        {
            return ParseResult<UnifiedSocialCreditCode>.Fail(IdentifierError.WrongLength, $"a USCC has 18 characters, got {text.Length}");
        }

        for (var i = 0; i < Length; i++)
        {
            if (Alphabet.IndexOf(text[i], StringComparison.Ordinal) < 0)
            {
                return ParseResult<UnifiedSocialCreditCode>.Fail(IdentifierError.InvalidCharacter, $"'{text[i]}' at position {i + 1} is not in the GB 32100 alphabet");
            }
        }

        if (!CategoriesByAuthority.TryGetValue(text[0], out var categories))
        {
            return ParseResult<UnifiedSocialCreditCode>.Fail(IdentifierError.UnknownRegistrationAuthority, $"'{text[0]}' is not a registration authority code");
        }

        if (!categories.Contains(text[1], StringComparison.Ordinal))
        {
            return ParseResult<UnifiedSocialCreditCode>.Fail(IdentifierError.UnknownCategory, $"'{text[1]}' is not an organisation category under authority '{text[0]}'");
        }

        for (var i = 2; i < 8; i++)
        {
            if (!char.IsAsciiDigit(text[i]))
            {
                return ParseResult<UnifiedSocialCreditCode>.Fail(IdentifierError.InvalidDivisionCode, $"positions 3-8 must be a 6-digit division code, got '{text.Substring(2, 6)}'");
            }
        }

        var expected = CheckCharacter(text.AsSpan(0, 17));
        if (text[17] != expected)
        {
            return ParseResult<UnifiedSocialCreditCode>.Fail(IdentifierError.WrongCheckCharacter, $"check character is '{text[17]}', the code computes '{expected}'");
        }

        return ParseResult<UnifiedSocialCreditCode>.Ok(new UnifiedSocialCreditCode(text));
    }

    /// <summary>C18 = 31 − (Σ C_i·W_i mod 31), with 31 written as 0.</summary>
    public static char CheckCharacter(ReadOnlySpan<char> first17)
    {
        var sum = 0;
        for (var i = 0; i < 17; i++)
        {
            sum += Alphabet.IndexOf(first17[i], StringComparison.Ordinal) * Weights[i];
        }

        return Alphabet[(31 - (sum % 31)) % 31];
    }

    public override string ToString() => Value;
}
