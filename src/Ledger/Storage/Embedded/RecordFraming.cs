using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// The frame around every record in a segment or the access log:
/// <c>magic u32 ‖ payload length u32 ‖ CRC-32C(length ‖ payload) u32 ‖ payload</c>, little-endian. The checksum
/// covers the length, so a torn or damaged length is caught like a damaged payload.
/// </summary>
internal static class RecordFraming
{
    public const int HeaderSize = 12;

    /// <summary>The largest payload accepted; anything bigger in a header is damage, not data.</summary>
    public const int MaxPayload = 1 << 30;

    /// <summary>Fills the <see cref="HeaderSize"/> bytes reserved at the start of <paramref name="record"/>.</summary>
    public static void Seal(Span<byte> record, uint magic)
    {
        var payloadLength = record.Length - HeaderSize;
        BinaryPrimitives.WriteUInt32LittleEndian(record, magic);
        BinaryPrimitives.WriteInt32LittleEndian(record[4..], payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], Checksum(record.Slice(4, 4), record[HeaderSize..]));
    }

    /// <summary>
    /// Reads the record at <paramref name="offset"/> into <paramref name="buffer"/> (grown as needed) and checks it.
    /// Returns the payload length, or -1 when no intact record starts there (end of data, torn or damaged).
    /// </summary>
    public static int TryRead(SafeFileHandle file, long offset, long fileLength, uint magic, ref byte[] buffer)
    {
        if (fileLength - offset < HeaderSize)
        {
            return -1;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        if (RandomAccess.Read(file, header, offset) != HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(header) != magic)
        {
            return -1;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        if (length is < 0 or > MaxPayload || fileLength - offset - HeaderSize < length)
        {
            return -1;
        }

        if (buffer.Length < length)
        {
            buffer = new byte[Math.Max(length, buffer.Length * 2)];
        }

        var payload = buffer.AsSpan(0, length);
        if (ReadExactly(file, payload, offset + HeaderSize) != length)
        {
            return -1;
        }

        return BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) == Checksum(header.Slice(4, 4), payload) ? length : -1;
    }

    public static int ReadExactly(SafeFileHandle file, Span<byte> destination, long offset)
    {
        var total = 0;
        while (total < destination.Length)
        {
            var read = RandomAccess.Read(file, destination[total..], offset + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    private static uint Checksum(ReadOnlySpan<byte> length, ReadOnlySpan<byte> payload) =>
        Crc32C.Finish(Crc32C.Append(Crc32C.Append(Crc32C.Start, length), payload));
}
