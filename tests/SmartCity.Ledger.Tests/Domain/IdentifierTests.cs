using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Regions;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Domain;

public sealed class IdentifierTests
{
    [Theory]
    [InlineData("91350100M000100Y43")] // the standard's own example
    [InlineData("914403001922038216")]
    [InlineData("91440300708461136T")]
    [InlineData("91110000802100433B")]
    [InlineData("91330100716105852F")]
    public void Accepts_the_published_unified_social_credit_codes(string code)
    {
        var result = UnifiedSocialCreditCode.Parse(code);
        Assert.True(result.IsValid, result.Detail);
        Assert.Equal(code, result.Value.Value);
    }

    [Theory]
    [InlineData("914403001922038217", IdentifierError.WrongCheckCharacter)]
    [InlineData("91350100M000100Y4Z", IdentifierError.InvalidCharacter)] // Z is not in the alphabet
    [InlineData("91350100M000100Y4", IdentifierError.WrongLength)]
    [InlineData("", IdentifierError.Empty)]
    [InlineData(null, IdentifierError.Empty)]
    [InlineData("B1350100M000100Y43", IdentifierError.UnknownRegistrationAuthority)]
    [InlineData("94350100M000100Y43", IdentifierError.UnknownCategory)] // market regulation has categories 1-3 only
    [InlineData("913501A0M000100Y43", IdentifierError.InvalidDivisionCode)]
    [InlineData("91350100m000100Y43", IdentifierError.InvalidCharacter)]
    public void Refuses_a_bad_unified_social_credit_code_with_a_specific_reason(string? code, IdentifierError expected)
        => Assert.Equal(expected, UnifiedSocialCreditCode.Parse(code).Error);

