using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// The append-only block log: numbered segment files (<c>00000000.seg</c>, …) of framed block records. A segment
/// starts with a 16-byte file header (<c>"SCSG"</c>, format version, segment number); a record never spans two
/// segments, and a new segment is started when the next record would push the current one past the segment size.
/// One writer appends; readers read any committed record concurrently with positional reads.
/// </summary>
internal sealed class SegmentLog : IDisposable
{
    public const uint BlockMagic = 0x31424353; // "SCB1"
    public const int FileHeaderSize = 16;
    private const uint SegmentMagic = 0x47534353; // "SCSG"
    private const int FormatVersion = 1;

    private readonly string _directory;
    private readonly long _segmentSize;
    private volatile SafeFileHandle[] _segments;
    private long _activeLength;

    private SegmentLog(string directory, long segmentSize, SafeFileHandle[] segments)
    {
        _directory = directory;
        _segmentSize = segmentSize;
        _segments = segments;
    }

    public int ActiveSegment => _segments.Length - 1;

    public RecordPosition End => new(ActiveSegment, _activeLength);

    public static SegmentLog Open(string directory, long segmentSize)
    {
        Directory.CreateDirectory(directory);
        var numbers = Directory.EnumerateFiles(directory, "*.seg")
            .Select(path => int.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1)
            .Order()
            .ToArray();
        for (var i = 0; i < numbers.Length; i++)
        {
            if (numbers[i] != i)
            {
                throw new StoreCorruptedException($"segment files in {directory} are not numbered 0..{numbers.Length - 1} (found {numbers[i]} at position {i})");
            }
        }

        var handles = numbers.Select(n => File.OpenHandle(PathOf(directory, n), FileMode.Open, FileAccess.ReadWrite, FileShare.Read)).ToArray();
        var log = new SegmentLog(directory, segmentSize, handles);
        if (handles.Length == 0)
        {
            log.StartSegment(0);
        }

        return log;
    }

    /// <summary>
    /// Replays every intact record from <paramref name="from"/> to the end (see <see cref="RecordFile.ScanAndRepair"/>)
    /// and positions the writer after the last one.
    /// </summary>
    public void Recover(RecordPosition from, Action<RecordPosition, ReadOnlyMemory<byte>> onRecord)
    {
        var segments = _segments;
        if (from.Segment >= segments.Length)
        {
            throw new StoreCorruptedException($"the snapshot refers to segment {from.Segment}, but {_directory} holds {segments.Length} segments");
        }

        for (var number = from.Segment; number < segments.Length; number++)
        {
            var isLast = number == segments.Length - 1;
            CheckFileHeader(number, isLast);
            var start = number == from.Segment ? Math.Max(from.Offset, FileHeaderSize) : FileHeaderSize;
            var end = RecordFile.ScanAndRepair(_segments[number], PathOf(_directory, number), start, BlockMagic, isLast,
                (offset, payload) => onRecord(new RecordPosition(number, offset), payload));
            if (isLast)
            {
                _activeLength = end;
            }
        }
    }

    /// <summary>Writes <paramref name="record"/> (already framed) and flushes it to the disk before returning its position.</summary>
    public RecordPosition Append(ReadOnlySpan<byte> record)
    {
        if (_activeLength > FileHeaderSize && _activeLength + record.Length > _segmentSize)
        {
            StartSegment(_segments.Length);
        }

        var segment = _segments[^1];
        var position = new RecordPosition(_segments.Length - 1, _activeLength);
        try
        {
            RandomAccess.Write(segment, record, _activeLength);
            RandomAccess.FlushToDisk(segment);
        }
        catch (IOException ex)
        {
            // Leave no partial record behind for the next append to land after.
            TryTruncate(segment, _activeLength);
            throw new StoreUnavailableException($"cannot append to segment {position.Segment} in {_directory}: {ex.Message}", ex);
        }

        _activeLength += record.Length;
        return position;
    }

    /// <summary>Reads and checks the record at <paramref name="position"/>; the payload is a fresh array.</summary>
    public byte[] ReadPayload(RecordPosition position)
    {
        var buffer = Array.Empty<byte>();
        var handle = _segments[position.Segment];
        var length = RecordFraming.TryRead(handle, position.Offset, RandomAccess.GetLength(handle), BlockMagic, ref buffer);
        if (length < 0)
        {
            throw new StoreCorruptedException($"the committed record at segment {position.Segment} offset {position.Offset} fails its checksum");
        }

        return buffer.Length == length ? buffer : buffer[..length];
    }

    /// <summary>Reads <paramref name="destination"/>.Length bytes of committed data at a known place.</summary>
    public void ReadAt(int segment, long offset, Span<byte> destination)
    {
        if (RecordFraming.ReadExactly(_segments[segment], destination, offset) != destination.Length)
        {
            throw new StoreCorruptedException($"segment {segment} ends before offset {offset + destination.Length}");
        }
    }

    public void Dispose()
    {
        foreach (var handle in _segments)
        {
            handle.Dispose();
        }
    }

    private static string PathOf(string directory, int number) =>
        Path.Combine(directory, number.ToString("D8", CultureInfo.InvariantCulture) + ".seg");

    private void StartSegment(int number)
    {
        var handle = File.OpenHandle(PathOf(_directory, number), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
        Span<byte> header = stackalloc byte[FileHeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, SegmentMagic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], FormatVersion);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], number);
        RandomAccess.Write(handle, header, 0);
        RandomAccess.FlushToDisk(handle);
        DirectorySync.Flush(_directory);
        _segments = [.. _segments, handle];
        _activeLength = FileHeaderSize;
    }

    private void CheckFileHeader(int number, bool isLast)
    {
        var handle = _segments[number];
        Span<byte> header = stackalloc byte[FileHeaderSize];
        var read = RecordFraming.ReadExactly(handle, header, 0);
        if (read == FileHeaderSize && BinaryPrimitives.ReadUInt32LittleEndian(header) == SegmentMagic
            && BinaryPrimitives.ReadInt32LittleEndian(header[4..]) == FormatVersion && BinaryPrimitives.ReadInt64LittleEndian(header[8..]) == number)
        {
            return;
        }

        if (isLast && RandomAccess.GetLength(handle) <= FileHeaderSize)
        {
            // A crash while the segment was being started: nothing was ever committed to it, so start it again.
            handle.Dispose();
            File.Delete(PathOf(_directory, number));
            _segments = _segments[..^1];
            StartSegment(number);
            return;
        }

        throw new StoreCorruptedException($"segment {PathOf(_directory, number)} has no valid file header");
    }

    private static void TryTruncate(SafeFileHandle handle, long length)
    {
        try
        {
            RandomAccess.SetLength(handle, length);
        }
        catch (IOException)
        {
            // Recovery at the next start truncates the torn tail instead.
        }
    }
}
