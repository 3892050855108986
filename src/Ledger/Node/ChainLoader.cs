using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>
/// Opens a node's chain from its store. An empty store gets the genesis block. A store that holds the state-tree nodes
/// of its head (every store this build writes) is opened at its head without replaying history
/// (<see cref="LedgerChain.OpenAsync"/>: the head's state root re-hashed from its stored node, the history root
/// recomputed from the stored history nodes), with the retention of <see cref="LedgerChainOptions"/>. A store written
/// before state-tree nodes were persisted is replayed block by block (<see cref="ReplayAsync"/>) and logged at Warning.
/// </summary>
public static partial class ChainLoader
{
    public static async Task<LedgerChain> OpenAsync(GenesisDocument genesis, ISignatureScheme curve, SignatureBatchVerifier verifier, ILedgerStore store, ILogger logger, CancellationToken cancellationToken)
        => (await OpenAsync(genesis, curve, verifier, store, LedgerChainOptions.Default, logger, cancellationToken).ConfigureAwait(false)).Chain;

    /// <exception cref="GenesisMismatchException">The store holds another genesis.</exception>
    /// <exception cref="StoreCorruptedException">The head's trees are damaged, or a replayed block does not check.</exception>
    public static async Task<(LedgerChain Chain, ChainOpening Opening)> OpenAsync(GenesisDocument genesis, ISignatureScheme curve, SignatureBatchVerifier verifier, ILedgerStore store, LedgerChainOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        var head = await store.GetHeadAsync(cancellationToken).ConfigureAwait(false);
        if (head is null || await HasHeadStateTreeAsync(store, head.Value.Height, cancellationToken).ConfigureAwait(false))
        {
            var started = TimeProvider.System.GetTimestamp();
            LedgerChain chain;
            try
            {
                chain = await LedgerChain.OpenAsync(genesis, curve, store, options, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreConflictException e) when (head is not null)
            {
                throw new GenesisMismatchException(e.Message);
            }

            if (head is null)
            {
                LogGenesisWritten(logger, chain.Head.Hash);
                return (chain, ChainOpening.Genesis);
            }

            LogOpenedAtHead(logger, chain.Head.Height, chain.Head.HistorySize, chain.Head.StateRoot, chain.StateRetainedFrom,
                (long)TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);
            return (chain, ChainOpening.StoredTrees);
        }

        LogLegacyReplay(logger, head.Value.Height);
        return (await ReplayAsync(genesis, curve, verifier, store, logger, cancellationToken).ConfigureAwait(false), ChainOpening.Replay);
    }

    /// <summary>
    /// Whether the store holds the whole state tree of its head: the head's root node, and the genesis root node unless
    /// old versions were pruned. A store written before state-tree nodes were persisted has neither; one that such a
    /// store's node (replaying, then writing new blocks with their new nodes) extended has the head's root but not the
    /// genesis's, and its tree is incomplete: both are replayed.
    /// </summary>
    private static async Task<bool> HasHeadStateTreeAsync(ILedgerStore store, long height, CancellationToken cancellationToken)
    {
        var head = await StateRootAsync(store, height, cancellationToken).ConfigureAwait(false);
        if (!head.IsZero && await store.GetStateNodeAsync(head, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        if ((await store.GetStateRetentionAsync(cancellationToken).ConfigureAwait(false)).RetainedFrom > 0)
        {
            return true; // pruning happened, so this store's nodes were written from the genesis on
        }

        var genesis = await StateRootAsync(store, 0, cancellationToken).ConfigureAwait(false);
        return genesis.IsZero || await store.GetStateNodeAsync(genesis, cancellationToken).ConfigureAwait(false) is not null;
    }

    private static async Task<Hash256> StateRootAsync(ILedgerStore store, long height, CancellationToken cancellationToken)
    {
        var stored = await store.GetHeaderAsync(height, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreCorruptedException($"the store has no header at height {height}, below its head");
        if (!BlockHeader.TryDecode(stored.Header.Span, out var header, out var error) || header is null)
        {
            throw new StoreCorruptedException($"the header of block {height} in the store does not decode: {error}");
        }

        return header.StateRoot;
    }

    /// <summary>
    /// An honest replay: a chain in memory rebuilt from every block of <paramref name="store"/> through the engine,
    /// each block re-executed and its header hash and certificate checked. What the crash tests compare a node with.
    /// </summary>
    /// <exception cref="GenesisMismatchException">The store holds another genesis.</exception>
    /// <exception cref="StoreCorruptedException">A block does not decode, re-execute to its header or prove its certificate.</exception>
    public static async Task<LedgerChain> ReplayAsync(GenesisDocument genesis, ISignatureScheme curve, SignatureBatchVerifier verifier, ILedgerStore store, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(verifier);
        ArgumentNullException.ThrowIfNull(logger);
        var chain = new LedgerChain(genesis, curve);
        var head = await store.GetHeadAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new StoreCorruptedException("the store is empty: there is nothing to replay");
        var storedGenesis = await store.GetHeaderAsync(0, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreCorruptedException("the store has a head but no genesis block");
        if (storedGenesis.BlockHash != chain.Head.Hash)
        {
            throw new GenesisMismatchException($"the store holds the chain of genesis block {storedGenesis.BlockHash}, but the configured genesis gives {chain.Head.Hash}: wrong genesis file or wrong data directory");
        }

        var started = TimeProvider.System.GetTimestamp();
        for (var height = 1L; height <= head.Height; height++)
        {
            var block = await store.GetBlockAsync(height, cancellationToken).ConfigureAwait(false)
                ?? throw new StoreCorruptedException($"block {height} is missing below the head {head.Height}");
            Replay(chain, verifier, block);
        }

        if (chain.Head.Hash != head.BlockHash)
        {
            throw new StoreCorruptedException($"replay ended at {chain.Head.Hash}, the store's head is {head.BlockHash}");
        }

        LogReplayed(logger, head.Height, chain.Head.HistorySize, chain.Head.StateRoot, (long)TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);
        return chain;
    }

    private static void Replay(LedgerChain chain, SignatureBatchVerifier verifier, StoredBlock block)
    {
        var height = block.Header.Height;
        if (!BlockHeader.TryDecode(block.Header.Header.Span, out var header, out var error) || header is null)
        {
            throw new StoreCorruptedException($"block {height}: header does not decode: {error}");
        }

        if (!CommitCertificate.TryDecode(block.Header.Certificate.Span, out var certificate, out error) || certificate is null)
        {
            throw new StoreCorruptedException($"block {height}: certificate does not decode: {error}");
        }

        var parameters = chain.Machine.Parameters;
        var decoded = new List<DecodedTransaction>(block.Transactions.Count);
        foreach (var stored in block.Transactions)
        {
            var intake = TransactionIntake.Decode(stored.Bytes, chain.Genesis.ChainId, chain.Domain, parameters.MaxTransactionBytes);
            if (!intake.IsAccepted)
            {
                throw new StoreCorruptedException($"block {height}: transaction {stored.TxHash} is not valid: {intake.Code}: {intake.Reason}");
            }

            decoded.Add(intake.Transaction!);
        }

        var verified = new IntakeResult<VerifiedTransaction>[decoded.Count];
        TransactionIntake.Verify(decoded, chain.Domain, verifier, verified);
        var transactions = new List<VerifiedTransaction>(verified.Length);
        foreach (var result in verified)
        {
            transactions.Add(result.Transaction ?? throw new StoreCorruptedException($"block {height}: transaction {result.Hash}: {result.Code}: {result.Reason}"));
        }

        var candidate = chain.Assembler.Assemble(chain.HeadForBuilding, transactions, header.Timestamp, header.Round);
        if (candidate.Header.Hash != header.Hash || candidate.Body.Skipped.Count > 0)
        {
            throw new StoreCorruptedException($"block {height}: re-execution gives header {candidate.Header.Hash} ({candidate.Body.Skipped.Count} transactions rejected), the store holds {header.Hash}");
        }

        var verdict = chain.Commit(candidate, certificate);
        if (!verdict.IsValid)
        {
            throw new StoreCorruptedException($"block {height}: certificate does not prove it: {verdict.Check}: {verdict.Reason}");
        }
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "chain: empty store, wrote the genesis block {Hash}")]
    private static partial void LogGenesisWritten(ILogger logger, Hash256 hash);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "chain: opened at height {Height} ({Transactions} transactions, state root {StateRoot}) from the stored state and history trees in {Milliseconds} ms; state versions kept from height {RetainedFrom}")]
    private static partial void LogOpenedAtHead(ILogger logger, long height, long transactions, Hash256 stateRoot, long retainedFrom, long milliseconds);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "chain: the store's head {Height} has no persisted state-tree nodes (written by a build before they were persisted): replaying every block; state retention does not apply to this chain, and the next restart replays again")]
    private static partial void LogLegacyReplay(ILogger logger, long height);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "chain: replayed {Height} blocks ({Transactions} transactions) from the store to state root {StateRoot} in {Milliseconds} ms")]
    private static partial void LogReplayed(ILogger logger, long height, long transactions, Hash256 stateRoot, long milliseconds);
}

/// <summary>The store holds another chain than the configured genesis describes.</summary>
public sealed class GenesisMismatchException(string message) : Exception(message);
