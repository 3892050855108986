using System.Text.Json;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Jobs.Audit;

/// <summary>
/// Where the chain audit stopped: the last block it found intact, its hash, and the history tree's frontier after it
/// (the roots of its perfect subtrees, at most 64 hashes), so the next run continues from there without re-reading
/// earlier blocks and with memory that does not grow with the chain. <see cref="Validators"/> is the validator set that
/// certified that block (null: the genesis set, or a checkpoint written before validator-set changes were followed).
/// </summary>
public sealed record AuditCheckpoint(long Height, string BlockHash, long HistorySize, IReadOnlyList<FrontierNode> Frontier, long Transactions, string? ReportedDamage = null,
    IReadOnlyList<string>? Validators = null)
{
    /// <summary>Before block 0: nothing audited.</summary>
    public static AuditCheckpoint Start { get; } = new(-1, Hash256.Zero.ToString(), 0, [], 0);

    public string ToJson() => JsonSerializer.Serialize(this, JobJson.Options);

    public static AuditCheckpoint? FromJson(string? json) => json is null ? null : JsonSerializer.Deserialize<AuditCheckpoint>(json, JobJson.Options);
}

/// <summary>One node of the history tree's frontier: level, index, hash.</summary>
public sealed record FrontierNode(int Level, long Index, string Hash);

/// <summary>What one audit run did.</summary>
/// <param name="Checkpoint">The checkpoint after the run: the last intact block.</param>
/// <param name="BlocksChecked">Blocks found intact in this run.</param>
/// <param name="Signatures">Transaction signatures re-verified in this run.</param>
/// <param name="DamagedHeight">The first damaged height, or null.</param>
/// <param name="Damage">What failed there.</param>
/// <param name="Head">The store's head when the run started.</param>
/// <param name="Finding">The kind of finding at <paramref name="DamagedHeight"/>: damage, or a hand-over whose proving state is pruned.</param>
public sealed record AuditRun(AuditCheckpoint Checkpoint, long BlocksChecked, long Signatures, long? DamagedHeight, string? Damage, long Head, StoreFinding Finding = StoreFinding.Intact)
{
    public bool IsIntact => DamagedHeight is null;
}

/// <summary>
/// The chain audit: re-verifies a node's own store from a checkpoint on, block by block, with the checks of
/// <see cref="StoreVerifier"/> (records read back, header decodes and links to its parent, genesis block, certificate
/// under the validator set in force at its height, transaction ids and root, history size and root, retained state roots) plus every
/// transaction's signature, in batches through the <see cref="SignatureBatchVerifier"/> (all cores, no cache: a
/// remembered signature proves nothing about the bytes now on disk). It stops at the first damaged block, keeping
/// the checkpoint at the block before it.
/// </summary>
public sealed class ChainAuditor
{
    /// <summary>Signatures gathered before a batch is verified (spread over the cores).</summary>
    public const int SignatureBatch = 4096;

    private readonly LedgerChain _reference;
    private readonly TrustAnchor _anchor;
    private readonly ISignatureScheme _curve;
    private readonly SignatureBatchVerifier _verifier;

