using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node;

/// <summary>How a chain opened from a store keeps its state (section <c>Ledger:Chain</c> of the node configuration).</summary>
public sealed record LedgerChainOptions
{
    public static LedgerChainOptions Default { get; } = new();

    /// <summary>
    /// Keep the state versions of the newest N blocks; older versions are pruned from the store atomically with a
    /// later block (certified headers, blocks, transactions and the history tree are never pruned). Null keeps every
    /// version. A read or proof at a pruned height gets <see cref="ChainQueryError.StatePruned"/>.
    /// </summary>
    public long? StateRetentionBlocks { get; init; }

    /// <summary>The retention floor moves in steps of this many blocks, so pruning runs once per step, not per block.</summary>
    public int PruneEveryBlocks { get; init; } = 16;

    /// <summary>
    /// Upper bound of the in-memory cache of state-tree nodes read from the store, in bytes (approximate; the node
    /// config's <c>memory.stateNodeCacheMiB</c>). The store holds every retained node; the cache holds the hot ones. Its
    /// tables (outside the GC heap) are sized from it at <see cref="StateNodeCacheEntryBytes"/> an entry, rounded down to
    /// a power of two, and the values its leaves keep alive are bounded by 1 / <see cref="StateNodeCacheLeafValueShare"/>
    /// of it: with a tree in pages the page table is about half of it and a full cache holds about it (docs/node.md,
    /// "Memory").
    /// </summary>
    public long StateNodeCacheBytes { get; init; } = 256L << 20;

    /// <summary>
    /// Upper bound of the in-memory cache of history-tree node hashes read back from the store (for proofs), in entries;
    /// the newest node of each level, which every block's build reads, is kept apart.
    /// </summary>
    public int HistoryNodeCacheEntries { get; init; } = 1 << 18;

    /// <summary>
    /// Upper bound of the head state cache, in values: the state the next block reads (members, nonces, parameters, and
    /// the subject indexes a record updates), kept current by each committed block's writes; when full it starts again
    /// empty. A value it misses is a walk of the state tree, whose deep nodes a large state reads back from the store.
    /// 2<sup>19</sup> values hold the writes of ~100,000 credit-record transactions: over 150,000 of them (100,000
    /// subjects) the load tool's block build took 4-5 µs less per transaction than with 2<sup>16</sup>, of which the
    /// larger dictionary's inserts (commit) and the GC's scans of it take back 2-3 µs; the process's peak resident
    /// memory rose from 1.04 to 1.11 GB (docs/node.md, 2026-12-03 "Fourth session").
    /// </summary>
    public int HeadStateCacheEntries { get; init; } = 1 << 19;

    /// <summary>
    /// Upper bound of the head state cache's values, in bytes (the node config's <c>memory.headStateCacheMiB</c>) (their lengths plus <see cref="HeadStateCacheEntryOverhead"/>
    /// each): when full it starts again empty, as it does at <see cref="HeadStateCacheEntries"/>. Bounded by count only,
    /// it held ~280 MB of values on a node writing at 1,000,000 transactions (a subject's score index is 1-3 KB).
    /// </summary>
    public long HeadStateCacheBytes { get; init; } = 256L << 20;

    /// <summary>What the head state cache counts for an entry besides its value's bytes (dictionary entry and array header).</summary>
    public const int HeadStateCacheEntryOverhead = 80;

    /// <summary>
    /// What the chain's state tree stores: pages of four binary levels (the default since 2026-12-05: a quarter as many
    /// entries to cache, locate, write and prune) or every binary interior node on its own (as stores written before).
    /// The roots and proofs are the same. A store written in pages cannot be written in <see cref="StateTreeLayout.Binary"/>
    /// again (its first block fails with a clear error); one of binary nodes goes on in pages without a migration
    /// (docs/state-pages.md).
    /// </summary>
    public StateTreeLayout StateLayout { get; init; } = StateTreeLayout.Pages;

    /// <summary>
    /// The bytes of <see cref="StateNodeCacheBytes"/> an entry of the node cache's interior table stands for. The leaves
    /// get as many slots (84 bytes each with the value's reference), the pages a quarter (1,032 bytes each: a quarter of
    /// 512 bytes an entry is a page table of about half the budget). Until 2026-12-05 this was 256 with half as many leaf
    /// slots, and the page table alone was the whole budget: a node writing 1,000,000 transactions held ~125 MiB more than
    /// its configuration said. Halving the leaf slots as well cost the load tool's build ~3.5 µs a transaction, keeping
    /// them ~1.5 µs (docs/node.md, "Memory").
    /// </summary>
    public const int StateNodeCacheEntryBytes = 512;

    /// <summary>The share of <see cref="StateNodeCacheBytes"/> the values the cached leaves keep alive may take: 1 / this.</summary>
    public const int StateNodeCacheLeafValueShare = 2;

    public void Validate()
    {
        if (StateRetentionBlocks is < 1)
        {
            throw new ArgumentException($"Ledger:Chain:StateRetentionBlocks must be at least 1 (or unset to keep every version), got {StateRetentionBlocks}");
        }

        if (PruneEveryBlocks < 1)
        {
            throw new ArgumentException($"Ledger:Chain:PruneEveryBlocks must be at least 1, got {PruneEveryBlocks}");
        }

        if (StateNodeCacheBytes < 1 << 20)
        {
            throw new ArgumentException($"Ledger:Chain:StateNodeCacheBytes must be at least 1 MiB, got {StateNodeCacheBytes}");
        }

        if (HeadStateCacheEntries < 1024)
        {
            throw new ArgumentException($"Ledger:Chain:HeadStateCacheEntries must be at least 1024, got {HeadStateCacheEntries}");
        }

        if (HeadStateCacheBytes < 1 << 20)
        {
            throw new ArgumentException($"Ledger:Chain:HeadStateCacheBytes must be at least 1 MiB, got {HeadStateCacheBytes}");
        }

        if (HistoryNodeCacheEntries < 1024)
        {
            throw new ArgumentException($"Ledger:Chain:HistoryNodeCacheEntries must be at least 1024, got {HistoryNodeCacheEntries}");
        }
    }
}
