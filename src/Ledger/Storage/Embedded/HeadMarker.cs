using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// The store's independent record of what it acknowledged: the file <c>HEAD</c> beside the segments, rewritten and
/// fsynced after every block record is flushed and before <c>AppendAsync</c> returns. Start-up opens the store only if
/// the segments reach the height it names, so losing the end of a segment (media damage, a truncated or deleted file)
/// is refused with the missing heights instead of being mistaken for a torn, never-acknowledged tail.
/// </summary>
/// <remarks>
/// Two 64-byte slots (offsets 0 and 512, in different disk sectors) are written alternately, each
/// <c>"SCHD" ‖ version u32 ‖ height i64 ‖ block hash ‖ CRC-32C of the 48 bytes before it ‖ padding</c>, so a torn
/// write of the marker itself leaves the other slot, one block older, intact. The file keeps its size: rewriting a
/// slot changes no file-system metadata, so its fsync is cheap.
/// </remarks>
internal sealed class HeadMarker : IDisposable
{
    public const string FileName = "HEAD";
    private const uint Magic = 0x44484353; // "SCHD"
    private const int Version = 1;
    private const int SlotSize = 64;
    private const int SlotStride = 512;
    private const int FileSize = 2 * SlotStride;

    private readonly SafeFileHandle _file;
    private readonly StorageFaults _faults;

    private HeadMarker(SafeFileHandle file, StorageFaults faults, AcknowledgedHead? current)
    {
        _file = file;
        _faults = faults;
        Current = current;
    }

    /// <summary>The newest intact slot, or null when the marker was never written.</summary>
    public AcknowledgedHead? Current { get; private set; }

    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, FileName));

    /// <summary>Reads the marker in <paramref name="directory"/> without opening it for writing (null when absent or unreadable).</summary>
    public static AcknowledgedHead? Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return ReadSlots(file);
    }

    public static HeadMarker Open(string directory, StorageFaults faults)
    {
        var path = Path.Combine(directory, FileName);
        var created = !File.Exists(path);
        var file = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            if (created || RandomAccess.GetLength(file) < FileSize)
            {
                // Written, not just sized: a sparse file could need new blocks (and hit a full disk) at the first slot write.
                var existing = new byte[FileSize];
                var read = RecordFraming.ReadExactly(file, existing, 0);
                RandomAccess.Write(file, existing.AsSpan(0, FileSize), 0);
                _ = read;
                RandomAccess.FlushToDisk(file);
                DirectorySync.Flush(directory);
            }

            return new HeadMarker(file, faults, ReadSlots(file));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Records durably that every block up to <paramref name="head"/> was acknowledged.</summary>
    public void Write(StoreHead head)
    {
        Span<byte> slot = stackalloc byte[SlotSize];
        Encode(head, slot);
        var offset = (head.Height & 1) * SlotStride; // overwrites the marker two blocks old, keeps the last one
        _faults.BeforeWrite(FileName);
        RandomAccess.Write(_file, slot, offset);
        _faults.BeforeFlush(FileName);
        RandomAccess.FlushToDisk(_file);
        Current = new AcknowledgedHead(head.Height, head.BlockHash);
    }

    public void Dispose() => _file.Dispose();

    /// <summary>
    /// Sets both slots to <paramref name="head"/> (or clears them when the store holds no block): what
    /// <c>store repair</c> does after moving damaged blocks aside, since the old marker promises blocks that are gone.
    /// </summary>
    public static void Reset(string directory, StoreHead? head)
    {
        using var marker = Open(directory, StorageFaults.None);
        if (head is { } h)
        {
            marker.Write(h);
            marker.Write(h, slot: 1 - (h.Height & 1));
        }
        else
        {
            RandomAccess.Write(marker._file, new byte[FileSize], 0);
            RandomAccess.FlushToDisk(marker._file);
            marker.Current = null;
        }
    }

    private void Write(StoreHead head, long slot)
    {
        Span<byte> bytes = stackalloc byte[SlotSize];
        Encode(head, bytes);
        RandomAccess.Write(_file, bytes, slot * SlotStride);
        RandomAccess.FlushToDisk(_file);
    }

    private static void Encode(StoreHead head, Span<byte> slot)
    {
        slot.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(slot, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(slot[4..], Version);
        BinaryPrimitives.WriteInt64LittleEndian(slot[8..], head.Height);
        head.BlockHash.CopyTo(slot[16..]);
        BinaryPrimitives.WriteUInt32LittleEndian(slot[48..], Crc32C.Compute(slot[..48]));
    }

    private static AcknowledgedHead? ReadSlots(SafeFileHandle file)
    {
        AcknowledgedHead? best = null;
        Span<byte> slot = stackalloc byte[SlotSize];
        for (var i = 0; i < 2; i++)
        {
            if (RecordFraming.ReadExactly(file, slot, i * SlotStride) != SlotSize
                || BinaryPrimitives.ReadUInt32LittleEndian(slot) != Magic
                || BinaryPrimitives.ReadInt32LittleEndian(slot[4..]) != Version
                || BinaryPrimitives.ReadUInt32LittleEndian(slot[48..]) != Crc32C.Compute(slot[..48]))
            {
                continue;
            }

            var height = BinaryPrimitives.ReadInt64LittleEndian(slot[8..]);
            if (best is null || height > best.Value.Height)
            {
                best = new AcknowledgedHead(height, new Hash256(slot.Slice(16, Hash256.Size)));
            }
        }

        return best;
    }
}

/// <summary>The newest block a store acknowledged, as its head marker says.</summary>
internal readonly record struct AcknowledgedHead(long Height, Hash256 BlockHash);
