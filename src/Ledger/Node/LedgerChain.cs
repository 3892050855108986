using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>
/// One node's view of the chain: genesis, then blocks committed only with a valid certificate, and the receipts anyone
/// can check offline. Single writer (the commit pipeline); readers may prove and read concurrently.
/// </summary>
/// <remarks>
/// Two ways to make one. <c>new LedgerChain(genesis, curve)</c> keeps everything in memory (tests, the demo); its
/// <see cref="CommitAsync"/> still writes every block, with its state-tree nodes, to the store it is given.
/// <see cref="OpenAsync"/> opens a chain <em>from</em> a store at the store's head without replaying history: the
/// state tree and the history tree read the store through bounded caches, and state versions older than the
/// retention window are pruned (see docs/storage.md, "Restart from the store").
/// </remarks>
public sealed partial class LedgerChain
{
    private readonly ISignatureScheme _curve;
    private readonly ChainStateNodes _stateNodes;
    private readonly StateTree _stateTree;
    private readonly HeadStateCache _headState;
    private readonly IHistoryNodeStore _historyNodes;
    private readonly LedgerChainOptions _options;

    // A chain opened from a store reads blocks and transactions from it; an in-memory chain keeps them here.
    private readonly ILedgerStore? _store;
    private readonly List<CommittedBlock> _blocks = [];
    private readonly List<byte[]> _history = [];
    private readonly Dictionary<Hash256, long> _historyIndex = [];
    private readonly PendingStateBatch? _genesisNodes;
    private readonly CommittedBlock _genesis;
    private CommittedBlock _head;
    private long _retainedFrom;
    private long _uncertainAppend = -1;

    // The stored encoding of the state nodes of the block being committed, reused (see Encode).
    private byte[] _encodedNodeBytes = [];
    private StoredStateNode[] _encodedNodes = [];
    private readonly ValidatorSetInState _validatorSets = new();
    private ValidatorSet _nextValidators;

    public LedgerChain(GenesisDocument genesis, ISignatureScheme curve)
        : this(genesis, curve, null, LedgerChainOptions.Default)
    {
    }

    private LedgerChain(GenesisDocument genesis, ISignatureScheme curve, ILedgerStore? store, LedgerChainOptions options)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        _curve = curve;
        _store = store;
        _options = options;
        Genesis = genesis;
        Suite = genesis.Crypto.SuiteOver(curve);
        Anchor = TrustAnchor.FromGenesis(genesis);
        Domain = genesis.Domain(Suite);
        Machine = new CreditStateMachine(genesis, curve);
        _stateNodes = store is null
            ? ChainStateNodes.InMemory(Suite)
            : ChainStateNodes.OverStore(store, (int)Math.Min(int.MaxValue, options.StateNodeCacheBytes / LedgerChainOptions.StateNodeCacheEntryBytes), Suite,
                options.StateNodeCacheBytes / LedgerChainOptions.StateNodeCacheLeafValueShare);
        _stateTree = new StateTree(_stateNodes, Suite, options.StateLayout);
        _headState = new HeadStateCache(_stateTree, options.HeadStateCacheEntries, options.HeadStateCacheBytes);
        _historyNodes = store is null ? new InMemoryHistoryNodeStore() : new ChainHistoryNodes(store, store, options.HistoryNodeCacheEntries);
        Assembler = new BlockAssembler(Machine, _stateTree);

