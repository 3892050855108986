using System.Buffers.Binary;
using System.Numerics;

namespace SmartCity.Ledger.Crypto.Eip712;

/// <summary>
/// Writes a struct's encodeData, one 32-byte word per field, into a caller's buffer: atomic values in place,
/// <c>string</c>/<c>bytes</c>/structs/arrays as their hash under the chain's crypto suite (Keccak-256 for eth, SM3
/// for gm; eth when no suite is given).
/// </summary>
public ref struct Eip712StructWriter
{
    private readonly Span<byte> _buffer;
    private readonly CryptoSuite? _suite;
    private int _position;

    public Eip712StructWriter(Span<byte> buffer)
        : this(buffer, null)
    {
    }

    /// <summary>A writer whose <c>string</c>, <c>bytes</c> and nested struct words use <paramref name="suite"/>'s hash (eth when null).</summary>
    public Eip712StructWriter(Span<byte> buffer, CryptoSuite? suite)
    {
        _buffer = buffer;
        _suite = suite;
        _position = 0;
    }

    /// <summary>Words written so far.</summary>
    public readonly int FieldsWritten => _position / Hash256.Size;

    public void WriteUInt(ulong value)
    {
        var word = NextWord();
        word[..24].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(word[24..], value);
    }

    public void WriteUInt(UInt128 value)
    {
        var word = NextWord();
        word[..16].Clear();
        BinaryPrimitives.WriteUInt128BigEndian(word[16..], value);
    }

    /// <summary>An <c>intN</c>: two's complement, sign-extended to 256 bits.</summary>
    public void WriteInt(long value)
    {
        var word = NextWord();
        word[..24].Fill(value < 0 ? (byte)0xFF : (byte)0);
        BinaryPrimitives.WriteInt64BigEndian(word[24..], value);
    }

    /// <summary>A <c>uint256</c> given as 32 big-endian bytes.</summary>
    public void WriteUInt256(ReadOnlySpan<byte> bigEndian32)
    {
        if (bigEndian32.Length != Hash256.Size)
        {
            throw new ArgumentException("a uint256 is 32 big-endian bytes", nameof(bigEndian32));
        }

        bigEndian32.CopyTo(NextWord());
    }

    /// <summary>A <c>uint256</c>/<c>int256</c> from an arbitrary integer (must fit 256 bits, two's complement).</summary>
    public void WriteInteger(BigInteger value)
    {
        var word = NextWord();
        var unsigned = value.Sign >= 0;
        var length = value.GetByteCount(unsigned);
        if (length > Hash256.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "does not fit 256 bits");
        }

        word.Fill(unsigned ? (byte)0 : (byte)0xFF);
        value.TryWriteBytes(word[(Hash256.Size - length)..], out _, unsigned, isBigEndian: true);
    }

    public void WriteBool(bool value)
    {
        var word = NextWord();
        word.Clear();
        word[31] = value ? (byte)1 : (byte)0;
    }

    public void WriteAddress(in Address value)
    {
        var word = NextWord();
        word[..12].Clear();
        value.Bytes.CopyTo(word[12..]);
    }

    /// <summary>A <c>bytes32</c>, or an already computed hash word (a nested struct's or an array's).</summary>
    public void WriteBytes32(in Hash256 value) => value.CopyTo(NextWord());

    /// <summary>A <c>bytesN</c> (N = 1…32): left-aligned, zero-padded.</summary>
    public void WriteFixedBytes(ReadOnlySpan<byte> value)
    {
        if (value.Length is 0 or > Hash256.Size)
        {
            throw new ArgumentException("bytesN has 1 to 32 bytes", nameof(value));
        }

        var word = NextWord();
        word.Clear();
        value.CopyTo(word);
    }

    /// <summary>A dynamic <c>bytes</c>: its hash (Keccak-256 or SM3).</summary>
    public void WriteBytes(scoped ReadOnlySpan<byte> value) => HashInto(value, NextWord());

    /// <summary>A <c>string</c>: the hash (Keccak-256 or SM3) of its UTF-8 bytes.</summary>
    public void WriteString(ReadOnlySpan<char> value) => (_suite ?? CryptoSuite.Eth).HashUtf8(value, NextWord());

    /// <summary>A nested struct: its hashStruct.</summary>
    public void WriteStruct<T>(in T value)
        where T : IEip712Struct
        => Eip712StructHasher.Hash(value, _suite).CopyTo(NextWord());

    /// <summary>An array of structs: the hash of the concatenated struct hashes.</summary>
    public void WriteStructArray<T>(ReadOnlySpan<T> values)
        where T : IEip712Struct
        => Eip712StructHasher.HashArray(values, _suite).CopyTo(NextWord());

    internal readonly void EnsureComplete(Eip712StructType type)
    {
        if (_position != _buffer.Length)
        {
            throw new InvalidOperationException($"{type.Name} declares {type.FieldCount} fields but wrote {FieldsWritten}");
        }
    }

    private readonly void HashInto(scoped ReadOnlySpan<byte> data, Span<byte> word)
    {
        if (_suite is null)
        {
            Keccak256.Hash(data, word);
        }
        else
        {
            _suite.Hash(data, word);
        }
    }

    private Span<byte> NextWord()
    {
        if (_position + Hash256.Size > _buffer.Length)
        {
            throw new InvalidOperationException($"more fields written than the struct type declares ({_buffer.Length / Hash256.Size})");
        }

        var word = _buffer.Slice(_position, Hash256.Size);
        _position += Hash256.Size;
        return word;
    }
}
