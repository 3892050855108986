using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Domain.Identifiers;

/// <summary>
/// Who a record, licence or list entry is about. Text form (as signed in EIP-712 messages):
/// <c>uscc:{18-character code}</c> for a legal person, identified in clear, or <c>person:0x{64 hex}</c> for a
/// natural person, identified only by the keyed hash of <see cref="SubjectKeyDerivation"/>.
/// </summary>
public readonly record struct Subject
{
    public const string LegalPersonPrefix = "uscc:";
    public const string NaturalPersonPrefix = "person:";

    private Subject(string text) => Text = text;

    public string Text { get; }

    public bool IsNaturalPerson => Text.StartsWith(NaturalPersonPrefix, StringComparison.Ordinal);

    public static Subject LegalPerson(UnifiedSocialCreditCode code) => new(LegalPersonPrefix + code.Value);

    public static Subject NaturalPerson(Hash256 subjectKey) => new(NaturalPersonPrefix + subjectKey);

    public static ParseResult<Subject> Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return ParseResult<Subject>.Fail(IdentifierError.Empty, "the subject is empty");
        }

        if (text.StartsWith(LegalPersonPrefix, StringComparison.Ordinal))
        {
            var code = UnifiedSocialCreditCode.Parse(text[LegalPersonPrefix.Length..]);
            return code.IsValid ? ParseResult<Subject>.Ok(LegalPerson(code.Value)) : ParseResult<Subject>.Fail(code.Error, code.Detail);
        }

        if (text.StartsWith(NaturalPersonPrefix, StringComparison.Ordinal))
        {
            var hex = text.AsSpan(NaturalPersonPrefix.Length);
            // Lower-case hex only, so one key has exactly one text form.
            return hex.Length == 66 && Hash256.TryParse(hex, out var key) && key.ToString().AsSpan().SequenceEqual(hex)
                ? ParseResult<Subject>.Ok(NaturalPerson(key))
                : ParseResult<Subject>.Fail(IdentifierError.InvalidStructure, "a natural person is 'person:0x' and the 64 lower-case hex digits of the subject key");
        }

        return ParseResult<Subject>.Fail(IdentifierError.InvalidStructure, "a subject is 'uscc:{code}' or 'person:0x{subject key}'");
    }

    public override string ToString() => Text;
}