    [Fact]
    public void A_wrong_check_character_says_which_character_the_code_computes()
    {
        var result = UnifiedSocialCreditCode.Parse("914403001922038217");
        Assert.Contains("computes '6'", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Unified_social_credit_code_exposes_its_parts()
    {
        var code = UnifiedSocialCreditCode.Parse("91350100M000100Y43").Value;
        Assert.Equal(('9', '1', "350100"), (code.RegistrationAuthority, code.Category, code.DivisionCode));
    }

    [Theory]
    [InlineData("11010519491231002X", false)]
    [InlineData("11010519491231002x", false)] // lower-case check character is normalised
    [InlineData("440524188001010014", true)]
    public void Accepts_the_published_resident_id_numbers(string number, bool male)
    {
        var result = ResidentIdNumber.Parse(number);
        Assert.True(result.IsValid, result.Detail);
        Assert.Equal(number.ToUpperInvariant(), result.Value.Normalised);
        Assert.Equal(male, result.Value.IsMale);
    }

    [Theory]
    [InlineData("110105194912310021", IdentifierError.WrongCheckCharacter)]
    [InlineData("110105194913310028", IdentifierError.InvalidBirthDate)] // month 13
    [InlineData("110105194902300021", IdentifierError.InvalidBirthDate)] // 30 February
    [InlineData("11010519491231002", IdentifierError.WrongLength)]
    [InlineData("1101051949123100AX", IdentifierError.InvalidCharacter)]
    [InlineData("01010519491231002X", IdentifierError.InvalidDivisionCode)]
    public void Refuses_a_bad_resident_id_number_with_a_specific_reason(string number, IdentifierError expected)
        => Assert.Equal(expected, ResidentIdNumber.Parse(number).Error);

    [Fact]
    public void A_resident_id_number_never_prints_itself()
        => Assert.DoesNotContain("1949", ResidentIdNumber.Parse("11010519491231002X").Value.ToString(), StringComparison.Ordinal);

    [Fact]
    public void Accepts_the_published_e_licence_identifier_and_reads_its_fields()
    {
        var result = LicenceIdentifier.Parse("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F");
        Assert.True(result.IsValid, result.Detail);
        var id = result.Value;
        Assert.Equal("11100000000013338W032", id.TypeCode);
        Assert.Equal("11100000000013338W", id.DefiningAuthority.Value);
        Assert.Equal("11220000013544541J", id.Issuer.Value);
        Assert.Equal(("2430599", 1), (id.LicenceNumber, id.Version));
    }

    [Theory]
    [InlineData("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.G", IdentifierError.WrongCheckCharacter)]
    [InlineData("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.002.F", IdentifierError.WrongCheckCharacter)]
    [InlineData("1.2.156.3005.3.11100000000013338W032.11220000013544541J.2430599.001.F", IdentifierError.InvalidStructure)]
    [InlineData("1.2.156.3005.2.11100000000013338W032.11220000013544541J.001.F", IdentifierError.InvalidStructure)]
    [InlineData("1.2.156.3005.2.11100000000013338X032.11220000013544541J.2430599.001.F", IdentifierError.InvalidTypeCode)]
    [InlineData("1.2.156.3005.2.11100000000013338W032.11220000013544541K.2430599.001.F", IdentifierError.InvalidIssuerCode)]
    [InlineData("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.000.F", IdentifierError.InvalidVersion)]
    [InlineData("1.2.156.3005.2.11100000000013338W032.11220000013544541J.24305-9.001.F", IdentifierError.InvalidStructure)]
    public void Refuses_a_bad_e_licence_identifier_with_a_specific_reason(string identifier, IdentifierError expected)
        => Assert.Equal(expected, LicenceIdentifier.Parse(identifier).Error);

    [Fact]
    public void Composing_an_identifier_computes_the_published_check_character_and_the_next_version()
    {
        var composed = LicenceIdentifier.Compose("11100000000013338W032", "11220000013544541J", "2430599", 1);
        Assert.Equal("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F", composed);
        var next = LicenceIdentifier.Parse(LicenceIdentifier.Parse(composed).Value.NextVersion());
        Assert.True(next.IsValid, next.Detail);
        Assert.Equal(2, next.Value.Version);
    }

    [Theory]
    [InlineData("0", 36, 2)] // S = 36, P = 72 mod 37 = 35, check = 37 - 35
    [InlineData("", 36, 1)]
    [InlineData("11100000000013338W03211220000013544541J2430599001", 36, 15)] // the GB/T 36904 example: 'F'
    public void Iso7064_hybrid_check_value_follows_the_general_algorithm(string text, int modulus, int expected)
        => Assert.Equal(expected, Iso7064.HybridCheckValue(text, modulus));

    [Fact]
    public void Iso7064_mod_37_36_rejects_characters_outside_0_9_and_A_Z()
        => Assert.Null(Iso7064.Mod37_36("12a"));

    [Theory]
    [InlineData("110105", "BJ")]
    [InlineData("120101", "TJ")]
    [InlineData("130102", "HE")]
    [InlineData("133100", "XA")]
    [InlineData("133101", "XA")]
    [InlineData("130629", "XA")] // Rongcheng, still listed under Baoding
    [InlineData("130632", "XA")] // Anxin
    [InlineData("130638", "XA")] // Xiongxian
    [InlineData("130630", "HE")] // a Baoding county outside Xiong'an
    [InlineData("140100", null)] // Shanxi: outside this genesis
    [InlineData("11010", null)]
    [InlineData("11010A", null)]
    public void A_division_code_belongs_to_the_region_the_genesis_says(string divisionCode, string? region)
    {
        var catalogue = new RegionCatalogue(GenesisBuilder.Sample.Value.Regions);
        Assert.Equal(region, catalogue.RegionOf(divisionCode)?.Code);
    }

    [Fact]
    public void A_region_added_as_data_is_recognised_without_code_changes()
    {
        var catalogue = new RegionCatalogue([.. GenesisBuilder.Sample.Value.Regions, new Region("SX", "Shanxi", ["14"])]);
        Assert.Equal("SX", catalogue.RegionOf("140100")?.Code);
    }

    [Fact]
    public void Subject_key_is_hmac_sha256_of_the_normalised_number_under_the_consortium_secret()
    {
        var secret = new byte[32];
        secret[0] = 7;
        var derivation = new SubjectKeyDerivation(secret);
        var upper = derivation.Derive(ResidentIdNumber.Parse("11010519491231002X").Value);
        var lower = derivation.Derive(ResidentIdNumber.Parse(" 11010519491231002x ").Value);
        var expected = System.Security.Cryptography.HMACSHA256.HashData(secret, (byte[])[.. "SmartCity.Ledger/subject/v1\0"u8, .. "11010519491231002X"u8]);

        Assert.Equal(upper, lower);
        Assert.Equal("person:0x" + Convert.ToHexStringLower(expected), upper.Text);
        Assert.True(upper.IsNaturalPerson);

        var otherSecret = new SubjectKeyDerivation(new byte[32]);
        Assert.NotEqual(upper, otherSecret.Derive(ResidentIdNumber.Parse("11010519491231002X").Value));
    }

    [Fact]
    public void Subject_key_derivation_refuses_a_short_secret()
        => Assert.Throws<ArgumentException>(() => new SubjectKeyDerivation(new byte[16]));

    [Theory]
    [InlineData("uscc:91350100M000100Y43", true)]
    [InlineData("uscc:914403001922038217", false)]
    [InlineData("person:0x00000000000000000000000000000000000000000000000000000000000000ff", true)]
    [InlineData("person:0x00000000000000000000000000000000000000000000000000000000000000FF", false)] // one text form only
    [InlineData("person:11010519491231002X", false)] // an ID number in clear is never a subject
    [InlineData("11010519491231002X", false)]
    public void A_subject_is_a_checked_code_or_a_subject_key(string text, bool valid)
        => Assert.Equal(valid, Subject.Parse(text).IsValid);
}
