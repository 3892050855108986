using System.Buffers.Binary;
using System.Numerics;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of every record and snapshot. <see cref="BitOperations.Crc32C(uint, ulong)"/>
/// uses the SSE4.2 / ARMv8 CRC instructions where the CPU has them and a table otherwise, so no package is needed.
/// </summary>
internal static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Start, data));

    public const uint Start = 0xFFFFFFFFu;

    public static uint Finish(uint state) => ~state;

    /// <summary>Folds <paramref name="data"/> into a running state begun with <see cref="Start"/>.</summary>
    public static uint Append(uint state, ReadOnlySpan<byte> data)
    {
        // Eight bytes per instruction: several GB/s, far above what the disk absorbs.
        while (data.Length >= 8)
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            state = BitOperations.Crc32C(state, b);
        }

        return state;
    }
}
