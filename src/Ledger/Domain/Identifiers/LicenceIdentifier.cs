namespace SmartCity.Ledger.Domain.Identifiers;

/// <summary>
/// An electronic licence identifier (GB/T 36904):
/// <c>1.2.156.3005.2.{type code}.{issuer USCC}.{licence no}.{version}.{check}</c>. The type code is the defining
/// authority's USCC followed by a 3-digit number; the check is ISO/IEC 7064 MOD 37,36 over the fields after the
/// root with the dots removed.
/// </summary>
public readonly record struct LicenceIdentifier
{
    public const string Root = "1.2.156.3005.2.";
    private const int MaxLicenceNumberLength = 64;

    private LicenceIdentifier(string value, string typeCode, UnifiedSocialCreditCode issuer, string licenceNumber, int version)
    {
        Value = value;
        TypeCode = typeCode;
        Issuer = issuer;
        LicenceNumber = licenceNumber;
        Version = version;
    }

    public string Value { get; }

    /// <summary>Defining authority's USCC + 3-digit type number (21 characters).</summary>
    public string TypeCode { get; }

    public UnifiedSocialCreditCode DefiningAuthority => UnifiedSocialCreditCode.Parse(TypeCode[..18]).Value;

    public UnifiedSocialCreditCode Issuer { get; }

    public string LicenceNumber { get; }

    public int Version { get; }

    /// <summary>Everything but the version and check: identical for every version of one licence.</summary>
    public string Lineage => $"{TypeCode}.{Issuer.Value}.{LicenceNumber}";

    public static ParseResult<LicenceIdentifier> Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return ParseResult<LicenceIdentifier>.Fail(IdentifierError.Empty, "the identifier is empty");
        }

        if (!text.StartsWith(Root, StringComparison.Ordinal))
        {
            return ParseResult<LicenceIdentifier>.Fail(IdentifierError.InvalidStructure, $"an e-licence identifier starts with '{Root}'");
        }

        var fields = text[Root.Length..].Split('.');
        if (fields.Length != 5)
        {
            return ParseResult<LicenceIdentifier>.Fail(IdentifierError.InvalidStructure, $"expected 5 fields after the root (type, issuer, number, version, check), got {fields.Length}");
        }

        var (typeCode, issuerText, number, versionText, check) = (fields[0], fields[1], fields[2], fields[3], fields[4]);
        if (typeCode.Length != 21 || !UnifiedSocialCreditCode.Parse(typeCode[..18]).IsValid || !AsciiDigits.All(typeCode.AsSpan(18)))
        {
            return ParseResult<LicenceIdentifier>.Fail(IdentifierError.InvalidTypeCode, $"the type code must be a valid USCC followed by 3 digits, got '{typeCode}'");
        }

        var issuer = UnifiedSocialCreditCode.Parse(issuerText);
        if (!issuer.IsValid)
        {
            return ParseResult<LicenceIdentifier>.Fail(IdentifierError.InvalidIssuerCode, $"issuer code: {issuer.Detail}");
        }

        if (number.Length is 0 or > MaxLicenceNumberLength || !IsUpperAlphanumeric(number))
        {
            return ParseResult<LicenceIdentifier>.Fail(IdentifierError.InvalidStructure, $"the licence number must be 1-{MaxLicenceNumberLength} characters 0-9 A-Z");
        }

        if (versionText.Length != 3 || !AsciiDigits.All(versionText) || versionText == "000")
        {
            return ParseResult<LicenceIdentifier>.Fail(IdentifierError.InvalidVersion, $"the version must be 3 digits from 001, got '{versionText}'");
        }

        if (check.Length != 1)
        {
            return ParseResult<LicenceIdentifier>.Fail(IdentifierError.InvalidStructure, "the check field is one character");
        }

        var expected = Iso7064.Mod37_36(string.Concat(typeCode, issuerText, number, versionText));
        if (expected != check[0])
        {
            return ParseResult<LicenceIdentifier>.Fail(IdentifierError.WrongCheckCharacter, $"check character is '{check}', the identifier computes '{expected}'");
        }

        return ParseResult<LicenceIdentifier>.Ok(new LicenceIdentifier(text, typeCode, issuer.Value, number, int.Parse(versionText, System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>Composes a checked identifier from its fields (the inverse of <see cref="Parse"/>).</summary>
    public static string Compose(string typeCode, string issuerUscc, string licenceNumber, int version)
    {
        var versionText = version.ToString("D3", System.Globalization.CultureInfo.InvariantCulture);
        var check = Iso7064.Mod37_36(string.Concat(typeCode, issuerUscc, licenceNumber, versionText)) ?? '?';
        return $"{Root}{typeCode}.{issuerUscc}.{licenceNumber}.{versionText}.{check}";
    }

    /// <summary>The identifier of the next version of the same licence.</summary>
    public string NextVersion() => Compose(TypeCode, Issuer.Value, LicenceNumber, Version + 1);

    private static bool IsUpperAlphanumeric(string text)
    {
        foreach (var ch in text)
        {
            if (!char.IsAsciiDigit(ch) && !char.IsAsciiLetterUpper(ch))
            {
                return false;
            }
        }

        return true;
    }

    public override string ToString() => Value;
}
