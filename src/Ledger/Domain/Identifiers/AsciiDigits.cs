namespace SmartCity.Ledger.Domain.Identifiers;

internal static class AsciiDigits
{
    /// <summary>True for a non-empty run of '0'-'9'.</summary>
    public static bool All(ReadOnlySpan<char> text) => !text.IsEmpty && !text.ContainsAnyExceptInRange('0', '9');
}