        var genesisWrites = Machine.GenesisWrites();
        var genesisRoot = _stateTree.Apply(StateTree.EmptyRoot, [.. genesisWrites]);
        _genesisNodes = _stateNodes.PendingBatch(genesisRoot);
        _headState.Start(genesisRoot, genesisWrites.Where(w => w.Value is not null).Select(w => w.Key));
        var header = new BlockHeader(genesis.ChainId, 0, Hash256.Zero, genesis.GenesisTime.ToUnixTimeMilliseconds(), Address.Zero, 0, 0,
            Suite.EmptyHistoryRoot, genesisRoot, 0, Suite.EmptyHistoryRoot, Anchor.Validators.Hash)
        {
            Crypto = Suite.Id,
        };
        _head = new CommittedBlock(header, new CommitCertificate(0, 0, header.Hash, []), []);
        _genesis = _head;
        _nextValidators = Anchor.Validators;
        if (store is null)
        {
            _stateNodes.Commit(_genesisNodes);
            _blocks.Add(_head);
        }
    }

    public GenesisDocument Genesis { get; }

    /// <summary>The chain's crypto suite, from its genesis: every hash and signature of this chain.</summary>
    public CryptoSuite Suite { get; }

    public TrustAnchor Anchor { get; }

    public Eip712Domain Domain { get; }

    public CreditStateMachine Machine { get; }

    public BlockAssembler Assembler { get; }

    public BlockHeader Head => _head.Header;

    /// <summary>
    /// The validator set that proposes, seals and certifies the next block (V_{head+1}): the <c>validator-set</c> value of
    /// the head's state (docs/consensus.md, "Validator-set changes"). The genesis set until a governance vote changes it.
    /// </summary>
    public ValidatorSet NextValidators => Volatile.Read(ref _nextValidators);

    /// <summary>The head block with its certificate.</summary>
    public CommittedBlock HeadBlock => _head;

    /// <summary>
    /// Every committed block by height. A chain opened from a store reads them from it on access (synchronously);
    /// prefer <see cref="GetBlockAsync"/> there.
    /// </summary>
    public IReadOnlyList<CommittedBlock> Blocks => _store is null ? _blocks : new StoredBlockList(this);

    /// <summary>The store this chain was opened from, or null for an in-memory chain.</summary>
    public ILedgerStore? Store => _store;

    /// <summary>The lowest height whose state version can still be read and proved (0 unless pruned).</summary>
    public long StateRetainedFrom => Volatile.Read(ref _retainedFrom);

    /// <summary>What the store repaired or skipped when it opened (null for an in-memory chain).</summary>
    public StoreRecoveryReport? Recovery => _store?.Recovery;

    /// <summary>The state tree (benchmarks and tests reach versions by raw key hash).</summary>
    internal StateTree StateTree => _stateTree;

    /// <summary>State-tree nodes read back from the store after the node cache missed them (the load tool reports it).</summary>
    internal long StateNodesReadFromStore => _stateNodes.StoreReads;

    /// <summary>The state at the head, for the state machine and queries.</summary>
    public IStateReader State => new StateTreeReader(_stateTree, Head.StateRoot);

    /// <summary>The state at the head through the head cache (the writer's reads: admission, nonces).</summary>
    internal IStateReader CachedState => _headState.ReaderAt(Head.StateRoot);

    /// <summary>Whether the head cache knows every key of the head, so it answers absent keys without the tree (tests).</summary>
    internal bool HeadKeysComplete => _headState.KeysComplete;

    /// <summary>
    /// Gives the caches <paramref name="share"/> (0 to 1) of what the options give them (<see cref="MemoryGovernor"/>:
    /// the process's share under its memory budget): the head state cache's values, and the state-node cache's leaf
    /// values and its page and leaf tables (<see cref="StateNodeCache.SetShare"/>). What a cache holds past its new
    /// bound goes at once; the next blocks read it from the tree and the store again. Safe from any thread.
    /// </summary>
    public void ResizeCaches(double share)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(share);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(share, 1);
        _headState.SetMaxBytes((long)(_options.HeadStateCacheBytes * share));
        _stateNodes.SetCacheShare(share);
    }

    /// <summary>
    /// The state committed by block <paramref name="height"/> (0 ≤ height ≤ head, and not below
    /// <see cref="StateRetainedFrom"/>: a pruned version cannot be read). A chain opened from its store reads the
    /// header of a past height from the store.
    /// </summary>
    public IStateReader StateAt(long height)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, Head.Height);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, StateRetainedFrom);
        var root = height == Head.Height ? Head.StateRoot : Blocks[checked((int)height)].Header.StateRoot;
        return new StateTreeReader(_stateTree, root);
    }

    public ChainHead HeadForBuilding => new(Head.ChainId, Head.Height, Head.Hash, Head.StateRoot, Head.HistorySize, _historyNodes)
    {
        State = _headState.ReaderAt(Head.StateRoot),
    };

    /// <summary>Assembles a candidate on the head (see <see cref="BlockAssembler"/>).</summary>
    public BlockCandidate Propose(IEnumerable<ReadOnlyMemory<byte>> transactions, DateTimeOffset blockTime, int round = 0)
        => Assembler.Assemble(HeadForBuilding, transactions, blockTime, round);

    /// <summary>Seals a candidate as one validator (what a validator sends in its COMMIT message).</summary>
    public Signature Seal(BlockCandidate candidate, ISigner validator)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return CommitSeal.Sign(validator, Anchor.DomainSeparator, candidate.Header);
    }

    /// <summary>The genesis block as a store commit (height 0): the genesis state and its state-tree nodes, no transactions.</summary>
    public BlockCommit GenesisCommit()
    {
        var genesis = _genesis;
        return new BlockCommit(0, genesis.Header.Hash, Hash256.Zero, genesis.Header.TimestampMs, genesis.Header.Encode(), genesis.Certificate.Encode(),
            [], [.. Machine.GenesisWrites()], [], ProjectionRows.Empty)
        {
            StateNodes = Encode(_genesisNodes),
        };
    }

    /// <summary>
    /// Commits a certified candidate durably: the store first (so an acknowledged block survives a crash), with the
    /// state-tree nodes the block created, the nodes it made stale and the retention floor; then this chain's view. A bad
    /// certificate or a block that does not extend the head changes nothing and says why.
    /// </summary>
    public Task<CertificateVerdict> CommitAsync(BlockCandidate candidate, CommitCertificate certificate, ILedgerStore store, CancellationToken cancellationToken)
        => CommitWhileAsync(candidate, certificate, store, null, cancellationToken);

    /// <summary>
    /// As above; <paramref name="whileAppending"/>, when given, runs on the calling thread while the store appends the
    /// block on another (the node builds the next block meanwhile, see <see cref="AssembleOn"/>). It must not throw.
    /// </summary>
    internal async Task<CertificateVerdict> CommitWhileAsync(BlockCandidate candidate, CommitCertificate certificate, ILedgerStore store, Action? whileAppending, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (_store is not null && !ReferenceEquals(store, _store))
        {
            throw new ArgumentException("a chain opened from a store commits to that store", nameof(store));
        }

        var verdict = Check(candidate, certificate);
        if (!verdict.IsValid)
        {
            return verdict;
        }

        var parentRoot = Head.StateRoot;
        var newRoot = candidate.Header.StateRoot;
        var batch = _stateNodes.PendingBatch(newRoot);
        if (batch is null && newRoot != parentRoot)
        {
            // Assembled elsewhere (or its pending nodes were dropped): apply the writes again, deterministically.
            var rebuilt = _stateTree.Apply(parentRoot, [.. candidate.Body.Writes]);
            if (rebuilt != newRoot)
            {
                return CertificateVerdict.Fail(CertificateCheck.HeaderMismatch,
                    $"block {candidate.Header.Height} claims state root {newRoot}, but its writes give {rebuilt}");
            }

            batch = _stateNodes.PendingBatch(newRoot);
        }

        var projections = LedgerProjector.Project(candidate, new BlockWritesReader(candidate.Body.Writes, _headState.ReaderAt(parentRoot)));
        var floor = RetentionFloorAfter(candidate.Header.Height);
        var firstIndex = Head.HistorySize;
        var commit = new BlockCommit(
            candidate.Header.Height,
            candidate.Header.Hash,
            candidate.Header.PreviousHash,
            candidate.Header.TimestampMs,
            candidate.Header.Encode(),
            certificate.Encode(),
            [.. candidate.Body.Included.Select((tx, i) => new StoredTransaction(tx.Hash, firstIndex + i, tx.Bytes))],
            candidate.Body.Writes,
            [.. candidate.HistoryNodes.Written.Select(n => new HistoryNode(n.Level, n.Index, n.Hash))],
            projections)
        {
            StateNodes = Encode(batch),
            StaleStateNodes = batch?.Replaced ?? [],
            StateRetainedFrom = floor,
        };
        if (whileAppending is null)
        {
            await AppendOnceAsync(store, commit, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // A thread of its own: the fsync blocks it, and on a busy thread pool (clients verifying signatures) a
            // queued append would wait behind their work. The writer goes on where the append finishes (AppendThreads).
            var append = AppendThreads.Shared.Run(() => AppendOnceAsync(store, commit, cancellationToken));
            try
            {
                whileAppending();
            }
            finally
            {
                await append.ConfigureAwait(false);
            }
        }

        Apply(candidate, certificate, batch);
        Volatile.Write(ref _retainedFrom, Math.Max(_retainedFrom, floor));
        return verdict;
    }

    /// <summary>
    /// Appends a block, once. After an append that failed with <see cref="StoreUnavailableException"/> the store may
    /// have committed it all the same (a database that went away after COMMIT reached it, before the answer came
    /// back): the retry first asks the store's head, and a head that already is this block is taken as the append.
    /// </summary>
    private async Task AppendOnceAsync(ILedgerStore store, BlockCommit commit, CancellationToken cancellationToken)
    {
        if (_uncertainAppend == commit.Height)
        {
            var head = await store.GetHeadAsync(cancellationToken).ConfigureAwait(false);
            if (head is { } stored && stored.Height == commit.Height && stored.BlockHash == commit.BlockHash)
            {
                _uncertainAppend = -1;
                return;
            }
        }

        try
        {
            await store.AppendAsync(commit, cancellationToken).ConfigureAwait(false);
            _uncertainAppend = -1;
        }
        catch (StoreUnavailableException)
        {
            _uncertainAppend = commit.Height;
            throw;
        }
    }

    /// <summary>
    /// Commits a candidate built on the current head if <paramref name="certificate"/> proves it final; otherwise
    /// nothing changes and the verdict says why. In memory only: a chain opened from a store commits with
    /// <see cref="CommitAsync"/>.
    /// </summary>
    public CertificateVerdict Commit(BlockCandidate candidate, CommitCertificate certificate)
    {
        if (_store is not null)
        {
            throw new InvalidOperationException("a chain opened from a store commits through CommitAsync, so the block reaches the store first");
        }

        var verdict = Check(candidate, certificate);
        if (verdict.IsValid)
        {
            var batch = _stateNodes.PendingBatch(candidate.Header.StateRoot);
            if (batch is null && candidate.Header.StateRoot != Head.StateRoot)
            {
                _stateTree.Apply(Head.StateRoot, [.. candidate.Body.Writes]);
                batch = _stateNodes.PendingBatch(candidate.Header.StateRoot);
            }

            Apply(candidate, certificate, batch);
        }

        return verdict;
    }

    /// <summary>Adds a checked block to this chain's view: state nodes, history nodes, transaction index, head.</summary>
    private void Apply(BlockCandidate candidate, CommitCertificate certificate, PendingStateBatch? stateNodes)
    {
        _stateNodes.Commit(stateNodes, TakeKeptPendingRoot());
        _headState.Advance(Head.StateRoot, candidate.Header.StateRoot, candidate.Body.Writes);
        candidate.HistoryNodes.FlushTo(_historyNodes);
        var block = new CommittedBlock(candidate.Header, certificate, [.. candidate.Body.Included.Select(tx => tx.Hash)]);
        if (_store is null)
        {
            foreach (var tx in candidate.Body.Included)
            {
                _historyIndex[tx.Hash] = _history.Count;
                _history.Add(tx.Bytes.ToArray());
            }

            _blocks.Add(block);
        }

        _head = block;
        var next = _validatorSets.After(_headState.ReaderAt(candidate.Header.StateRoot));
        Volatile.Write(ref _nextValidators, next);
        if (next.Hash != candidate.Header.ValidatorSetHash)
        {
            RecordHandOver();
        }
    }

    private long RetentionFloorAfter(long height)
    {
        if (_options.StateRetentionBlocks is not { } keep)
        {
            return 0;
        }

        var floor = height - keep + 1; // the newest `keep` versions: height - keep + 1 .. height
        floor -= floor % _options.PruneEveryBlocks;
        return Math.Max(_retainedFrom, Math.Max(0, floor));
    }

    private CertificateVerdict Check(BlockCandidate candidate, CommitCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(certificate);
        return candidate.Header.PreviousHash != Head.Hash || candidate.Header.Height != Head.Height + 1
            ? CertificateVerdict.Fail(CertificateCheck.HeaderMismatch, $"block {candidate.Header.Height} does not extend the head {Head.Height} ({Head.Hash})")
            : certificate.Verify(candidate.Header, NextValidators, Anchor.DomainSeparator, _curve);
    }

    /// <summary>A receipt that transaction <paramref name="transactionHash"/> is in the history committed by the head.</summary>
    public InclusionReceipt? ProveTransaction(Hash256 transactionHash)
    {
        if (_store is not null)
        {
            var found = ProveTransactionAsync(transactionHash, null, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            return found.Value;
        }

        if (!_historyIndex.TryGetValue(transactionHash, out var index))
        {
            return null;
        }

        var head = _head;
        var history = new HistoryTree(_historyNodes, head.Header.HistorySize, Suite);
        return new InclusionReceipt(Head.ChainId, head.Header, head.Certificate, _history[(int)index], history.ProveInclusion(index, head.Header.HistorySize))
        {
            HandOvers = HandOversBelowNow(head.Header.Height),
        };
    }

    /// <summary>A receipt of the value (or absence) of a state key at the head, e.g. <c>licence/{identifier}</c>.</summary>
    public StateReceipt ProveState(StateKey key)
    {
        var head = _head;
        return new StateReceipt(Head.ChainId, head.Header, head.Certificate, key.Text, _stateTree.Get(head.Header.StateRoot, key.HashIn(Suite)), _stateTree.Prove(head.Header.StateRoot, key.HashIn(Suite)))
        {
            HandOvers = HandOversBelowNow(head.Header.Height),
        };
    }

    /// <summary>The hand-over evidence below <paramref name="height"/>, synchronously (for the at-head receipts above).</summary>
    private System.Collections.Immutable.ImmutableArray<ValidatorSetHandOver> HandOversBelowNow(long height)
    {
        var found = HandOverEvidenceBelowAsync(height, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return found.IsFound ? [.. found.Value!] : throw new InvalidOperationException(found.Message);
    }

    /// <summary>
    /// A batch's nodes in their stored encoding, all in one buffer that is reused from block to block (a block's nodes
    /// take 1-4 MB; a fresh buffer each block was the commit's largest allocation). Valid until the block's append has
    /// returned: a store copies what it keeps (<see cref="BlockCommit.StateNodes"/>).
    /// </summary>
    private IReadOnlyList<StoredStateNode> Encode(PendingStateBatch? batch)
    {
        if (batch is null)
        {
            return [];
        }

        var nodes = batch.Nodes;
        var size = 0;
        foreach (ref readonly var node in nodes.AsSpan())
        {
            size += node.EncodedLength;
        }

        if (_encodedNodeBytes.Length < size)
        {
            _encodedNodeBytes = GC.AllocateUninitializedArray<byte>(Math.Max(size, 2 * _encodedNodeBytes.Length));
        }

        if (_encodedNodes.Length < nodes.Length)
        {
            _encodedNodes = new StoredStateNode[Math.Max(nodes.Length, 2 * _encodedNodes.Length)];
        }

        var buffer = _encodedNodeBytes;
        var offset = 0;
        for (var i = 0; i < nodes.Length; i++)
        {
            var length = nodes[i].EncodeTo(buffer.AsSpan(offset));
            _encodedNodes[i] = new StoredStateNode(nodes[i].Hash, buffer.AsMemory(offset, length));
            offset += length;
        }

        return new ArraySegment<StoredStateNode>(_encodedNodes, 0, nodes.Length);
    }
}

/// <summary>A block as committed: header, certificate and the ids of its transactions.</summary>
public sealed record CommittedBlock(BlockHeader Header, CommitCertificate Certificate, IReadOnlyList<Hash256> TransactionHashes);
