using System.Text;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Score;

/// <summary>
/// The one state key a score hashes itself, <c>subject/{subject}</c> (the subject index carries the hashed keys of
/// everything else it reads), computed on the stack: the same hash as <see cref="StateKeys"/> (a test holds them equal)
/// without building the key text as a string first.
/// </summary>
internal static class ScoreKeys
{
    private const int MaxStackText = 256;

    public static Hash256 SubjectIndex(Subject subject, CryptoSuite suite) => Hash("subject/", subject.Text, suite);

    private static Hash256 Hash(string prefix, string suffix, CryptoSuite suite)
    {
        Span<byte> text = stackalloc byte[MaxStackText];
        if (prefix.Length + suffix.Length > MaxStackText)
        {
            return new StateKey(prefix + suffix).HashIn(suite);
        }

        var at = Encoding.ASCII.GetBytes(prefix, text);
        at += Encoding.ASCII.GetBytes(suffix, text[at..]);
        return suite.Hash(text[..at]);
    }
}
