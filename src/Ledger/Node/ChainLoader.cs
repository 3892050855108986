using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>
/// Opens a node's chain from its store. An empty store gets the genesis block; otherwise the stored genesis must be
/// this genesis, and every stored block is replayed through the engine (transactions decoded and their signatures
/// verified in one batch per block, re-executed on the previous state) and must reproduce the stored header hash and
/// carry a valid certificate. Correct for any store, linear in the history: the storage engine's persisted state and
/// history nodes make it a constant-time open.
/// </summary>
public static partial class ChainLoader
{
    public static async Task<LedgerChain> OpenAsync(GenesisDocument genesis, ISecp256k1 curve, SignatureBatchVerifier verifier, ILedgerStore store, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(logger);
        if (await store.GetHeadAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            var chain = new LedgerChain(genesis, curve);
            await store.AppendAsync(chain.GenesisCommit(), cancellationToken).ConfigureAwait(false);
            LogGenesisWritten(logger, chain.Head.Hash);
            return chain;
        }

        return await ReplayAsync(genesis, curve, verifier, store, logger, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// An honest replay: a chain in memory rebuilt from every block of <paramref name="store"/> through the engine,
    /// each block re-executed and its header hash and certificate checked. What the crash tests compare a node with.
    /// </summary>
    /// <exception cref="GenesisMismatchException">The store holds another genesis.</exception>
    /// <exception cref="StoreCorruptedException">A block does not decode, re-execute to its header or prove its certificate.</exception>
    public static async Task<LedgerChain> ReplayAsync(GenesisDocument genesis, ISecp256k1 curve, SignatureBatchVerifier verifier, ILedgerStore store, ILogger logger, CancellationToken cancellationToken)
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

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "chain: replayed {Height} blocks ({Transactions} transactions) from the store to state root {StateRoot} in {Milliseconds} ms")]
    private static partial void LogReplayed(ILogger logger, long height, long transactions, Hash256 stateRoot, long milliseconds);
}

/// <summary>The store holds another chain than the configured genesis describes.</summary>
public sealed class GenesisMismatchException(string message) : Exception(message);
