using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SmartCity.Ledger.Crypto;

/// <summary>
/// A signature in its suite's wire form (docs/crypto.md, "Crypto suites"):
/// <list type="bullet">
/// <item><b>eth</b> (the default): a recoverable secp256k1 ECDSA signature in Ethereum's 65-byte form r‖s‖v, with r
/// and s big-endian and v either 27/28 (as wallets emit it) or 0/1 (the raw recovery id);</item>
/// <item><b>gm</b>: an SM2 signature with the signer's public key, 128 bytes r‖s‖x‖y, because SM2 has no public-key
/// recovery: the verifier checks r‖s against x‖y and derives the signer's address from x‖y.</item>
/// </list>
/// Constructing one never validates the numbers: that is what the suite's scheme does, with a typed
/// <see cref="SignatureCheck"/> result. <c>default</c> is 65 zero bytes of the eth form.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly struct Signature : IEquatable<Signature>
{
    /// <summary>The eth form: r‖s‖v.</summary>
    public const int Size = 65;

    /// <summary>The gm form: r‖s‖x‖y.</summary>
    public const int Sm2Size = 128;

    /// <summary>The longest form of any suite.</summary>
    public const int MaxSize = Sm2Size;

    private readonly SignatureBytes _bytes;
    private readonly CryptoSuiteId _suite;

    /// <summary>An eth signature, 65 bytes r‖s‖v.</summary>
    public Signature(ReadOnlySpan<byte> rsv)
    {
        if (rsv.Length != Size)
        {
            ThrowWrongLength(rsv.Length);
        }

        rsv.CopyTo(_bytes);
    }

    public Signature(ReadOnlySpan<byte> r, ReadOnlySpan<byte> s, byte v)
    {
        if (r.Length != 32 || s.Length != 32)
        {
            ThrowWrongLength(r.Length + s.Length + 1);
        }

        r.CopyTo(_bytes);
        s.CopyTo(((Span<byte>)_bytes)[32..]);
        _bytes[64] = v;
    }

    private Signature(ReadOnlySpan<byte> bytes, CryptoSuiteId suite)
    {
        bytes.CopyTo(_bytes);
        _suite = suite;
    }

    /// <summary>Builds r‖s‖v from a 64-byte compact r‖s and a recovery id 0/1, with v written as 27/28.</summary>
    public static Signature FromCompact(ReadOnlySpan<byte> compact64, int recoveryId)
        => new(compact64[..32], compact64[32..64], (byte)(27 + recoveryId));

    /// <summary>A gm signature: 64 bytes r‖s (big-endian) and the signer's 64-byte public key x‖y.</summary>
    public static Signature Sm2(ReadOnlySpan<byte> rs64, ReadOnlySpan<byte> publicKey64)
    {
        if (rs64.Length != 64 || publicKey64.Length != 64)
        {
            ThrowWrongLength(rs64.Length + publicKey64.Length);
        }

        Span<byte> bytes = stackalloc byte[Sm2Size];
        rs64.CopyTo(bytes);
        publicKey64.CopyTo(bytes[64..]);
        return new Signature(bytes, CryptoSuiteId.Gm);
    }

    /// <summary>The wire size of a signature of <paramref name="suite"/>.</summary>
    public static int SizeOf(CryptoSuiteId suite) => suite == CryptoSuiteId.Gm ? Sm2Size : Size;

    /// <summary>Reads a signature of either suite from its wire form, telling them apart by length (65 or 128).</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out Signature signature)
    {
        switch (bytes.Length)
        {
            case Size:
                signature = new Signature(bytes);
                return true;
            case Sm2Size:
                signature = new Signature(bytes, CryptoSuiteId.Gm);
                return true;
            default:
                signature = default;
                return false;
        }
    }

    /// <summary>Which suite's form this is.</summary>
    public CryptoSuiteId Suite => _suite;

    /// <summary>The wire form: 65 bytes (eth) or 128 bytes (gm).</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> Bytes => ((ReadOnlySpan<byte>)_bytes)[..SizeOf(_suite)];

    /// <summary>r, 32 bytes big-endian.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> R => ((ReadOnlySpan<byte>)_bytes)[..32];

    /// <summary>s, 32 bytes big-endian.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> S => ((ReadOnlySpan<byte>)_bytes).Slice(32, 32);

    /// <summary>r‖s, the 64-byte compact form libsecp256k1 parses (and the plain SM2 r‖s).</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> Compact => ((ReadOnlySpan<byte>)_bytes)[..64];

    /// <summary>The signer's public key x‖y carried by a gm signature; empty for eth, which recovers it.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> PublicKey => _suite == CryptoSuiteId.Gm ? ((ReadOnlySpan<byte>)_bytes)[64..128] : [];

    /// <summary>v of an eth signature (0 for gm, which has none).</summary>
    public byte V => _suite == CryptoSuiteId.Eth ? _bytes[64] : (byte)0;

    /// <summary>0 or 1 for v in {0, 1, 27, 28}; -1 for any other v, and for a gm signature.</summary>
    public int RecoveryId => _suite != CryptoSuiteId.Eth ? -1 : _bytes[64] switch
    {
        0 or 27 => 0,
        1 or 28 => 1,
        _ => -1,
    };

    public byte[] ToArray() => Bytes.ToArray();

    public static Signature Parse(string text)
        => TryParse(text, out var signature) ? signature : throw new FormatException("a signature is 65 bytes (130 hex digits, r‖s‖v) or, in the gm suite, 128 bytes (256 hex digits, r‖s‖x‖y)");

    /// <summary>Parses 0x hex of either form: 130 digits (eth r‖s‖v) or 256 digits (gm r‖s‖x‖y).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Signature signature)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            text = text[2..];
        }

        Span<byte> bytes = stackalloc byte[MaxSize];
        if ((text.Length != Size * 2 && text.Length != Sm2Size * 2)
            || Convert.FromHexString(text, bytes, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            signature = default;
            return false;
        }

        return TryRead(bytes[..written], out signature);
    }

    public override string ToString() => "0x" + Convert.ToHexStringLower(Bytes);

    public bool Equals(Signature other) => _suite == other._suite && Bytes.SequenceEqual(other.Bytes);

    public override bool Equals(object? obj) => obj is Signature other && Equals(other);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.Add(_suite);
        hash.AddBytes(Bytes);
        return hash.ToHashCode();
    }

    public static bool operator ==(Signature left, Signature right) => left.Equals(right);

    public static bool operator !=(Signature left, Signature right) => !left.Equals(right);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowWrongLength(int length) => throw new ArgumentException($"a signature is {Size} bytes (r‖s‖v) or {Sm2Size} (r‖s‖x‖y), got {length}");

    [InlineArray(MaxSize)]
    private struct SignatureBytes
    {
        private byte _element0;
    }
}
