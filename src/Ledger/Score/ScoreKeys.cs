using System.Text;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Score;

/// <summary>
/// The hashed state keys a score reads that the subject index does not carry, computed on the stack: the same hashes
/// as <see cref="StateKeys"/> (a test holds them equal) without building the key text as a string first.
/// </summary>
internal static class ScoreKeys
{
    private const int MaxStackText = 256;

    public static Hash256 SubjectIndex(Subject subject) => Hash("subject/", subject.Text);

    public static Hash256 Objection(in Hash256 id) => Hash("objection/", id.Bytes);

    /// <summary>Keccak-256 of <paramref name="prefix"/> ‖ "0x" ‖ lower-case hex of <paramref name="id"/>, in ASCII.</summary>
    private static Hash256 Hash(string prefix, ReadOnlySpan<byte> id)
    {
        Span<byte> text = stackalloc byte[prefix.Length + 2 + (2 * id.Length)];
        var at = Encoding.ASCII.GetBytes(prefix, text);
        text[at++] = (byte)'0';
        text[at++] = (byte)'x';
        foreach (var b in id)
        {
            text[at++] = HexDigit(b >> 4);
            text[at++] = HexDigit(b & 0xF);
        }

        return Keccak256.Hash(text);
    }

    private static Hash256 Hash(string prefix, string suffix)
    {
        Span<byte> text = stackalloc byte[MaxStackText];
        if (prefix.Length + suffix.Length > MaxStackText)
        {
            return new StateKey(prefix + suffix).Hash;
        }

        var at = Encoding.ASCII.GetBytes(prefix, text);
        at += Encoding.ASCII.GetBytes(suffix, text[at..]);
        return Keccak256.Hash(text[..at]);
    }

    private static byte HexDigit(int value) => (byte)(value < 10 ? '0' + value : 'a' + value - 10);
}
