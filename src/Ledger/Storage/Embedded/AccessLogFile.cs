using Microsoft.Win32.SafeHandles;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// The access log as one append-only file of framed records (magic <c>"SCA1"</c>), one per entry, each flushed to
/// the disk before the append returns. Start-up scans it, truncates a torn tail and keeps each entry's offset.
/// </summary>
internal sealed class AccessLogFile : IDisposable
{
    private const uint EntryMagic = 0x31414353; // "SCA1"

    private readonly SafeFileHandle _file;
    private readonly List<long> _offsets = [];
    private readonly Lock _gate = new();
    private long _length;
    private Hash256 _lastHash;

    public AccessLogFile(string path, bool readOnly)
    {
        _file = readOnly && !File.Exists(path)
            ? File.OpenHandle(Path.GetTempFileName(), FileMode.Open, FileAccess.Read, FileShare.None, FileOptions.DeleteOnClose) // no log yet: read an empty one, create nothing
            : File.OpenHandle(path, readOnly ? FileMode.Open : FileMode.OpenOrCreate, readOnly ? FileAccess.Read : FileAccess.ReadWrite, FileShare.ReadWrite);
        var scan = RecordFile.ScanAndRepair(_file, path, 0, EntryMagic, mayHaveTail: true, readOnly, (offset, payload) =>
        {
            var entry = Decode(payload.Span);
            if (entry.Sequence != _offsets.Count)
            {
                throw new StoreCorruptedException($"{path} holds entry {entry.Sequence} where {_offsets.Count} belongs");
            }

            _offsets.Add(offset);
            _lastHash = entry.EntryHash;
        });
        _length = scan.End;
        TornTail = scan.HasUnreadableTail ? scan.FileLength - scan.End : null;
    }

    /// <summary>How many bytes of a torn last entry were found at start-up (and cut, unless read-only), or null.</summary>
    public long? TornTail { get; }

    /// <summary>
    /// Seals and appends every request in order with one write and one flush (group commit); the caller serialises
    /// appends. On a failed write nothing is acknowledged and the next append writes over the same offset.
    /// </summary>
    public IReadOnlyList<AccessLogEntry> AppendMany(IReadOnlyList<AccessRequest> requests)
    {
        var entries = new AccessLogEntry[requests.Count];
        var offsets = new long[requests.Count];
        using var encoder = new BinaryEncoder(512 * Math.Max(1, requests.Count));
        var previous = _lastHash;
        for (var i = 0; i < requests.Count; i++)
        {
            var start = encoder.Length;
            entries[i] = AccessLogChain.Seal(_offsets.Count + i, requests[i], previous);
            previous = entries[i].EntryHash;
            encoder.Reserve(RecordFraming.HeaderSize);
            Encode(encoder, entries[i]);
            RecordFraming.Seal(encoder.WrittenSpan[start..], EntryMagic);
            offsets[i] = _length + start;
        }

        try
        {
            RandomAccess.Write(_file, encoder.WrittenSpan, _length);
            RandomAccess.FlushToDisk(_file);
        }
        catch (IOException ex)
        {
            throw new StoreUnavailableException($"cannot append to the access log: {ex.Message}", ex);
        }

        lock (_gate)
        {
            _offsets.AddRange(offsets);
        }

        _length += encoder.Length;
        _lastHash = previous;
        return entries;
    }

    /// <summary>Seals and appends; the caller serialises appends.</summary>
    public AccessLogEntry Append(AccessRequest request)
    {
        var entry = AccessLogChain.Seal(_offsets.Count, request, _lastHash);
        using var encoder = new BinaryEncoder(512);
        encoder.Reserve(RecordFraming.HeaderSize);
        Encode(encoder, entry);
        RecordFraming.Seal(encoder.WrittenSpan, EntryMagic);
        try
        {
            RandomAccess.Write(_file, encoder.WrittenSpan, _length);
            RandomAccess.FlushToDisk(_file);
        }
        catch (IOException ex)
        {
            throw new StoreUnavailableException($"cannot append to the access log: {ex.Message}", ex);
        }

        lock (_gate)
        {
            _offsets.Add(_length);
        }

        _length += encoder.Length;
        _lastHash = entry.EntryHash;
        return entry;
    }

    public List<AccessLogEntry> Read(long fromSequence, int limit)
    {
        long[] offsets;
        lock (_gate)
        {
            var start = (int)Math.Clamp(fromSequence, 0, _offsets.Count);
            offsets = [.. _offsets.Skip(start).Take(limit)];
        }

        var buffer = new byte[4096];
        var length = RandomAccess.GetLength(_file);
        var entries = new List<AccessLogEntry>(offsets.Length);
        foreach (var offset in offsets)
        {
            var payload = RecordFraming.TryRead(_file, offset, length, EntryMagic, ref buffer);
            if (payload < 0)
            {
                throw new StoreCorruptedException($"the access log entry at offset {offset} fails its checksum");
            }

            entries.Add(Decode(buffer.AsSpan(0, payload)));
        }

        return entries;
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _offsets.Count;
            }
        }
    }

    public void Dispose() => _file.Dispose();

    private static void Encode(BinaryEncoder e, AccessLogEntry entry)
    {
        e.WriteInt64(entry.Sequence);
        e.WriteAddress(entry.Request.Requester);
        e.WriteString(entry.Request.Method);
        e.WriteString(entry.Request.Subject);
        e.WriteInt64(entry.Request.Timestamp);
        e.WriteHash(entry.Request.RequestDigest);
        e.WriteBytes(entry.Request.Signature.Span);
        e.WriteHash(entry.PreviousHash);
        e.WriteHash(entry.EntryHash);
    }

    private static AccessLogEntry Decode(ReadOnlySpan<byte> payload)
    {
        var d = new BinaryDecoder(payload);
        var sequence = d.ReadInt64();
        var request = new AccessRequest(d.ReadAddress(), d.ReadString(), d.ReadString(), d.ReadInt64(), d.ReadHash(), d.ReadBytes().ToArray());
        return new AccessLogEntry(sequence, request, d.ReadHash(), d.ReadHash());
    }
}