    public ChainAuditor(GenesisDocument genesis, ISignatureScheme curve, int? maxDegreeOfParallelism = null)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        ArgumentNullException.ThrowIfNull(curve);
        _reference = new LedgerChain(genesis, curve);
        _anchor = TrustAnchor.FromGenesis(genesis);
        _curve = curve;
        _verifier = new SignatureBatchVerifier(curve, cache: null, maxDegreeOfParallelism);
    }

    /// <summary>Wall time of this auditor's stages over all its runs (benchmarks).</summary>
    public StageTimes Stages { get; } = new();

    /// <summary>Audits from <paramref name="from"/> up to <paramref name="maxBlocks"/> blocks (or to the head).</summary>
    public async Task<AuditRun> RunAsync(ILedgerStore store, AuditCheckpoint from, long maxBlocks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(from);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBlocks, 1);
        var head = (await store.GetHeadAsync(cancellationToken).ConfigureAwait(false))?.Height ?? -1;
        var retainedFrom = (await store.GetStateRetentionAsync(cancellationToken).ConfigureAwait(false)).RetainedFrom;
        var frontier = new FrontierHistoryNodes(from.Frontier);
        var history = new HistoryTree(frontier, from.HistorySize, _reference.Suite);
        var parent = Hash256.Parse(from.BlockHash);
        var last = Math.Min(head, from.Height + maxBlocks);
        var sets = new ValidatorSetWalk(StartSet(from), store, _reference.Suite);

        // Blocks whose structure checked out but whose signatures wait in the batch; each keeps the checkpoint after it.
        // A full batch is verified on the other cores while this thread reads and checks the next blocks (at most one
        // batch in flight, so memory stays at two batches whatever the chain's length).
        var pending = new List<DecodedTransaction>();
        var pendingHeights = new List<long>();
        var blockCheckpoints = new List<AuditCheckpoint>();
        Task<Settled>? inflight = null;
        var confirmed = from;
        long signatures = 0, transactions = from.Transactions;
        for (var height = from.Height + 1; height <= last; height++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string? damage;
            BlockHeader? header = null;
            var finding = StoreFinding.Damaged;
            var decoded = new List<DecodedTransaction>();
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                (finding, damage, header) = await StoreVerifier.CheckBlockAsync(store, height, parent, _reference, _anchor, sets, _curve, history, retainedFrom, cancellationToken, decoded).ConfigureAwait(false);
            }
            catch (StoreCorruptedException e)
            {
                damage = $"the store cannot read it: {e.Message}";
            }

            Stages.Add("read and check blocks (one thread)", started);
            if (damage is not null)
            {
                // Signatures of the blocks before it are settled first: an earlier bad signature is the first damage.
                if (inflight is not null)
                {
                    var earlier = await WaitAsync(inflight).ConfigureAwait(false);
                    signatures += earlier.Count;
                    if (earlier.BadHeight is { } e)
                    {
                        return new AuditRun(earlier.Checkpoint, earlier.Checkpoint.Height - from.Height, signatures, e, earlier.Reason, head, StoreFinding.Damaged);
                    }

                    confirmed = earlier.Checkpoint;
                }

                var rest = Settle(new Batch(pending, pendingHeights, blockCheckpoints, confirmed));
                return rest.BadHeight is { } h
                    ? new AuditRun(rest.Checkpoint, rest.Checkpoint.Height - from.Height, signatures + rest.Count, h, rest.Reason, head, StoreFinding.Damaged)
                    : new AuditRun(rest.Checkpoint, rest.Checkpoint.Height - from.Height, signatures + rest.Count, height, damage, head, finding);
            }

            transactions += header!.TransactionCount;
            parent = header.Hash;
            foreach (var tx in decoded)
            {
                pending.Add(tx);
                pendingHeights.Add(height);
            }

            blockCheckpoints.Add(new AuditCheckpoint(height, header.Hash.ToString(), history.Size, frontier.Frontier(history.Size), transactions,
                Validators: sets.Current.Hash == _anchor.Validators.Hash ? null : [.. sets.Current.Members.Select(a => a.ToString())]));
            if (pending.Count >= SignatureBatch)
            {
                if (inflight is not null)
                {
                    var earlier = await WaitAsync(inflight).ConfigureAwait(false);
                    signatures += earlier.Count;
                    if (earlier.BadHeight is { } e)
                    {
                        return new AuditRun(earlier.Checkpoint, earlier.Checkpoint.Height - from.Height, signatures, e, earlier.Reason, head, StoreFinding.Damaged);
                    }

                    confirmed = earlier.Checkpoint;
                }

                var batch = new Batch(pending, pendingHeights, blockCheckpoints, confirmed);
                inflight = Task.Run(() => Settle(batch), cancellationToken);
                pending = [];
                pendingHeights = [];
                blockCheckpoints = [];
            }
        }

        if (inflight is not null)
        {
            var earlier = await WaitAsync(inflight).ConfigureAwait(false);
            signatures += earlier.Count;
            if (earlier.BadHeight is { } e)
            {
                return new AuditRun(earlier.Checkpoint, earlier.Checkpoint.Height - from.Height, signatures, e, earlier.Reason, head, StoreFinding.Damaged);
            }

            confirmed = earlier.Checkpoint;
        }

        var final = Settle(new Batch(pending, pendingHeights, blockCheckpoints, confirmed));
        return new AuditRun(final.Checkpoint, final.Checkpoint.Height - from.Height, signatures + final.Count, final.BadHeight, final.Reason, head, final.BadHeight is null ? StoreFinding.Intact : StoreFinding.Damaged);
    }

    /// <summary>The set that certified the checkpoint's block (the genesis set when the checkpoint names none).</summary>
    private ValidatorSet StartSet(AuditCheckpoint from)
    {
        if (from.Validators is not { Count: > 0 } members)
        {
            return _anchor.Validators;
        }

        var addresses = new List<Address>(members.Count);
        foreach (var text in members)
        {
            if (!Address.TryParse(text, out var address, out var error))
            {
                throw new InvalidOperationException($"the audit checkpoint at height {from.Height} names validator '{text}', which is not an address: {error}");
            }

            addresses.Add(address);
        }

        return new ValidatorSet(addresses, _reference.Suite);
    }

    private async Task<Settled> WaitAsync(Task<Settled> inflight)
    {
        using (Stages.Time("waiting for a signature batch"))
        {
            return await inflight.ConfigureAwait(false);
        }
    }

    /// <summary>Transactions whose signatures wait, the height of each, the checkpoint after each of their blocks, and the checkpoint before them.</summary>
    private sealed record Batch(List<DecodedTransaction> Pending, List<long> Heights, List<AuditCheckpoint> Checkpoints, AuditCheckpoint Confirmed);

    /// <summary>A settled batch: the last checkpoint all of whose signatures hold, the first bad one's height and reason, signatures counted.</summary>
    private sealed record Settled(AuditCheckpoint Checkpoint, long? BadHeight, string? Reason, long Count);

    /// <summary>Verifies a batch's signatures across the cores; returns the last checkpoint all of whose signatures hold.</summary>
    private Settled Settle(Batch batch)
    {
        var (pending, heights, checkpoints, confirmed) = batch;
        var items = new SignedDigest[pending.Count];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = pending[i].SignedDigest;
        }

        var checks = new SignatureCheck[items.Length];
        using (Stages.Time("signatures (all cores, beside the reading)"))
        {
            _verifier.Verify(items, checks);
        }

        for (var i = 0; i < checks.Length; i++)
        {
            if (checks[i] != SignatureCheck.Ok)
            {
                var height = heights[i];
                var before = checkpoints.LastOrDefault(c => c.Height < height) ?? confirmed;
                return new Settled(before, height, $"transaction {pending[i].Hash} is not validly signed by {pending[i].Transaction.Signer}: {checks[i]}", i + 1);
            }
        }

        return new Settled(checkpoints.Count > 0 ? checkpoints[^1] : confirmed, null, null, items.Length);
    }
}

