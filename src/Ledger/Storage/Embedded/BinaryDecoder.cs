using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// Reads what <see cref="BinaryEncoder"/> wrote. Input has passed its checksum, so running out of bytes or a
/// negative length means a format bug or damage the checksum missed: both are <see cref="StoreCorruptedException"/>.
/// </summary>
internal ref struct BinaryDecoder(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;

    public int Position { get; private set; }

    public readonly bool IsAtEnd => Position == _data.Length;

    public byte ReadByte() => Take(1)[0];

    public short ReadInt16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public Hash256 ReadHash() => new(Take(Hash256.Size));

    public Address ReadAddress() => new(Take(Address.Size));

    /// <summary>A length-prefixed byte string, without copying; <paramref name="offset"/> is where its bytes start.</summary>
    public ReadOnlySpan<byte> ReadBytes(out int offset)
    {
        var length = ReadLength();
        offset = Position;
        return Take(length);
    }

    public ReadOnlySpan<byte> ReadBytes() => ReadBytes(out _);

    public byte[]? ReadNullableBytes() => ReadNullableBytes(out _);

    /// <summary>As <see cref="ReadNullableBytes()"/>; <paramref name="offset"/> is where the bytes start (-1 for null).</summary>
    public byte[]? ReadNullableBytes(out int offset)
    {
        var length = ReadInt32();
        if (length == -1)
        {
            offset = -1;
            return null;
        }

        offset = Position;
        return Take(CheckLength(length)).ToArray();
    }

    /// <summary>Passes over what <see cref="ReadNullableBytes()"/> reads, with the same checks, copying nothing.</summary>
    public void SkipNullableBytes()
    {
        var length = ReadInt32();
        if (length != -1)
        {
            Take(CheckLength(length));
        }
    }

    public string ReadString() => Encoding.UTF8.GetString(Take(ReadLength()));

    public void Skip(int count) => Take(count);

    private int ReadLength() => CheckLength(ReadInt32());

    private static int CheckLength(int length)
    {
        if (length < 0)
        {
            ThrowCorrupted($"negative length {length}");
        }

        return length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)(_data.Length - Position))
        {
            ThrowCorrupted($"a field of {count} bytes runs past the end at {Position} of {_data.Length}");
        }

        var span = _data.Slice(Position, count);
        Position += count;
        return span;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowCorrupted(string detail) => throw new StoreCorruptedException($"undecodable stored data: {detail}");
}
