namespace SmartCity.Ledger.Domain.Identifiers;

/// <summary>
/// ISO/IEC 7064 hybrid system MOD (M+1),M. With M = 36 (MOD 37,36) it checks alphanumeric strings:
/// '0'-'9' are 0-9 and 'A'-'Z' are 10-35, and the check character is one of the same 36.
/// </summary>
public static class Iso7064
{
    private const string Alphanumerics = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// <summary>The check character, or null when <paramref name="text"/> has a character outside 0-9, A-Z.</summary>
    public static char? Mod37_36(ReadOnlySpan<char> text)
    {
        var value = HybridCheckValue(text, 36);
        return value is { } v ? Alphanumerics[v] : null;
    }

    /// <summary>
    /// The general hybrid algorithm: P starts at M; for each character S = (P + a) mod M (0 read as M),
    /// P = 2S mod (M+1); the check value c makes (P + c) mod M = 1.
    /// </summary>
    public static int? HybridCheckValue(ReadOnlySpan<char> text, int modulus)
    {
        var p = modulus;
        foreach (var ch in text)
        {
            var a = Alphanumerics.IndexOf(ch, StringComparison.Ordinal);
            if (a < 0 || a >= modulus)
            {
                return null;
            }

            var s = (p + a) % modulus;
            p = (s == 0 ? modulus : s) * 2 % (modulus + 1);
        }

        return (modulus + 1 - p) % modulus;
    }
}
