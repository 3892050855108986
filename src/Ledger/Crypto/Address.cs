using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SmartCity.Ledger.Crypto;

/// <summary>
/// An Ethereum-style account address: the last 20 bytes of Keccak-256 of the uncompressed public key (without its
/// 0x04 prefix). Text form is EIP-55 mixed-case checksummed hex; parsing accepts all-lower or all-upper hex and
/// rejects mixed case whose checksum is wrong.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly struct Address : IEquatable<Address>, IComparable<Address>
{
    public const int Size = 20;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly uint _c;

    public Address(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            ThrowWrongLength(bytes.Length);
        }

        this = MemoryMarshal.Read<Address>(bytes);
    }

    public static Address Zero => default;

    public bool IsZero => (_a | _b | _c) == 0;

    [UnscopedRef]
    public ReadOnlySpan<byte> Bytes => MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in this, 1));

    public byte[] ToArray() => Bytes.ToArray();

    /// <summary>The address of a 64-byte uncompressed public key (x‖y, no 0x04 prefix).</summary>
    public static Address FromPublicKey(ReadOnlySpan<byte> publicKey64)
    {
        if (publicKey64.Length != 64)
        {
            ThrowWrongLength(publicKey64.Length);
        }

        Span<byte> hash = stackalloc byte[Hash256.Size];
        Keccak256.Hash(publicKey64, hash);
        return new Address(hash[12..]);
    }

    public static Address Parse(string text) => TryParse(text, out var address, out var error) ? address : throw new FormatException(error);

    /// <summary>Parses 0x-prefixed (or bare) 40-digit hex; a mixed-case input must carry a valid EIP-55 checksum.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Address address, [NotNullWhen(false)] out string? error)
    {
        address = default;
        if (text.StartsWith("0x", StringComparison.Ordinal) || text.StartsWith("0X", StringComparison.Ordinal))
        {
            text = text[2..];
        }

        if (text.Length != Size * 2)
        {
            error = $"an address is 40 hex digits, got {text.Length}";
            return false;
        }

        Span<byte> bytes = stackalloc byte[Size];
        if (Convert.FromHexString(text, bytes, out _, out _) != System.Buffers.OperationStatus.Done)
        {
            error = "an address must be hex digits";
            return false;
        }

        address = new Address(bytes);
        bool hasLower = false, hasUpper = false;
        foreach (var ch in text)
        {
            hasLower |= ch is >= 'a' and <= 'f';
            hasUpper |= ch is >= 'A' and <= 'F';
        }

        if (hasLower && hasUpper)
        {
            Span<char> expected = stackalloc char[Size * 2];
            address.FormatChecksummed(expected);
            if (!text.SequenceEqual(expected))
            {
                address = default;
                error = "the address has mixed case but a wrong EIP-55 checksum";
                return false;
            }
        }

        error = null;
        return true;
    }

    /// <summary>EIP-55: a hex letter is upper case when the matching nibble of Keccak-256(lower-case hex) is ≥ 8.</summary>
    public override string ToString()
    {
        Span<char> text = stackalloc char[Size * 2];
        FormatChecksummed(text);
        return string.Concat("0x", text);
    }

    private void FormatChecksummed(Span<char> destination)
    {
        Span<byte> ascii = stackalloc byte[Size * 2];
        for (var i = 0; i < Size; i++)
        {
            ascii[2 * i] = (byte)"0123456789abcdef"[Bytes[i] >> 4];
            ascii[(2 * i) + 1] = (byte)"0123456789abcdef"[Bytes[i] & 0xF];
        }

        Span<byte> hash = stackalloc byte[Hash256.Size];
        Keccak256.Hash(ascii, hash);
        for (var i = 0; i < ascii.Length; i++)
        {
            var nibble = (i & 1) == 0 ? hash[i / 2] >> 4 : hash[i / 2] & 0xF;
            var ch = (char)ascii[i];
            destination[i] = ch >= 'a' && nibble >= 8 ? (char)(ch - 32) : ch;
        }
    }

    public bool Equals(Address other) => _a == other._a && _b == other._b && _c == other._c;

    public override bool Equals(object? obj) => obj is Address other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);

    public int CompareTo(Address other) => Bytes.SequenceCompareTo(other.Bytes);

    public static bool operator ==(Address left, Address right) => left.Equals(right);

    public static bool operator !=(Address left, Address right) => !left.Equals(right);

    public static bool operator <(Address left, Address right) => left.CompareTo(right) < 0;

    public static bool operator >(Address left, Address right) => left.CompareTo(right) > 0;

    public static bool operator <=(Address left, Address right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Address left, Address right) => left.CompareTo(right) >= 0;

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowWrongLength(int length) => throw new ArgumentException($"expected {Size} bytes (or a 64-byte public key), got {length}");
}
