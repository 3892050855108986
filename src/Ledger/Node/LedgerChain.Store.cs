using System.Collections;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;

namespace SmartCity.Ledger.Node;

/// <summary>Opening a chain from its store, and reads and proofs at any retained height.</summary>
public sealed partial class LedgerChain
{
    /// <summary>
    /// Opens the chain that <paramref name="store"/> holds, at the store's head, without replaying history: the head
    /// block is read, its state root is found among the persisted state-tree nodes (and re-hashed) and its history root
    /// is recomputed from the persisted history nodes. An empty store gets the genesis block first.
    /// </summary>
    /// <exception cref="StoreConflictException">The store holds a chain with another genesis block.</exception>
    /// <exception cref="StoreCorruptedException">The head's state or history tree is not in the store, or does not hash to the header's roots.</exception>
    public static async Task<LedgerChain> OpenAsync(GenesisDocument genesis, ISignatureScheme curve, ILedgerStore store, LedgerChainOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= LedgerChainOptions.Default;
        options.Validate();
        var chain = new LedgerChain(genesis, curve, store, options);
        var head = await store.GetHeadAsync(cancellationToken).ConfigureAwait(false);
        if (head is null)
        {
            await store.AppendAsync(chain.GenesisCommit(), cancellationToken).ConfigureAwait(false);
            chain._stateNodes.Commit(chain._genesisNodes);
            return chain;
        }

        var storedGenesis = await store.GetHeaderAsync(0, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreCorruptedException("the store has a head but no block 0");
        if (storedGenesis.BlockHash != chain._genesis.Header.Hash)
        {
            throw new StoreConflictException(
                $"the store holds a chain whose genesis block is {storedGenesis.BlockHash}, but the genesis file gives {chain._genesis.Header.Hash}: wrong genesis file or wrong data directory");
        }

        chain._stateNodes.Commit(null); // the genesis nodes are in the store already
        chain._head = await chain.ReadStoredBlockAsync(head.Value.Height, cancellationToken).ConfigureAwait(false);
        if (store is EmbeddedLedgerStore embedded)
        {
            chain.FillKeyFilterInBackground(embedded); // its keys are in its index; PostgreSQL's would be a scan of the state table
        }
        else
        {
            chain._headState.StartUnknown(chain.Head.StateRoot);
        }
        chain._retainedFrom = (await store.GetStateRetentionAsync(cancellationToken).ConfigureAwait(false)).RetainedFrom;

        var header = chain.Head;
        if (!header.StateRoot.IsZero && await store.GetStateNodeAsync(header.StateRoot, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new StoreCorruptedException(
                $"the state tree of the head (height {header.Height}, root {header.StateRoot}) is not in the store: it was written without state-tree nodes (by a build before they were persisted) or damaged");
        }

        await chain._stateNodes.PrefetchPathAsync(header.StateRoot, Hash256.Zero, cancellationToken).ConfigureAwait(false); // re-hashes the root node
        var history = (ChainHistoryNodes)chain._historyNodes;
        await history.PrefetchAsync(header.HistorySize, _ => { }, cancellationToken).ConfigureAwait(false);
        var historyRoot = new HistoryTree(history, header.HistorySize, chain.Suite).Root;
        if (historyRoot != header.HistoryRoot)
        {
            throw new StoreCorruptedException($"the stored history tree of size {header.HistorySize} has root {historyRoot}, but head {header.Height} certifies {header.HistoryRoot}");
        }

        // The set in force after the head is the head state's validator-set: no replay (docs/consensus.md).
        await chain._stateNodes.PrefetchPathAsync(header.StateRoot, StateKeys.ValidatorSet.HashIn(chain.Suite), cancellationToken).ConfigureAwait(false);
        chain._nextValidators = chain._validatorSets.After(chain.State);
        chain._openedAt = header.Height;
        if (chain._nextValidators.Hash != header.ValidatorSetHash)
        {
            chain.RecordHandOver();
        }

        return chain;
    }

    /// <summary>
    /// Gives the head cache the keys of the reopened head, read from the embedded store's state index (keys only) off the open
    /// path (the open does not wait for it): until it is done, every read of an absent key walks the tree, as before.
    /// Any failure (the store closed meanwhile) just leaves the filter incomplete, which is always correct.
    /// </summary>
    private void FillKeyFilterInBackground(EmbeddedLedgerStore store)
    {
        var token = _headState.StartUnknown(Head.StateRoot);
        _ = Task.Run(async () =>
        {
            try
            {
                var batch = new Hash256[4096];
                var count = 0;
                await foreach (var key in store.EnumerateStateKeysAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    batch[count++] = key;
                    if (count == batch.Length)
                    {
                        _headState.AddKeys(batch);
                        count = 0;
                    }
                }

                _headState.AddKeys(batch.AsSpan(0, count));
                _headState.CompleteKeys(token);
            }
#pragma warning disable CA1031 // an optimisation only: any failure leaves the filter incomplete, which is correct
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        });
    }

    /// <summary>The committed block at <paramref name="height"/> (header, certificate, transaction ids), or null above the head.</summary>
    public async ValueTask<CommittedBlock?> GetBlockAsync(long height, CancellationToken cancellationToken)
    {
        if (height < 0 || height > Head.Height)
        {
            return null;
        }

        if (_store is null)
        {
            return _blocks[(int)height];
        }

        if (height == Head.Height && _head.Header.Height == height && _head.TransactionHashes.Count == _head.Header.TransactionCount)
        {
            return _head;
        }

        return await ReadStoredBlockAsync(height, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<CommittedBlock> ReadStoredBlockAsync(long height, CancellationToken cancellationToken)
    {
        var stored = await _store!.GetBlockAsync(height, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreCorruptedException($"block {height} is at or below the head but not in the store");
        var (header, certificate) = Decode(stored.Header);
        return new CommittedBlock(header, certificate, [.. stored.Transactions.Select(t => t.TxHash)]);
    }

    /// <summary>The certified header at <paramref name="height"/> (without reading its transactions), or null above the head.</summary>
    public async ValueTask<(BlockHeader Header, CommitCertificate Certificate)?> GetCertifiedHeaderAsync(long height, CancellationToken cancellationToken)
    {
        if (height < 0 || height > Head.Height)
        {
            return null;
        }

        if (_store is null)
        {
            return (_blocks[(int)height].Header, _blocks[(int)height].Certificate);
        }

        var stored = await _store.GetHeaderAsync(height, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreCorruptedException($"block {height} is below the head but not in the store");
        return Decode(stored);
    }

    /// <summary>The value of <paramref name="key"/> in the state after block <paramref name="height"/> (null value: absent).</summary>
    public async ValueTask<ChainQuery<byte[]?>> ReadStateAsync(StateKey key, long height, CancellationToken cancellationToken)
    {
        var at = await StateHeaderAsync(height, cancellationToken).ConfigureAwait(false);
        if (!at.IsFound)
        {
            return ChainQuery<byte[]?>.Fail(at.Error, at.Message);
        }

        try
        {
            await _stateNodes.PrefetchPathAsync(at.Value.Header.StateRoot, key.HashIn(Suite), cancellationToken).ConfigureAwait(false);
            return ChainQuery<byte[]?>.Found(_stateTree.Get(at.Value.Header.StateRoot, key.HashIn(Suite)));
        }
        catch (KeyNotFoundException ex)
        {
            var pruned = await PrunedSinceAsync(height, ex, cancellationToken).ConfigureAwait(false);
            return ChainQuery<byte[]?>.Fail(pruned.Error, pruned.Message);
        }
    }

    /// <summary>
    /// A receipt of the value (or absence) of <paramref name="key"/> in the state after block <paramref name="height"/>
    /// (the head when null), checkable offline against that block's certified header.
    /// </summary>
    public async ValueTask<ChainQuery<StateReceipt>> ProveStateAsync(StateKey key, long? height, CancellationToken cancellationToken)
    {
        var proved = await ProveStateOnlyAsync(key, height, cancellationToken).ConfigureAwait(false);
        return proved.IsFound ? await WithHandOversAsync(proved.Value!, cancellationToken).ConfigureAwait(false) : proved;
    }

    /// <summary>A receipt with the evidence of every validator-set hand-over below its block (docs/receipts.md).</summary>
    private async ValueTask<ChainQuery<T>> WithHandOversAsync<T>(T receipt, CancellationToken cancellationToken)
        where T : Receipt
    {
        var handOvers = await HandOverEvidenceBelowAsync(receipt.Header.Height, cancellationToken).ConfigureAwait(false);
        return handOvers.IsFound
            ? ChainQuery<T>.Found(receipt with { HandOvers = [.. handOvers.Value!] })
            : ChainQuery<T>.Fail(handOvers.Error, handOvers.Message);
    }

    /// <summary>The state receipt without hand-overs (what a hand-over's own evidence is made of).</summary>
    private async ValueTask<ChainQuery<StateReceipt>> ProveStateOnlyAsync(StateKey key, long? height, CancellationToken cancellationToken)
    {
        var at = await StateHeaderAsync(height ?? Head.Height, cancellationToken).ConfigureAwait(false);
        if (!at.IsFound)
        {
            return ChainQuery<StateReceipt>.Fail(at.Error, at.Message);
        }

        var (header, certificate) = at.Value;
        try
        {
            await _stateNodes.PrefetchPathAsync(header.StateRoot, key.HashIn(Suite), cancellationToken).ConfigureAwait(false);
            var value = _stateTree.Get(header.StateRoot, key.HashIn(Suite));
            var proof = _stateTree.Prove(header.StateRoot, key.HashIn(Suite));
            return ChainQuery<StateReceipt>.Found(new StateReceipt(header.ChainId, header, certificate, key.Text, value, proof));
        }
        catch (KeyNotFoundException ex)
        {
            var pruned = await PrunedSinceAsync(header.Height, ex, cancellationToken).ConfigureAwait(false);
            return ChainQuery<StateReceipt>.Fail(pruned.Error, pruned.Message);
        }
    }

    /// <summary>
    /// A receipt that transaction <paramref name="transactionHash"/> is in the history certified by block
    /// <paramref name="height"/> (the head when null). History is never pruned, so any height at or after the
    /// transaction's block works.
    /// </summary>
    public async ValueTask<ChainQuery<InclusionReceipt>> ProveTransactionAsync(Hash256 transactionHash, long? height, CancellationToken cancellationToken)
    {
        long index, committedAt;
        byte[] bytes;
        if (_store is null)
        {
            if (!_historyIndex.TryGetValue(transactionHash, out index))
            {
                return ChainQuery<InclusionReceipt>.Fail(ChainQueryError.TransactionNotFound, $"no committed transaction has id {transactionHash}");
            }

            bytes = _history[(int)index];
            committedAt = BlockOfHistoryIndex(index);
        }
        else
        {
            var location = await _store.GetTransactionAsync(transactionHash, cancellationToken).ConfigureAwait(false);
            if (location is null)
            {
                return ChainQuery<InclusionReceipt>.Fail(ChainQueryError.TransactionNotFound, $"no committed transaction has id {transactionHash}");
            }

            (index, committedAt, bytes) = (location.HistoryIndex, location.Height, location.Bytes.ToArray());
        }

        var atHeight = height ?? Head.Height;
        if (await GetCertifiedHeaderAsync(atHeight, cancellationToken).ConfigureAwait(false) is not var (header, certificate))
        {
            return ChainQuery<InclusionReceipt>.Fail(ChainQueryError.UnknownHeight, $"height {atHeight} is not in the chain (head {Head.Height})");
        }

        if (committedAt > atHeight)
        {
            return ChainQuery<InclusionReceipt>.Fail(ChainQueryError.TransactionNotYetCommitted,
                $"transaction {transactionHash} was committed in block {committedAt}, after height {atHeight}");
        }

        var size = header.HistorySize;
        if (_historyNodes is ChainHistoryNodes cached)
        {
            await cached.PrefetchAsync(size, tree => tree.ProveInclusion(index, size), cancellationToken).ConfigureAwait(false);
        }

        var proof = new HistoryTree(_historyNodes, size, Suite).ProveInclusion(index, size);
        return await WithHandOversAsync(new InclusionReceipt(header.ChainId, header, certificate, bytes, proof), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The RFC 9162 consistency proof between the history certified by block <paramref name="firstHeight"/> and by
    /// block <paramref name="secondHeight"/>, with both certified headers.
    /// </summary>
    public async ValueTask<ChainQuery<ConsistencyEvidence>> ProveConsistencyAsync(long firstHeight, long secondHeight, CancellationToken cancellationToken)
    {
        if (firstHeight > secondHeight)
        {
            return ChainQuery<ConsistencyEvidence>.Fail(ChainQueryError.HeightsOutOfOrder, $"the first height {firstHeight} is above the second {secondHeight}");
        }

        if (await GetCertifiedHeaderAsync(firstHeight, cancellationToken).ConfigureAwait(false) is not var (first, firstCertificate)
            || await GetCertifiedHeaderAsync(secondHeight, cancellationToken).ConfigureAwait(false) is not var (second, secondCertificate))
        {
            return ChainQuery<ConsistencyEvidence>.Fail(ChainQueryError.UnknownHeight, $"heights {firstHeight} and {secondHeight} must be within 0 to {Head.Height}");
        }

        var (m, n) = (first.HistorySize, second.HistorySize);
        if (_historyNodes is ChainHistoryNodes cached)
        {
            await cached.PrefetchAsync(n, tree => tree.ProveConsistency(m, n), cancellationToken).ConfigureAwait(false);
        }

        var proof = new HistoryTree(_historyNodes, n, Suite).ProveConsistency(m, n);
        return ChainQuery<ConsistencyEvidence>.Found(new ConsistencyEvidence(first, firstCertificate, second, secondCertificate, proof));
    }

    private async ValueTask<ChainQuery<(BlockHeader Header, CommitCertificate Certificate)>> StateHeaderAsync(long height, CancellationToken cancellationToken)
    {
        if (height < 0 || height > Head.Height)
        {
            return ChainQuery<(BlockHeader, CommitCertificate)>.Fail(ChainQueryError.UnknownHeight, $"height {height} is not in the chain (head {Head.Height})");
        }

        if (height < StateRetainedFrom)
        {
            return ChainQuery<(BlockHeader, CommitCertificate)>.Fail(ChainQueryError.StatePruned, PrunedMessage(height, StateRetainedFrom));
        }

        return ChainQuery<(BlockHeader, CommitCertificate)>.Found((await GetCertifiedHeaderAsync(height, cancellationToken).ConfigureAwait(false))!.Value);
    }

    /// <summary>A node of a version being read went missing: pruned meanwhile (a typed answer), or damage (an exception).</summary>
    private async ValueTask<ChainQuery<bool>> PrunedSinceAsync(long height, KeyNotFoundException missing, CancellationToken cancellationToken)
    {
        var floor = _store is null ? 0 : (await _store.GetStateRetentionAsync(cancellationToken).ConfigureAwait(false)).RetainedFrom;
        if (height < floor)
        {
            return ChainQuery<bool>.Fail(ChainQueryError.StatePruned, PrunedMessage(height, floor));
        }

        throw new StoreCorruptedException($"the state version of height {height} is retained but incomplete in the store: {missing.Message}", missing);
    }

    private string PrunedMessage(long height, long floor) =>
        $"the state of height {height} was pruned: this node keeps state versions from height {floor} on"
        + (_options.StateRetentionBlocks is { } keep ? $" (the newest {keep} blocks)" : "")
        + "; headers, blocks and transaction inclusion proofs remain available at every height";

    private long BlockOfHistoryIndex(long index)
    {
        int low = 1, high = _blocks.Count - 1;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (_blocks[mid].Header.HistorySize > index)
            {
                high = mid;
            }
            else
            {
                low = mid + 1;
            }
        }

        return low;
    }

    private static (BlockHeader Header, CommitCertificate Certificate) Decode(StoredBlockHeader stored)
    {
        if (!BlockHeader.TryDecode(stored.Header.Span, out var header, out var error))
        {
            throw new StoreCorruptedException($"the header of block {stored.Height} in the store does not decode: {error}");
        }

        if (!CommitCertificate.TryDecode(stored.Certificate.Span, out var certificate, out error))
        {
            throw new StoreCorruptedException($"the certificate of block {stored.Height} in the store does not decode: {error}");
        }

        return (header!, certificate!);
    }

    /// <summary>The blocks of a chain opened from a store, read on access.</summary>
    private sealed class StoredBlockList(LedgerChain chain) : IReadOnlyList<CommittedBlock>
    {
        private readonly long _count = chain.Head.Height + 1;

        public int Count => (int)_count;

        public CommittedBlock this[int index] =>
            chain.GetBlockAsync(index, CancellationToken.None).AsTask().GetAwaiter().GetResult() ?? throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<CommittedBlock> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
