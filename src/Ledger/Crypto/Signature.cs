using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SmartCity.Ledger.Crypto;

/// <summary>
/// A recoverable secp256k1 ECDSA signature in Ethereum's 65-byte form r‖s‖v, with r and s big-endian and v either
/// 27/28 (as wallets emit it) or 0/1 (the raw recovery id). Constructing one never validates the numbers: that is
/// what <see cref="ISecp256k1.Recover"/> does, with a typed <see cref="SignatureCheck"/> result.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly struct Signature : IEquatable<Signature>
{
    public const int Size = 65;

    private readonly Hash256 _r;
    private readonly Hash256 _s;
    private readonly byte _v;

    public Signature(ReadOnlySpan<byte> rsv)
    {
        if (rsv.Length != Size)
        {
            ThrowWrongLength(rsv.Length);
        }

        this = MemoryMarshal.Read<Signature>(rsv);
    }

    public Signature(ReadOnlySpan<byte> r, ReadOnlySpan<byte> s, byte v)
    {
        _r = new Hash256(r);
        _s = new Hash256(s);
        _v = v;
    }

    /// <summary>Builds r‖s‖v from a 64-byte compact r‖s and a recovery id 0/1, with v written as 27/28.</summary>
    public static Signature FromCompact(ReadOnlySpan<byte> compact64, int recoveryId)
        => new(compact64[..32], compact64[32..64], (byte)(27 + recoveryId));

    [UnscopedRef]
    public ReadOnlySpan<byte> Bytes => MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in this, 1));

    /// <summary>r, 32 bytes big-endian.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> R => _r.Bytes;

    /// <summary>s, 32 bytes big-endian.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> S => _s.Bytes;

    /// <summary>r‖s, the 64-byte compact form libsecp256k1 parses.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> Compact => Bytes[..64];

    public byte V => _v;

    /// <summary>0 or 1 for v in {0, 1, 27, 28}; -1 for any other v.</summary>
    public int RecoveryId => _v switch
    {
        0 or 27 => 0,
        1 or 28 => 1,
        _ => -1,
    };

    public byte[] ToArray() => Bytes.ToArray();

    public static Signature Parse(string text)
        => TryParse(text, out var signature) ? signature : throw new FormatException("a signature is 65 bytes (130 hex digits, r‖s‖v)");

    public static bool TryParse(ReadOnlySpan<char> text, out Signature signature)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            text = text[2..];
        }

        Span<byte> bytes = stackalloc byte[Size];
        if (text.Length != Size * 2 || Convert.FromHexString(text, bytes, out _, out _) != System.Buffers.OperationStatus.Done)
        {
            signature = default;
            return false;
        }

        signature = new Signature(bytes);
        return true;
    }

    public override string ToString() => "0x" + Convert.ToHexStringLower(Bytes);

    public bool Equals(Signature other) => _r == other._r && _s == other._s && _v == other._v;

    public override bool Equals(object? obj) => obj is Signature other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_r, _s, _v);

    public static bool operator ==(Signature left, Signature right) => left.Equals(right);

    public static bool operator !=(Signature left, Signature right) => !left.Equals(right);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowWrongLength(int length) => throw new ArgumentException($"a signature is {Size} bytes (r‖s‖v), got {length}");
}
