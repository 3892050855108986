using Microsoft.Win32.SafeHandles;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>Where a record starts: segment number and byte offset in that segment (or in the access log, segment 0).</summary>
internal readonly record struct RecordPosition(int Segment, long Offset);

/// <summary>Walks framed records and cuts off a torn tail: the recovery step shared by segments and the access log.</summary>
internal static class RecordFile
{
    /// <summary>
    /// Hands every intact record from <paramref name="offset"/> on to <paramref name="onRecord"/> (offset, payload) and
    /// returns where the intact records end. Bytes after that are a torn tail only if no intact record follows them
    /// and <paramref name="mayHaveTail"/> (it is the file being appended to): then the file is truncated and flushed.
    /// Anything else is damage to acknowledged data and throws <see cref="StoreCorruptedException"/>.
    /// </summary>
    public static long ScanAndRepair(SafeFileHandle file, string path, long offset, uint magic, bool mayHaveTail, Action<long, ReadOnlyMemory<byte>> onRecord)
    {
        var fileLength = RandomAccess.GetLength(file);
        if (offset > fileLength)
        {
            throw new StoreCorruptedException($"{path} ends at {fileLength}, before {offset} where the last snapshot says data continues");
        }

        var buffer = new byte[1 << 20];
        while (true)
        {
            var length = RecordFraming.TryRead(file, offset, fileLength, magic, ref buffer);
            if (length < 0)
            {
                break;
            }

            onRecord(offset, buffer.AsMemory(0, length));
            offset += RecordFraming.HeaderSize + length;
        }

        if (offset == fileLength)
        {
            return offset;
        }

        if (!mayHaveTail)
        {
            throw new StoreCorruptedException($"{path} has an unreadable record at offset {offset} and is not the file being appended to");
        }

        if (HasIntactRecordAfter(file, offset, fileLength, magic))
        {
            throw new StoreCorruptedException($"{path} has a damaged record at offset {offset} followed by intact ones: not a torn write");
        }

        RandomAccess.SetLength(file, offset);
        RandomAccess.FlushToDisk(file);
        return offset;
    }

    private static bool HasIntactRecordAfter(SafeFileHandle file, long offset, long fileLength, uint magic)
    {
        var rest = new byte[fileLength - offset];
        RecordFraming.ReadExactly(file, rest, offset);
        ReadOnlySpan<byte> pattern = BitConverter.GetBytes(magic);
        var buffer = Array.Empty<byte>();
        for (var at = 1; at < rest.Length;)
        {
            var found = rest.AsSpan(at).IndexOf(pattern);
            if (found < 0)
            {
                return false;
            }

            at += found;
            if (RecordFraming.TryRead(file, offset + at, fileLength, magic, ref buffer) >= 0)
            {
                return true;
            }

            at++;
        }

        return false;
    }
}
