using System.Buffers;
using System.Text;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Score;

/// <summary>
/// The hashed state keys a score reads, computed on the stack: the same hashes as <see cref="StateKeys"/> (a test
/// holds them equal) without building the key text as a string first, so reading allocates nothing but the answer.
/// </summary>
internal static class ScoreKeys
{
    private const int MaxStackText = 256;

    public static Hash256 SubjectIndex(Subject subject) => Hash("subject/", subject.Text);

    public static Hash256 Record(in Hash256 id) => Hash("record/", id.Bytes);

    public static Hash256 ListEntry(in Hash256 id) => Hash("list/", id.Bytes);

    public static Hash256 Objection(in Hash256 id) => Hash("objection/", id.Bytes);

    public static Hash256 Memorandum(in Hash256 id) => Hash("memo/", id.Bytes);

    public static Hash256 Member(in Address address) => Hash("member/", address.Bytes);

    public static Hash256 MemorandaOfList(ListColour colour, string listType)
    {
        var length = Encoding.UTF8.GetByteCount(listType);
        var rented = length > MaxStackText ? ArrayPool<byte>.Shared.Rent(length) : null;
        try
        {
            Span<byte> utf8 = rented ?? stackalloc byte[MaxStackText];
            var listHash = Keccak256.Hash(utf8[..Encoding.UTF8.GetBytes(listType, utf8)]);
            return Hash(colour == ListColour.Red ? "memoranda/red/" : "memoranda/black/", listHash.Bytes);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

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
