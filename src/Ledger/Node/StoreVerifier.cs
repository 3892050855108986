using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>The verdict of <see cref="StoreVerifier"/>: intact, or the first damaged height and why.</summary>
/// <param name="Head">The store's head (-1: empty).</param>
/// <param name="BlocksChecked">Blocks read and checked before the first damage (or all).</param>
/// <param name="TransactionsChecked">Transactions re-hashed and placed in the history tree.</param>
/// <param name="FirstDamagedHeight">The first height that fails a check, or null when the store is intact.</param>
/// <param name="Damage">What failed at that height.</param>
/// <param name="StateNodesChecked">State-tree nodes of the head version re-hashed.</param>
/// <param name="Finding">What kind of finding stopped the check at <paramref name="FirstDamagedHeight"/> (<see cref="StoreFinding.Intact"/> when none).</param>
public sealed record StoreVerification(long Head, long BlocksChecked, long TransactionsChecked, long? FirstDamagedHeight, string? Damage, long StateNodesChecked, StoreFinding Finding = StoreFinding.Intact)
{
    public bool IsIntact => FirstDamagedHeight is null;
}

/// <summary>What a re-check of a stored block found.</summary>
public enum StoreFinding
{
    /// <summary>Every check passed.</summary>
    Intact,

    /// <summary>A check failed: the block is damaged, forged or not certified by the set in force.</summary>
    Damaged,

    /// <summary>
    /// The block names a new validator set, and the state after the block before it, which would prove the hand-over,
    /// was pruned (state retention): its certificate cannot be checked from this store. Not damage.
    /// </summary>
    HandOverStatePruned,
}

/// <summary>
/// <c>store verify</c>: re-checks a store block by block, without writing, against nothing but the genesis file:
/// every block record reads back (the embedded store checks each record's CRC-32C as it reads it), each header decodes
/// and links to its parent, block 0 is the genesis block the file defines, every later certificate carries a quorum of
/// valid seals of the validator set in force at its height (the genesis set, then each set the state after a block
/// installs, proven from the store's state-tree nodes: <see cref="ValidatorSetWalk"/>), each block's transactions hash to their ids and to the header's
/// transaction root, the history tree they build has the header's size and root, every retained height's state root
/// is a stored node, and the head's whole state tree re-hashes to its root and holds exactly the store's state table.
/// </summary>
public static class StoreVerifier
{
    public static async Task<StoreVerification> VerifyAsync(ILedgerStore store, GenesisDocument genesis, ISignatureScheme curve, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(genesis);
        var reference = new LedgerChain(genesis, curve);
        var anchor = reference.Anchor;
        var sets = new ValidatorSetWalk(anchor.Validators, store, reference.Suite);
        var head = (await store.GetHeadAsync(cancellationToken).ConfigureAwait(false))?.Height ?? -1;
        var retainedFrom = (await store.GetStateRetentionAsync(cancellationToken).ConfigureAwait(false)).RetainedFrom;
        var history = new HistoryTree(new InMemoryHistoryNodeStore(), 0, reference.Suite);
        var parent = Hash256.Zero;
        long transactions = 0;
        BlockHeader? headHeader = null;

        // Blocks are read ahead and their transactions decoded and hashed on every core; the checks below run in order.
        var pipeline = new BlockPipeline(store, reference.Domain, genesis.ChainId, int.MaxValue, BlockWork.Decode);
        await foreach (var block in pipeline.ReadAsync(0, head, cancellationToken).ConfigureAwait(false))
        {
            var (finding, damage, header) = await CheckBlockAsync(store, block, parent, reference, anchor, sets, curve, history, retainedFrom, cancellationToken).ConfigureAwait(false);
            if (damage is not null)
            {
                return new StoreVerification(head, block.Height, transactions, block.Height, damage, 0, finding);
            }

            transactions += header!.TransactionCount;
            parent = header.Hash;
            headHeader = header;
        }

        if (headHeader is null)
        {
            return new StoreVerification(head, 0, 0, null, null, 0);
        }

        var (stateDamage, nodes) = await CheckHeadStateAsync(store, headHeader.StateRoot, reference.Suite, cancellationToken).ConfigureAwait(false);
        return stateDamage is null
            ? new StoreVerification(head, head + 1, transactions, null, null, nodes)
            : new StoreVerification(head, head + 1, transactions, head, stateDamage, nodes, StoreFinding.Damaged);
    }

