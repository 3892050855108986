using System.Buffers.Binary;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// What the embedded store's <c>state</c> table holds for a key: the value itself when it is short, else where the
/// value sits in the block record that last wrote it. A state value is already in that record (its state-write
/// section), and segments are never rewritten, so the reference stays valid for as long as the store exists; the table
/// then holds ~17 bytes a key instead of a copy of every value, in memory until a snapshot and in the runs after it.
/// The runs were most of the bytes a snapshot wrote and a restart checks (840 of 1,800 MB on a 1,000,000-transaction
/// store).
/// </summary>
/// <remarks>
/// <c>0x00 ‖ value</c> (at most <see cref="InlineMax"/> bytes), or <c>0x01 ‖ segment (int32) ‖ offset (int64) ‖
/// length (int32)</c>, little-endian. A deletion is no entry (null), as before.
/// </remarks>
internal static class StoredStateValue
{
    /// <summary>Values this long or shorter are kept in the table: a reference would not be shorter.</summary>
    public const int InlineMax = ReferenceSize - 1;

    private const byte Inline = 0;
    private const byte Reference = 1;

    // Where a reference's fields are, after its tag byte.
    private const int SegmentAt = 1;
    private const int OffsetAt = SegmentAt + sizeof(int);
    private const int LengthAt = OffsetAt + sizeof(long);
    private const int ReferenceSize = LengthAt + sizeof(int);

    /// <summary>The table entry for <paramref name="value"/>, written in segment <paramref name="segment"/> at <paramref name="offset"/>.</summary>
    public static byte[]? Of(byte[]? value, int segment, long offset)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length <= InlineMax)
        {
            var inline = new byte[1 + value.Length];
            inline[0] = Inline;
            value.CopyTo(inline, 1);
            return inline;
        }

        var reference = new byte[ReferenceSize];
        reference[0] = Reference;
        BinaryPrimitives.WriteInt32LittleEndian(reference.AsSpan(SegmentAt), segment);
        BinaryPrimitives.WriteInt64LittleEndian(reference.AsSpan(OffsetAt), offset);
        BinaryPrimitives.WriteInt32LittleEndian(reference.AsSpan(LengthAt), value.Length);
        return reference;
    }

    /// <summary>The value an entry stands for: a new array, read from <paramref name="segments"/> for a reference.</summary>
    /// <exception cref="StoreCorruptedException">The entry is neither form, or its bytes are not in the segments.</exception>
    public static byte[] Resolve(ReadOnlySpan<byte> entry, SegmentLog segments)
    {
        if (entry.Length >= 1 && entry[0] == Inline)
        {
            return entry[1..].ToArray();
        }

        if (entry.Length == ReferenceSize && entry[0] == Reference)
        {
            var segment = BinaryPrimitives.ReadInt32LittleEndian(entry[SegmentAt..]);
            var offset = BinaryPrimitives.ReadInt64LittleEndian(entry[OffsetAt..]);
            var length = BinaryPrimitives.ReadInt32LittleEndian(entry[LengthAt..]);
            if (segment < 0 || segment >= segments.SegmentCount || offset < SegmentLog.FileHeaderSize || length is <= InlineMax or > RecordFraming.MaxPayload)
            {
                throw new StoreCorruptedException($"a state entry refers to segment {segment}, offset {offset}, length {length}, outside the block log");
            }

            var value = new byte[length];
            segments.ReadAt(segment, offset, value);
            return value;
        }

        throw new StoreCorruptedException($"a state entry of {entry.Length} bytes is neither a value nor a reference to one");
    }
}
