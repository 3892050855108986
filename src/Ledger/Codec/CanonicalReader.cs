using System.Buffers.Binary;
using System.Text;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Codec;

/// <summary>
/// Reads the canonical encoding of <see cref="CanonicalWriter"/>. Bad input never throws: the first problem is
/// kept in <see cref="Error"/>, every later read returns a default, and <see cref="Finish"/> rejects trailing bytes.
/// Non-canonical forms are refused: a bool other than 0/1, invalid UTF-8, lengths past <see cref="MaxLength"/>.
/// </summary>
public sealed class CanonicalReader : IFieldReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly ReadOnlyMemory<byte> _data;
    private int _position;

    public CanonicalReader(ReadOnlyMemory<byte> data, int maxLength = int.MaxValue)
    {
        _data = data;
        MaxLength = maxLength;
    }

    public int MaxLength { get; }

    public string? Error { get; private set; }

    public bool Failed => Error is not null;

    public int Remaining => _data.Length - _position;

    /// <summary>Reports trailing bytes as an error; true when the whole input was read without error.</summary>
    public bool Finish()
    {
        if (!Failed && Remaining != 0)
        {
            Fail($"{Remaining} trailing bytes");
        }

        return !Failed;
    }

    public void Fail(string reason) => Error ??= $"{reason} (at byte {_position})";

    public ReadOnlySpan<byte> ReadRaw(int count)
    {
        if (Failed || count > Remaining)
        {
            Fail($"truncated: {count} bytes needed, {Remaining} left");
            return default;
        }

        var span = _data.Span.Slice(_position, count);
        _position += count;
        return span;
    }

    public byte ReadByte() => ReadRaw(1) is { Length: 1 } b ? b[0] : (byte)0;

    public ushort ReadUInt16() => ReadRaw(2) is { Length: 2 } b ? BinaryPrimitives.ReadUInt16BigEndian(b) : (ushort)0;

    public uint ReadUInt32() => ReadRaw(4) is { Length: 4 } b ? BinaryPrimitives.ReadUInt32BigEndian(b) : 0;

    public ulong ReadUInt64() => ReadRaw(8) is { Length: 8 } b ? BinaryPrimitives.ReadUInt64BigEndian(b) : 0;

    public byte[] ReadBytes()
    {
        var length = ReadUInt32();
        if (length > (uint)Math.Min(MaxLength, Remaining))
        {
            Fail($"byte string of {length} bytes is longer than what is left");
            return [];
        }

        return ReadRaw((int)length).ToArray();
    }

    public string ReadString()
    {
        var length = ReadUInt32();
        if (length > (uint)Math.Min(MaxLength, Remaining))
        {
            Fail($"string of {length} bytes is longer than what is left");
            return string.Empty;
        }

        var bytes = ReadRaw((int)length);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            Fail("string is not valid UTF-8");
            return string.Empty;
        }
    }

    byte IFieldReader.UInt8(string name) => ReadByte();

    uint IFieldReader.UInt32(string name) => ReadUInt32();

    ulong IFieldReader.UInt64(string name) => ReadUInt64();

    bool IFieldReader.Bool(string name)
    {
        var value = ReadByte();
        if (value > 1)
        {
            Fail($"bool '{name}' is {value}, not 0 or 1");
        }

        return value == 1;
    }

    Address IFieldReader.Address(string name) => ReadRaw(Address.Size) is { Length: Address.Size } b ? new Address(b) : default;

    Hash256 IFieldReader.Bytes32(string name) => ReadRaw(Hash256.Size) is { Length: Hash256.Size } b ? new Hash256(b) : default;

    string IFieldReader.String(string name) => ReadString();

    IReadOnlyList<string> IFieldReader.StringArray(string name)
    {
        var count = ReadUInt16();
        var items = new List<string>(Math.Min((int)count, Remaining / 4));
        for (var i = 0; i < count && !Failed; i++)
        {
            items.Add(ReadString());
        }

        return items;
    }
}
