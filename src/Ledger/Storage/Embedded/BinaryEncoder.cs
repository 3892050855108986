using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// Little-endian writer into a growable pooled buffer: how records and snapshots are laid out. Strings are UTF-8
/// and byte strings are prefixed by their 32-bit length; an absent byte string is length -1.
/// </summary>
internal sealed class BinaryEncoder : IDisposable
{
    private byte[] _buffer;

    public BinaryEncoder(int initialCapacity = 64 * 1024) => _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);

    public int Length { get; private set; }

    public Span<byte> WrittenSpan => _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, Length);

    public void Reset() => Length = 0;

    /// <summary>The bytes the buffer holds before it must grow.</summary>
    public int Capacity => _buffer.Length;

    /// <summary>Grows the buffer, once, so that <paramref name="total"/> bytes fit without growing again.</summary>
    public void EnsureCapacity(int total)
    {
        if (total > _buffer.Length)
        {
            Grow(total);
        }
    }

    /// <summary>Reserves <paramref name="count"/> bytes to fill in later (e.g. a record header) and returns their offset.</summary>
    public int Reserve(int count)
    {
        var at = Length;
        GetSpan(count);
        return at;
    }

    public void WriteByte(byte value) => GetSpan(1)[0] = value;

    public void WriteInt16(short value) => BinaryPrimitives.WriteInt16LittleEndian(GetSpan(2), value);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32LittleEndian(GetSpan(4), value);

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64LittleEndian(GetSpan(8), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(GetSpan(4), value);

    public void WriteHash(in Hash256 value) => value.CopyTo(GetSpan(Hash256.Size));

    public void WriteAddress(in Address value) => value.Bytes.CopyTo(GetSpan(Address.Size));

    /// <summary>Writes a length-prefixed byte string and returns the offset of its first byte.</summary>
    public int WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        var at = Length;
        value.CopyTo(GetSpan(value.Length));
        return at;
    }

    public void WriteNullableBytes(byte[]? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
        }
        else
        {
            WriteBytes(value);
        }
    }

    public void WriteString(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        WriteInt32(count);
        Encoding.UTF8.GetBytes(value, GetSpan(count));
    }

    /// <summary>Writes what has been encoded to <paramref name="stream"/>, folds it into <paramref name="crc"/> and empties the buffer.</summary>
    public void DrainTo(Stream stream, ref uint crc)
    {
        crc = Crc32C.Append(crc, WrittenSpan);
        stream.Write(WrittenSpan);
        Length = 0;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    /// <summary>Advances by <paramref name="count"/> and returns the span to fill.</summary>
    private Span<byte> GetSpan(int count)
    {
        if (Length + count > _buffer.Length)
        {
            Grow(Length + count);
        }

        var span = _buffer.AsSpan(Length, count);
        Length += count;
        return span;
    }

    private void Grow(int needed)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _buffer.Length * 2));
        _buffer.AsSpan(0, Length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
