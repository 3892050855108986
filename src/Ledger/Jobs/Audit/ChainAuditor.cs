using System.Text.Json;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.Receipts;
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
/// transaction's signature, once, with no cache (a remembered signature proves nothing about the bytes now on disk).
/// The work runs through a <see cref="BlockPipeline"/>: blocks are read ahead, each transaction's decode, id, leaf hash
/// and signature run on every core, and this thread takes the blocks in height order for the checks that need order.
/// It stops at the first damaged block — in chain order; within a block a structural fault is reported before a bad
/// signature — keeping the checkpoint at the block before it.
/// </summary>
public sealed class ChainAuditor
{
    private readonly LedgerChain _reference;
    private readonly TrustAnchor _anchor;
    private readonly ISignatureScheme _curve;
    private readonly ulong _chainId;
    private readonly int? _workers;

    public ChainAuditor(GenesisDocument genesis, ISignatureScheme curve, int? maxDegreeOfParallelism = null)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        ArgumentNullException.ThrowIfNull(curve);
        _reference = new LedgerChain(genesis, curve);
        _anchor = TrustAnchor.FromGenesis(genesis);
        _curve = curve;
        _chainId = genesis.ChainId;
        _workers = maxDegreeOfParallelism;
    }

    /// <summary>Time of this auditor's stages over all its runs (benchmarks).</summary>
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
        var pipeline = new BlockPipeline(store, _reference.Domain, _chainId, int.MaxValue, BlockWork.DecodeAndSignatures, _curve, Stages, _workers);

        var confirmed = from;
        long signatures = 0, transactions = from.Transactions;
        await foreach (var block in pipeline.ReadAsync(from.Height + 1, last, cancellationToken).ConfigureAwait(false))
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var (finding, damage, header) = await StoreVerifier.CheckBlockAsync(store, block, parent, _reference, _anchor, sets, _curve, history, retainedFrom, cancellationToken).ConfigureAwait(false);
            signatures += block.SignaturesChecked;
            damage ??= BadSignature(block);
            Stages.Add("in-order checks: links, certificate, roots (one thread)", started);
            if (damage is not null)
            {
                return new AuditRun(confirmed, confirmed.Height - from.Height, signatures, block.Height, damage, head, finding);
            }

            transactions += header!.TransactionCount;
            parent = header.Hash;
            confirmed = new AuditCheckpoint(block.Height, header.Hash.ToString(), history.Size, frontier.Frontier(history.Size), transactions,
                Validators: sets.Current.Hash == _anchor.Validators.Hash ? null : [.. sets.Current.Members.Select(a => a.ToString())]);
        }

        return new AuditRun(confirmed, confirmed.Height - from.Height, signatures, null, null, head);
    }

    /// <summary>The first transaction of a structurally intact block whose signature does not hold, as damage.</summary>
    private static string? BadSignature(PreparedBlock block)
    {
        for (var i = 0; i < block.Signatures.Length; i++)
        {
            if (block.Signatures[i] != SignatureCheck.Ok)
            {
                var tx = block.Block!.Transactions[i];
                var signer = TransactionCodec.Decode(tx.Bytes).Transaction?.Signer.ToString() ?? "its signer";
                return $"transaction {tx.TxHash} is not validly signed by {signer}: {block.Signatures[i]}";
            }
        }

        return null;
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
