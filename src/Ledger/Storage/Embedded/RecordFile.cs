using Microsoft.Win32.SafeHandles;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>Where a record starts: segment number and byte offset in that segment (or in the access log, segment 0).</summary>
internal readonly record struct RecordPosition(int Segment, long Offset);

/// <summary>What a scan of a record file found after its last intact record.</summary>
/// <param name="End">Where the intact records end.</param>
/// <param name="FileLength">The file's length; bytes in [End, FileLength) did not read back as a record.</param>
/// <param name="IntactRecordFollows">An intact record starts somewhere after <see cref="End"/>: the bytes at End are damage, not a torn write.</param>
internal readonly record struct RecordScan(long End, long FileLength, bool IntactRecordFollows)
{
    public bool HasUnreadableTail => End < FileLength;
}

/// <summary>Walks framed records and cuts off a torn tail: the recovery step shared by segments and the access log.</summary>
internal static class RecordFile
{
    /// <summary>
    /// Hands every intact record from <paramref name="offset"/> on to <paramref name="onRecord"/> (offset, payload) and
    /// says where they end and what follows. Changes nothing.
    /// </summary>
    public static RecordScan Scan(SafeFileHandle file, string path, long offset, uint magic, Action<long, ReadOnlyMemory<byte>> onRecord)
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

        return new RecordScan(offset, fileLength, offset < fileLength && HasIntactRecordAfter(file, offset, fileLength, magic));
    }

    /// <summary>
    /// <see cref="Scan"/>, then: bytes after the last intact record are a torn tail only if no intact record follows
    /// them and <paramref name="mayHaveTail"/> (it is the file being appended to): then the file is truncated and
    /// flushed. Anything else is damage to acknowledged data and throws <see cref="StoreCorruptedException"/>.
    /// </summary>
    public static RecordScan ScanAndRepair(SafeFileHandle file, string path, long offset, uint magic, bool mayHaveTail, bool readOnly, Action<long, ReadOnlyMemory<byte>> onRecord)
    {
        var scan = Scan(file, path, offset, magic, onRecord);
        if (!scan.HasUnreadableTail)
        {
            return scan;
        }

        if (!mayHaveTail)
        {
            throw new StoreCorruptedException($"{path} has an unreadable record at offset {scan.End} and is not the file being appended to");
        }

        if (scan.IntactRecordFollows)
        {
            throw new StoreCorruptedException($"{path} has a damaged record at offset {scan.End} followed by intact ones: not a torn write");
        }

        if (!readOnly)
        {
            Truncate(file, scan.End);
        }

        return scan;
    }

    public static void Truncate(SafeFileHandle file, long length)
    {
        RandomAccess.SetLength(file, length);
        RandomAccess.FlushToDisk(file);
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