/// <summary>
/// Keeps only the newest node of each level of the history tree: after any append, exactly its frontier (≤ 64 hashes),
/// which is all an append and the root need. For a check that walks the whole history in order with flat memory.
/// </summary>
public sealed class FrontierHistoryNodes : IHistoryNodeStore
{
    private readonly (long Index, Hash256 Hash)?[] _latest = new (long, Hash256)?[64];

    public FrontierHistoryNodes(IReadOnlyList<FrontierNode> nodes)
    {
        foreach (var node in nodes)
        {
            _latest[node.Level] = (node.Index, Hash256.Parse(node.Hash));
        }
    }

    public Hash256 Get(int level, long index)
        => _latest[level] is { } node && node.Index == index ? node.Hash : throw new InvalidOperationException($"history node ({level}, {index}) is not on the audit's frontier");

    public void Put(int level, long index, in Hash256 hash) => _latest[level] = (index, hash);

    public IReadOnlyList<FrontierNode> Frontier(long size)
    {
        var nodes = new List<FrontierNode>();
        for (var level = 63; level >= 0; level--)
        {
            if ((size >> level & 1) != 0)
            {
                var index = (size >> level) - 1;
                nodes.Add(new FrontierNode(level, index, Get(level, index).ToString()));
            }
        }

        return nodes;
    }
}