    /// <summary>
    /// Checks one stored block, as <see cref="BlockPipeline"/> prepared it (read, each transaction decoded to its id and
    /// leaf hash, the transaction root computed), against its parent's hash and the history tree before it (which it
    /// extends): what <see cref="VerifyAsync"/> checks per block; the chain audit job calls it block by block from its
    /// checkpoint and then looks at the signatures. The checks that need order — links, certificate under the set in
    /// force, history — run here; per-transaction work is already done.
    /// </summary>
    /// <c>sets</c> follows the validator sets in force, in height order from the genesis set (or the checkpoint's set).
    /// <returns>The finding, the damage (null when intact) and the decoded header.</returns>
    public static async Task<(StoreFinding Finding, string? Damage, BlockHeader? Header)> CheckBlockAsync(ILedgerStore store, PreparedBlock block, Hash256 parent, LedgerChain reference,
        Receipts.TrustAnchor anchor, ValidatorSetWalk sets, ISignatureScheme curve, HistoryTree history, long retainedFrom, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(block);
        var (damage, header) = await CheckOneAsync(store, block, parent, reference, anchor, sets, curve, history, retainedFrom, cancellationToken).ConfigureAwait(false);
        return damage switch
        {
            null => (StoreFinding.Intact, null, header),
            PrunedHandOver pruned => (StoreFinding.HandOverStatePruned, pruned.Reason, null),
            _ => (StoreFinding.Damaged, damage.ToString(), null),
        };
    }

    /// <summary>A finding that is not damage: the state proving a hand-over is pruned.</summary>
    private sealed record PrunedHandOver(string Reason)
    {
        public override string ToString() => Reason;
    }

    private static async Task<(object? Damage, BlockHeader? Header)> CheckOneAsync(ILedgerStore store, PreparedBlock prepared, Hash256 parent, LedgerChain reference,
        Receipts.TrustAnchor anchor, ValidatorSetWalk sets, ISignatureScheme curve, HistoryTree history, long retainedFrom, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(anchor);
        ArgumentNullException.ThrowIfNull(sets);
        ArgumentNullException.ThrowIfNull(history);
        if (history.Suite.Id != reference.Suite.Id)
        {
            throw new ArgumentException($"the history tree hashes in the {history.Suite.Name} suite, the chain's is {reference.Suite.Name}", nameof(history));
        }

        var height = prepared.Height;
        if (prepared.ReadFailure is { } failure)
        {
            return ($"the store cannot read it: {failure.Message}", null);
        }

        if (prepared.Block is not { } stored)
        {
            return ($"block {height} is below the head but missing", null);
        }

        if (prepared.Ids.Length != stored.Transactions.Count)
        {
            throw new ArgumentException("the block was prepared without decoding its transactions", nameof(prepared));
        }

        if (!BlockHeader.TryDecode(stored.Header.Header.Span, out var header, out var error))
        {
            return ($"the header does not decode: {error}", null);
        }

        if (!CommitCertificate.TryDecode(stored.Header.Certificate.Span, out var certificate, out error))
        {
            return ($"the certificate does not decode: {error}", null);
        }

        if (header!.Height != height || header.Hash != stored.Header.BlockHash)
        {
            return ($"the stored header is block {header.Height} with hash {header.Hash}, but the store files it as block {height} {stored.Header.BlockHash}", null);
        }

        if (header.PreviousHash != parent || stored.Header.ParentHash != parent)
        {
            return ($"the header names parent {header.PreviousHash}, but block {height - 1} is {parent}", null);
        }

        if (height == 0)
        {
            if (header.Hash != reference.Head.Hash)
            {
                return ($"block 0 is {header.Hash}, but the genesis file defines {reference.Head.Hash}", null);
            }
        }
        else
        {
            var inForce = await SetInForceAsync(store, sets, header, parent, cancellationToken).ConfigureAwait(false);
            if (inForce.Check == SetInForceCheck.HandOverStatePruned)
            {
                return (new PrunedHandOver(inForce.Reason!), null);
            }

            if (!inForce.IsKnown)
            {
                return ($"the certificate cannot be checked: {inForce.Reason}", null);
            }

            var verdict = certificate!.Verify(header, inForce.Set!, anchor.DomainSeparator, curve);
            if (!verdict.IsValid)
            {
                return ($"the certificate does not prove the block final: {verdict.Check}: {verdict.Reason}", null);
            }
        }

        if (stored.Transactions.Count != header.TransactionCount || stored.Header.FirstHistoryIndex != history.Size)
        {
            return ($"the store holds {stored.Transactions.Count} transactions from history index {stored.Header.FirstHistoryIndex}; the header says {header.TransactionCount} after {history.Size}", null);
        }

        for (var t = 0; t < stored.Transactions.Count; t++)
        {
            var tx = stored.Transactions[t];
            if (prepared.Rejection(t) is not null || prepared.Ids[t] != tx.TxHash)
            {
                return ($"transaction {tx.TxHash} does not decode to a transaction with that id", null);
            }
        }

        history.AppendLeafHashes(prepared.LeafHashes);
        if (prepared.TransactionRoot != header.TransactionRoot)
        {
            return ($"the transactions hash to root {prepared.TransactionRoot}, but the header says {header.TransactionRoot}", null);
        }

        if (history.Size != header.HistorySize || history.Root != header.HistoryRoot)
        {
            return ($"the history tree of size {history.Size} has root {history.Root}, but the header says size {header.HistorySize} root {header.HistoryRoot}", null);
        }

        if (height >= retainedFrom && !header.StateRoot.IsZero)
        {
            var root = await store.GetStateNodeAsync(header.StateRoot, cancellationToken).ConfigureAwait(false);
            if (root is null)
            {
                return ($"the state root {header.StateRoot} of this retained height is not a stored node", null);
            }

            if (DecodeNode(root)?.ComputeHash(reference.Suite) != header.StateRoot)
            {
                return ($"the stored state root node does not hash to {header.StateRoot}", null);
            }
        }

        return (null, header);
    }

