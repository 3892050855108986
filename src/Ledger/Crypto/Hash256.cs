using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SmartCity.Ledger.Crypto;

/// <summary>A 32-byte hash (Keccak-256 or SHA-256) as a value: no heap allocation, ordinal equality, 0x hex text.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct Hash256 : IEquatable<Hash256>, IComparable<Hash256>, ISpanFormattable
{
    public const int Size = 32;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    public Hash256(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            ThrowWrongLength(bytes.Length);
        }

        this = MemoryMarshal.Read<Hash256>(bytes);
    }

    public static Hash256 Zero => default;

    public bool IsZero => (_a | _b | _c | _d) == 0;

    /// <summary>The 32 bytes, read-only, without copying.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> Bytes => MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in _a, 4));

    public byte[] ToArray() => Bytes.ToArray();

    public void CopyTo(Span<byte> destination) => Bytes.CopyTo(destination);

    public static Hash256 Parse(string text) => TryParse(text, out var hash) ? hash : throw new FormatException($"not a 32-byte hex hash: '{text}'");

    public static bool TryParse(ReadOnlySpan<char> text, out Hash256 hash)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            text = text[2..];
        }

        Span<byte> bytes = stackalloc byte[Size];
        if (text.Length != Size * 2 || Convert.FromHexString(text, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Size)
        {
            hash = default;
            return false;
        }

        hash = new Hash256(bytes);
        return true;
    }

    /// <summary>Characters of the text form: 0x and 64 lower-case hex digits.</summary>
    public const int TextLength = 2 + (2 * Size);

    public override string ToString() => string.Create(TextLength, this, static (chars, hash) => hash.TryFormat(chars, out _, default, null));

    /// <summary>The text form whatever the format asked for (there is one).</summary>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <summary>
    /// Writes the text form (0x and 64 lower-case hex digits) into <paramref name="destination"/>: string interpolation
    /// of a hash (state keys such as <c>record/{id}</c>) makes no intermediate string.
    /// </summary>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        if (destination.Length < TextLength)
        {
            charsWritten = 0;
            return false;
        }

        destination[0] = '0';
        destination[1] = 'x';
        Convert.TryToHexStringLower(Bytes, destination[2..], out var written);
        charsWritten = 2 + written;
        return true;
    }

    public bool Equals(Hash256 other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is Hash256 other && Equals(other);

    public override int GetHashCode() => (int)_a ^ (int)(_a >> 32);

    /// <summary>Orders as the big-endian 256-bit number the bytes spell (the bytes' lexicographic order), word by word.</summary>
    public int CompareTo(Hash256 other) =>
        _a != other._a ? Order(_a, other._a)
        : _b != other._b ? Order(_b, other._b)
        : _c != other._c ? Order(_c, other._c)
        : Order(_d, other._d);

    public static bool operator ==(Hash256 left, Hash256 right) => left.Equals(right);

    public static bool operator !=(Hash256 left, Hash256 right) => !left.Equals(right);

    public static bool operator <(Hash256 left, Hash256 right) => left.CompareTo(right) < 0;

    public static bool operator >(Hash256 left, Hash256 right) => left.CompareTo(right) > 0;

    public static bool operator <=(Hash256 left, Hash256 right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Hash256 left, Hash256 right) => left.CompareTo(right) >= 0;

    // Eight bytes as the big-endian number they spell: a word's first byte is its most significant.
    private static int Order(ulong x, ulong y) => BitConverter.IsLittleEndian
        ? BinaryPrimitives.ReverseEndianness(x).CompareTo(BinaryPrimitives.ReverseEndianness(y))
        : x.CompareTo(y);

    /// <summary>Bit <paramref name="index"/> counted from the most significant bit of byte 0 (index 0).</summary>
    public int Bit(int index)
    {
        var word = index switch { < 64 => _a, < 128 => _b, < 192 => _c, _ => _d };
        return (int)(BinaryPrimitives.ReverseEndianness(word) >> (63 - (index & 63))) & 1;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowWrongLength(int length) => throw new ArgumentException($"a Hash256 is 32 bytes, got {length}");
}
