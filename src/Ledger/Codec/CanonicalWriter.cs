using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Codec;

/// <summary>
/// The canonical binary encoding: fields in fixed order, no names, no maps; integers big-endian fixed width;
/// bool one byte 0 or 1; address 20 bytes; bytes32 32 bytes; string a u32 byte length and UTF-8; byte strings a
/// u32 length and the bytes; string[] a u16 count and the strings. One value has exactly one encoding.
/// </summary>
public sealed class CanonicalWriter : IFieldWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public int Length => _buffer.WrittenCount;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.GetSpan(2), value);
        _buffer.Advance(2);
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteUInt32((uint)bytes.Length);
        _buffer.Write(bytes);
    }

    public void WriteString(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        WriteUInt32((uint)length);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(length));
        _buffer.Advance(length);
    }

    void IFieldWriter.UInt8(string name, byte value) => WriteByte(value);

    void IFieldWriter.UInt32(string name, uint value) => WriteUInt32(value);

    void IFieldWriter.UInt64(string name, ulong value) => WriteUInt64(value);

    void IFieldWriter.Bool(string name, bool value) => WriteByte(value ? (byte)1 : (byte)0);

    void IFieldWriter.Address(string name, Address value) => WriteRaw(value.Bytes);

    void IFieldWriter.Bytes32(string name, Hash256 value) => WriteRaw(value.Bytes);

    void IFieldWriter.String(string name, string value) => WriteString(value);

    void IFieldWriter.StringArray(string name, IReadOnlyList<string> value)
    {
        WriteUInt16(checked((ushort)value.Count));
        foreach (var item in value)
        {
            WriteString(item);
        }
    }
}