    /// <summary>The set in force at <paramref name="header"/>'s height; the parent's header is read (and matched to the verified parent hash) only when the header names a new set.</summary>
    private static async ValueTask<SetInForce> SetInForceAsync(ILedgerStore store, ValidatorSetWalk sets, BlockHeader header, Hash256 parent, CancellationToken cancellationToken)
    {
        if (header.ValidatorSetHash == sets.Current.Hash)
        {
            return new SetInForce(SetInForceCheck.InForce, sets.Current, null);
        }

        var stored = await store.GetHeaderAsync(header.Height - 1, cancellationToken).ConfigureAwait(false);
        if (stored is null || !BlockHeader.TryDecode(stored.Header.Span, out var previous, out _) || previous!.Hash != parent)
        {
            return new SetInForce(SetInForceCheck.NotTheStatesSet, null, $"block {header.Height - 1}'s header does not read back as the verified parent {parent}");
        }

        return await sets.SetForAsync(previous, header, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Walks the head's state tree from the store, re-hashing every node and checking each leaf sits on its key's path,
    /// and compares its leaves (in key order) with the store's state table.
    /// </summary>
    private static async Task<(string? Damage, long Nodes)> CheckHeadStateAsync(ILedgerStore store, Hash256 root, CryptoSuite suite, CancellationToken cancellationToken)
    {
        var leaves = new List<(Hash256 Key, Hash256 ValueHash)>();
        long nodes = 0;
        var pending = new Stack<(Hash256 Hash, int Depth, Hash256 Prefix)>();
        if (!root.IsZero)
        {
            pending.Push((root, 0, Hash256.Zero));
        }

        while (pending.Count > 0)
        {
            var (hash, depth, prefix) = pending.Pop();
            var encoded = await store.GetStateNodeAsync(hash, cancellationToken).ConfigureAwait(false);
            var node = encoded is null ? null : DecodeNode(encoded);
            if (node is null || node.ComputeHash(suite) != hash)
            {
                return ($"state node {hash} of the head's tree is {(encoded is null ? "missing" : "damaged")}", nodes);
            }

            nodes++;
            switch (node)
            {
                case StateLeafNode leaf:
                    if (!SharesPrefix(leaf.Key, prefix, depth))
                    {
                        return ($"state leaf {leaf.Key} sits at a path it does not belong to", nodes);
                    }

                    leaves.Add((leaf.Key, StateHashing.ValueHash(suite, leaf.Value)));
                    break;
                case StateInternalNode inner:
                    // Right first, so the left subtree is walked first and leaves come out in key order.
                    if (!inner.Right.IsZero)
                    {
                        pending.Push((inner.Right, depth + 1, WithBit(prefix, depth)));
                    }

                    if (!inner.Left.IsZero)
                    {
                        pending.Push((inner.Left, depth + 1, prefix));
                    }

                    break;
                case StatePageNode page:
                    // Slots pushed from the last, so the first is walked first and leaves still come out in key order.
                    for (var slot = StatePageNode.SlotCount - 1; slot >= 0; slot--)
                    {
                        if (page.IsOccupied(slot))
                        {
                            var below = prefix;
                            for (var bit = 0; bit < 4; bit++)
                            {
                                below = ((slot >> (3 - bit)) & 1) == 1 ? WithBit(below, depth + bit) : below;
                            }

                            pending.Push((page.Child(slot), depth + 4, below));
                        }
                    }

                    break;
            }
        }

        var index = 0;
        await foreach (var entry in store.EnumerateStateAsync(cancellationToken).ConfigureAwait(false))
        {
            if (index >= leaves.Count || leaves[index].Key != entry.Key || leaves[index].ValueHash != StateHashing.ValueHash(suite, entry.Value.Span))
            {
                return ($"the state table and the state tree differ at key {entry.Key}", nodes);
            }

            index++;
        }

        return index == leaves.Count ? (null, nodes) : ($"the state tree holds {leaves.Count} keys, the state table {index}", nodes);
    }

    private static StateNode? DecodeNode(byte[] encoded)
    {
        try
        {
            return StateNode.Decode(encoded);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool SharesPrefix(in Hash256 key, in Hash256 prefix, int bits)
    {
        for (var bit = 0; bit < bits; bit++)
        {
            if (key.Bit(bit) != prefix.Bit(bit))
            {
                return false;
            }
        }

        return true;
    }

    private static Hash256 WithBit(in Hash256 prefix, int bit)
    {
        Span<byte> bytes = stackalloc byte[Hash256.Size];
        prefix.CopyTo(bytes);
        bytes[bit >> 3] |= (byte)(0x80 >> (bit & 7));
        return new Hash256(bytes);
    }
}
