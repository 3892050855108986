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
/// One node's view of the chain, in memory: genesis, then blocks committed only with a valid certificate, and the
/// receipts anyone can check offline. Single writer (the commit pipeline); the storage issue persists it.
/// </summary>
public sealed class LedgerChain
{
    private readonly ISecp256k1 _curve;
    private readonly StateTree _stateTree = new(new InMemoryStateNodeStore());
    private readonly InMemoryHistoryNodeStore _historyNodes = new();
    private readonly List<CommittedBlock> _blocks = [];
    private readonly List<byte[]> _history = [];
    private readonly Dictionary<Hash256, long> _historyIndex = [];

    public LedgerChain(GenesisDocument genesis, ISecp256k1 curve)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        _curve = curve;
        Genesis = genesis;
        Anchor = TrustAnchor.FromGenesis(genesis);
        Domain = new Eip712Domain(genesis.Eip712Domain.Name, genesis.Eip712Domain.Version, genesis.Eip712Domain.ChainId);
        Machine = new CreditStateMachine(genesis, curve);
        Assembler = new BlockAssembler(Machine, _stateTree, Anchor.Validators);

        var genesisRoot = _stateTree.Apply(StateTree.EmptyRoot, [.. Machine.GenesisWrites()]);
        var header = new BlockHeader(genesis.ChainId, 0, Hash256.Zero, genesis.GenesisTime.ToUnixTimeMilliseconds(), Address.Zero, 0, 0,
            Rfc6962.EmptyRoot, genesisRoot, 0, Rfc6962.EmptyRoot, Anchor.Validators.Hash);
        _blocks.Add(new CommittedBlock(header, new CommitCertificate(0, 0, header.Hash, []), []));
    }

    public GenesisDocument Genesis { get; }

    public TrustAnchor Anchor { get; }

    public Eip712Domain Domain { get; }

    public CreditStateMachine Machine { get; }

    public BlockAssembler Assembler { get; }

    public BlockHeader Head => _blocks[^1].Header;

    public IReadOnlyList<CommittedBlock> Blocks => _blocks;

    /// <summary>The state at the head, for the state machine and queries.</summary>
    public IStateReader State => new StateTreeReader(_stateTree, Head.StateRoot);

    /// <summary>The state committed by block <paramref name="height"/> (0 ≤ height ≤ head): every version is kept.</summary>
    public IStateReader StateAt(long height) => new StateTreeReader(_stateTree, _blocks[checked((int)height)].Header.StateRoot);

    public ChainHead HeadForBuilding => new(Head.ChainId, Head.Height, Head.Hash, Head.StateRoot, Head.HistorySize, _historyNodes);

    /// <summary>Assembles a candidate on the head (see <see cref="BlockAssembler"/>).</summary>
    public BlockCandidate Propose(IEnumerable<ReadOnlyMemory<byte>> transactions, DateTimeOffset blockTime, int round = 0)
        => Assembler.Assemble(HeadForBuilding, transactions, blockTime, round);

    /// <summary>Seals a candidate as one validator (what a validator sends in its COMMIT message).</summary>
    public Signature Seal(BlockCandidate candidate, ISigner validator)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return CommitSeal.Sign(validator, Anchor.DomainSeparator, candidate.Header);
    }

    /// <summary>The genesis block as a store commit (height 0): the genesis state, no transactions.</summary>
    public BlockCommit GenesisCommit()
    {
        var genesis = _blocks[0];
        return new BlockCommit(0, genesis.Header.Hash, Hash256.Zero, genesis.Header.TimestampMs, genesis.Header.Encode(), genesis.Certificate.Encode(),
            [], [.. Machine.GenesisWrites()], [], ProjectionRows.Empty);
    }

    /// <summary>
    /// Commits a certified candidate durably: the store first (so an acknowledged block survives a crash), then this
    /// chain's view. A bad certificate or a block that does not extend the head changes nothing and says why.
    /// </summary>
    public async Task<CertificateVerdict> CommitAsync(BlockCandidate candidate, CommitCertificate certificate, ILedgerStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var verdict = Check(candidate, certificate);
        if (!verdict.IsValid)
        {
            return verdict;
        }

        var projections = LedgerProjector.Project(candidate, new StateTreeReader(_stateTree, candidate.Header.StateRoot));
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
            projections);
        await store.AppendAsync(commit, cancellationToken).ConfigureAwait(false);
        Apply(candidate, certificate);
        return verdict;
    }

    /// <summary>
    /// Commits a candidate built on the current head if <paramref name="certificate"/> proves it final; otherwise
    /// nothing changes and the verdict says why.
    /// </summary>
    public CertificateVerdict Commit(BlockCandidate candidate, CommitCertificate certificate)
    {
        var verdict = Check(candidate, certificate);
        if (verdict.IsValid)
        {
            Apply(candidate, certificate);
        }

        return verdict;
    }

    /// <summary>Adds a checked block to this chain's view: history nodes, transaction index, head.</summary>
    private void Apply(BlockCandidate candidate, CommitCertificate certificate)
    {
        candidate.HistoryNodes.FlushTo(_historyNodes);
        foreach (var tx in candidate.Body.Included)
        {
            _historyIndex[tx.Hash] = _history.Count;
            _history.Add(tx.Bytes.ToArray());
        }

        _blocks.Add(new CommittedBlock(candidate.Header, certificate, [.. candidate.Body.Included.Select(tx => tx.Hash)]));
    }

    private CertificateVerdict Check(BlockCandidate candidate, CommitCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(certificate);
        return candidate.Header.PreviousHash != Head.Hash || candidate.Header.Height != Head.Height + 1
            ? CertificateVerdict.Fail(CertificateCheck.HeaderMismatch, $"block {candidate.Header.Height} does not extend the head {Head.Height} ({Head.Hash})")
            : certificate.Verify(candidate.Header, Anchor.Validators, Anchor.DomainSeparator, _curve);
    }

    /// <summary>A receipt that transaction <paramref name="transactionHash"/> is in the history committed by the head.</summary>
    public InclusionReceipt? ProveTransaction(Hash256 transactionHash)
    {
        if (!_historyIndex.TryGetValue(transactionHash, out var index))
        {
            return null;
        }

        var head = _blocks[^1];
        var history = new HistoryTree(_historyNodes, head.Header.HistorySize);
        return new InclusionReceipt(Head.ChainId, head.Header, head.Certificate, _history[(int)index], history.ProveInclusion(index, head.Header.HistorySize));
    }

    /// <summary>A receipt of the value (or absence) of a state key at the head, e.g. <c>licence/{identifier}</c>.</summary>
    public StateReceipt ProveState(StateKey key)
    {
        var head = _blocks[^1];
        return new StateReceipt(Head.ChainId, head.Header, head.Certificate, key.Text, _stateTree.Get(head.Header.StateRoot, key.Hash), _stateTree.Prove(head.Header.StateRoot, key.Hash));
    }
}

/// <summary>A block as committed: header, certificate and the ids of its transactions.</summary>
public sealed record CommittedBlock(BlockHeader Header, CommitCertificate Certificate, IReadOnlyList<Hash256> TransactionHashes);
