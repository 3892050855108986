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
    private readonly bool _readOnly;
    private readonly StorageFaults _faults;
    private volatile SafeFileHandle[] _segments;
    private long _activeLength;
    private string? _failure;

    private SegmentLog(string directory, long segmentSize, SafeFileHandle[] segments, bool readOnly, StorageFaults faults)
    {
        _directory = directory;
        _segmentSize = segmentSize;
        _segments = segments;
        _readOnly = readOnly;
        _faults = faults;
    }

    public int ActiveSegment => _segments.Length - 1;

    public int SegmentCount => _segments.Length;

    public RecordPosition End => new(ActiveSegment, _activeLength);

    public string Directory => _directory;

    /// <summary>Set once a flush failed: the log refuses every later append (see <see cref="StoreFailedException"/>).</summary>
    public string? Failure => _failure;

    public static string PathOf(string directory, int number) =>
        Path.Combine(directory, number.ToString("D8", CultureInfo.InvariantCulture) + ".seg");

    public static SegmentLog Open(string directory, long segmentSize, bool readOnly = false, StorageFaults? faults = null)
    {
        if (!readOnly)
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        else if (!System.IO.Directory.Exists(directory))
        {
            return new SegmentLog(directory, segmentSize, [], readOnly, faults ?? StorageFaults.None);
        }

        var numbers = System.IO.Directory.EnumerateFiles(directory, "*.seg")
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

        var access = readOnly ? FileAccess.Read : FileAccess.ReadWrite;
        var handles = numbers.Select(n => File.OpenHandle(PathOf(directory, n), FileMode.Open, access, FileShare.ReadWrite)).ToArray();
        var log = new SegmentLog(directory, segmentSize, handles, readOnly, faults ?? StorageFaults.None);
        if (handles.Length == 0 && !readOnly)
        {
            log.StartSegment(0);
        }

        return log;
    }

    /// <summary>
    /// Replays every intact record from <paramref name="from"/> to the end and says what follows the last one; changes
    /// nothing (the store decides what a damaged tail is, see <see cref="TruncateTail"/>). The writer is positioned
    /// after the last intact record.
    /// </summary>
    public SegmentScan Recover(RecordPosition from, Action<RecordPosition, ReadOnlyMemory<byte>> onRecord)
    {
        var segments = _segments;
        if (segments.Length == 0)
        {
            return new SegmentScan(null, false, new RecordPosition(0, FileHeaderSize));
        }

        if (from.Segment >= segments.Length)
        {
            throw new StoreCorruptedException($"the snapshot refers to segment {from.Segment}, but {_directory} holds {segments.Length} segments");
        }

        var restarted = false;
        for (var number = from.Segment; number < segments.Length; number++)
        {
            var isLast = number == segments.Length - 1;
            if (!CheckFileHeader(number, isLast))
            {
                restarted = true;
                _activeLength = FileHeaderSize;
                continue;
            }

            var start = number == from.Segment ? Math.Max(from.Offset, FileHeaderSize) : FileHeaderSize;
            var scan = RecordFile.Scan(_segments[number], PathOf(_directory, number), start, BlockMagic,
                (offset, payload) => onRecord(new RecordPosition(number, offset), payload));
            if (scan.HasUnreadableTail)
            {
                _activeLength = scan.End;
                return new SegmentScan(new SegmentDamage(number, scan.End, scan.FileLength, isLast, scan.IntactRecordFollows), restarted, new RecordPosition(number, scan.End));
            }

            if (isLast)
            {
                _activeLength = scan.End;
            }
        }

        return new SegmentScan(null, restarted, End);
    }

    /// <summary>
    /// Scans one whole segment (file header, then every intact record) without changing anything; null when the
    /// segment is a last one whose header was never completed (it holds nothing).
    /// </summary>
    public RecordScan? ScanSegment(int number, bool isLast, Action<long, ReadOnlyMemory<byte>> onRecord)
    {
        if (!CheckFileHeader(number, isLast))
        {
            return null;
        }

        return RecordFile.Scan(_segments[number], PathOf(_directory, number), FileHeaderSize, BlockMagic, onRecord);
    }

    /// <summary>Cuts the torn record at the end of the last segment (after <see cref="Recover"/> found it).</summary>
    public void TruncateTail(SegmentDamage damage)
    {
        if (_readOnly || !damage.InLastSegment)
        {
            throw new InvalidOperationException("only a writable log's last segment is ever truncated");
        }

        RecordFile.Truncate(_segments[damage.Segment], damage.Offset);
        _activeLength = damage.Offset;
    }

    /// <summary>
    /// Writes <paramref name="record"/> (already framed) and flushes it to the disk before returning its position. A
    /// failed write (disk full, EIO) is undone and reported as <see cref="StoreUnavailableException"/>: the store can
    /// go on once the cause is fixed. A failed flush is fatal for this instance (<see cref="StoreFailedException"/>):
    /// after a failed fsync the kernel may have dropped the dirty pages and cleared the error, so only a restart, which
    /// reads what really reached the disk, can go on safely.
    /// </summary>
    public RecordPosition Append(ReadOnlySpan<byte> record)
    {
        if (_failure is not null)
        {
            throw new StoreFailedException(_failure);
        }

        if (_readOnly)
        {
            throw new InvalidOperationException("the store was opened read-only");
        }

        if (_activeLength > FileHeaderSize && _activeLength + record.Length > _segmentSize)
        {
            StartSegment(_segments.Length);
        }

        var segment = _segments[^1];
        var position = new RecordPosition(_segments.Length - 1, _activeLength);
        var name = Path.GetFileName(PathOf(_directory, position.Segment));
        try
        {
            _faults.BeforeWrite(name);
            RandomAccess.Write(segment, record, _activeLength);
        }
        catch (IOException ex)
        {
            // Leave no partial record behind for the next append to land after.
            TryTruncate(segment, _activeLength);
            throw new StoreUnavailableException($"cannot append to segment {position.Segment} in {_directory} ({Describe(ex)}); nothing was written, the store goes on when the cause is fixed", ex);
        }

        try
        {
            _faults.BeforeFlush(name);
            RandomAccess.FlushToDisk(segment);
        }
        catch (IOException ex)
        {
            _failure = $"flushing segment {position.Segment} in {_directory} failed ({ex.Message}); this store instance accepts no more writes: restart the node so recovery reads what reached the disk";
            throw new StoreFailedException(_failure, ex);
        }

        _activeLength += record.Length;
        return position;
    }

    /// <summary>Marks the log failed (a later step of a commit, such as the head marker's flush, failed).</summary>
    public void Fail(string reason) => _failure ??= reason;

    /// <summary>Reads the 32 bytes at a known place of committed data (a stored hash).</summary>
    public Crypto.Hash256 ReadHash(int segment, long offset)
    {
        Span<byte> bytes = stackalloc byte[Crypto.Hash256.Size];
        ReadAt(segment, offset, bytes);
        return new Crypto.Hash256(bytes);
    }

    /// <summary>Reads a length-prefixed byte string at a known place of committed data.</summary>
    public byte[] ReadLengthPrefixed(int segment, long offset)
    {
        Span<byte> prefix = stackalloc byte[sizeof(int)];
        ReadAt(segment, offset, prefix);
        var length = BinaryPrimitives.ReadInt32LittleEndian(prefix);
        if (length is < 0 or > RecordFraming.MaxPayload)
        {
            throw new StoreCorruptedException($"segment {segment} offset {offset} holds no stored value (length {length})");
        }

        var bytes = new byte[length];
        ReadAt(segment, offset + sizeof(int), bytes);
        return bytes;
    }

    private static string Describe(IOException ex) =>
        ex.HResult == 28 || ex.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase) ? $"the disk is full: {ex.Message}" : ex.Message;

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

    /// <summary>
    /// Reads and checks the record at <paramref name="position"/> like <see cref="ReadPayload"/>, into an array rented
    /// from <see cref="System.Buffers.ArrayPool{T}.Shared"/> (the caller returns it); the payload is its first
    /// <paramref name="length"/> bytes.
    /// </summary>
    public byte[] ReadPayloadPooled(RecordPosition position, out int length)
    {
        var handle = _segments[position.Segment];
        var fileLength = RandomAccess.GetLength(handle);
        Span<byte> framing = stackalloc byte[RecordFraming.HeaderSize];
        var declared = RecordFraming.ReadExactly(handle, framing, position.Offset) == framing.Length
            ? Math.Clamp(System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(framing[4..]), 0, RecordFraming.MaxPayload)
            : 0;
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(declared, 1));
        var buffer = rented;
        length = RecordFraming.TryRead(handle, position.Offset, fileLength, BlockMagic, ref buffer);
        if (length < 0)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            throw new StoreCorruptedException($"the committed record at segment {position.Segment} offset {position.Offset} fails its checksum");
        }

        if (!ReferenceEquals(buffer, rented))
        {
            // TryRead outgrew the rented array (the framing read above saw a shorter length): hand back a pooled copy
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            var copy = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
            buffer.AsSpan(0, length).CopyTo(copy);
            buffer = copy;
        }

        return buffer;
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

    private void StartSegment(int number)
    {
        var path = PathOf(_directory, number);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
        }
        catch (IOException ex)
        {
            throw new StoreUnavailableException($"cannot create segment {number} in {_directory} ({Describe(ex)})", ex);
        }

        try
        {
            Span<byte> header = stackalloc byte[FileHeaderSize];
            BinaryPrimitives.WriteUInt32LittleEndian(header, SegmentMagic);
            BinaryPrimitives.WriteInt32LittleEndian(header[4..], FormatVersion);
            BinaryPrimitives.WriteInt64LittleEndian(header[8..], number);
            RandomAccess.Write(handle, header, 0);
            RandomAccess.FlushToDisk(handle);
            DirectorySync.Flush(_directory);
        }
        catch (IOException ex)
        {
            // No record was ever written to it: remove the half-made file so the next attempt starts it cleanly.
            handle.Dispose();
            File.Delete(path);
            throw new StoreUnavailableException($"cannot start segment {number} in {_directory} ({Describe(ex)})", ex);
        }

        _segments = [.. _segments, handle];
        _activeLength = FileHeaderSize;
    }

    /// <summary>
    /// Checks a segment's file header. A last segment whose header was never completed (a crash while it was being
    /// started) holds nothing: it is started again (false), or in read-only mode simply treated as empty.
    /// </summary>
    private bool CheckFileHeader(int number, bool isLast)
    {
        var handle = _segments[number];
        Span<byte> header = stackalloc byte[FileHeaderSize];
        var read = RecordFraming.ReadExactly(handle, header, 0);
        if (read == FileHeaderSize && BinaryPrimitives.ReadUInt32LittleEndian(header) == SegmentMagic
            && BinaryPrimitives.ReadInt32LittleEndian(header[4..]) == FormatVersion && BinaryPrimitives.ReadInt64LittleEndian(header[8..]) == number)
        {
            return true;
        }

        if (isLast && RandomAccess.GetLength(handle) <= FileHeaderSize)
        {
            if (!_readOnly)
            {
                // A crash while the segment was being started: nothing was ever committed to it, so start it again.
                handle.Dispose();
                File.Delete(PathOf(_directory, number));
                _segments = _segments[..^1];
                StartSegment(number);
            }

            return false;
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

/// <summary>Where replay stopped: the first unreadable bytes, if any, and whether an unfinished last segment was started again.</summary>
internal readonly record struct SegmentScan(SegmentDamage? Damage, bool SegmentRestarted, RecordPosition End);

/// <summary>Bytes at <see cref="Offset"/> of segment <see cref="Segment"/> that do not read back as a record.</summary>
internal readonly record struct SegmentDamage(int Segment, long Offset, long FileLength, bool InLastSegment, bool IntactRecordFollows)
{
    /// <summary>A torn write can only be the last thing in the last segment.</summary>
    public bool LooksTorn => InLastSegment && !IntactRecordFollows;
}
