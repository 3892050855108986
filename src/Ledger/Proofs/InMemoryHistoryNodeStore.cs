using System.Diagnostics.CodeAnalysis;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Proofs;

/// <summary>
/// An <see cref="IHistoryNodeStore"/> in memory: per level, fixed-size chunks that never move once allocated, so a
/// reader never sees a half-copied array while the writer grows a level.
/// </summary>
public sealed class InMemoryHistoryNodeStore : IHistoryNodeStore
{
    private const int ChunkBits = 12;
    private const int ChunkSize = 1 << ChunkBits;
    private const int MaxLevels = 64;

    private readonly Hash256[]?[]?[] _levels = new Hash256[]?[]?[MaxLevels];

    public Hash256 Get(int level, long index)
    {
        var chunks = Volatile.Read(ref _levels[level]);
        var chunkIndex = index >> ChunkBits;
        var chunk = chunks is not null && chunkIndex < chunks.Length ? chunks[chunkIndex] : null;
        if (chunk is null)
        {
            ThrowMissing(level, index);
        }

        return chunk[index & (ChunkSize - 1)];
    }

    public void Put(int level, long index, in Hash256 hash)
    {
        var chunks = _levels[level] ?? [];
        var chunkIndex = checked((int)(index >> ChunkBits));
        if (chunkIndex >= chunks.Length)
        {
            var grown = new Hash256[]?[Math.Max(chunkIndex + 1, chunks.Length * 2)];
            chunks.CopyTo(grown, 0);
            chunks = grown;
            Volatile.Write(ref _levels[level], chunks);
        }

        var chunk = chunks[chunkIndex] ??= new Hash256[ChunkSize];
        chunk[index & (ChunkSize - 1)] = hash;
    }

    [DoesNotReturn]
    private static void ThrowMissing(int level, long index)
        => throw new KeyNotFoundException($"history node ({level}, {index}) was never written");
}
