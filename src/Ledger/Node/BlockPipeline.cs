using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Node;

/// <summary>How much of each transaction <see cref="BlockPipeline"/> works out off the in-order thread.</summary>
public enum BlockWork
{
    /// <summary>Leaf hashes and the block's transaction root only (history replay).</summary>
    LeafHashes,

    /// <summary>Also the envelope decode, signing digest and id of each transaction (<see cref="TransactionIntake.Decode"/>).</summary>
    Decode,

    /// <summary>Also each decoded transaction's signature, once, with no cache (a remembered signature proves nothing about the bytes on disk).</summary>
    DecodeAndSignatures,
}

/// <summary>
/// One stored block as <see cref="BlockPipeline"/> hands it to its consumer, in height order: the block as read (or
/// why it could not be), each transaction's leaf hash, the RFC 6962 root they make, and — as the work asks — each
/// transaction's id computed from its bytes, its envelope rejection if any, and its signature check. Nothing here is
/// a verdict: the consumer compares it with the header and decides what failed first.
/// </summary>
public sealed class PreparedBlock
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string?[]? _rejections;
    private int _pendingChunks;
    private int _signaturesChecked;

    internal PreparedBlock(long height, StoredBlock? block, StoreCorruptedException? readFailure, BlockWork work)
    {
        Height = height;
        Block = block;
        ReadFailure = readFailure;
        var count = block?.Transactions.Count ?? 0;
        LeafHashes = new Hash256[count];
        Ids = work >= BlockWork.Decode ? new Hash256[count] : [];
        Signatures = work >= BlockWork.DecodeAndSignatures ? new SignatureCheck[count] : [];
    }

    public long Height { get; }

    /// <summary>The block as the store returned it; null when it is missing or unreadable.</summary>
    public StoredBlock? Block { get; }

    /// <summary>Why the store could not read the block (a checksum, a record that does not parse); null otherwise.</summary>
    public StoreCorruptedException? ReadFailure { get; }

    /// <summary>The store has no block at this height (and did not fail reading it).</summary>
    public bool IsMissing => Block is null && ReadFailure is null;

    /// <summary>H(0x00 ‖ bytes) of each transaction, in block order: the history tree's leaves.</summary>
    public Hash256[] LeafHashes { get; }

    /// <summary>The RFC 6962 root of <see cref="LeafHashes"/>: what the header's transaction root must be.</summary>
    public Hash256 TransactionRoot { get; private set; }

    /// <summary>Each transaction's id as its bytes give it (default where they do not decode); empty for <see cref="BlockWork.LeafHashes"/>.</summary>
    public Hash256[] Ids { get; }

    /// <summary>Each transaction's signature check; meaningful where <see cref="Rejection"/> is null; empty unless <see cref="BlockWork.DecodeAndSignatures"/>.</summary>
    public SignatureCheck[] Signatures { get; }

    /// <summary>Transactions whose signature was checked.</summary>
    public int SignaturesChecked => Volatile.Read(ref _signaturesChecked);

    /// <summary>Why transaction <paramref name="index"/>'s envelope was rejected ("Code: reason"), or null when it decoded.</summary>
    public string? Rejection(int index) => Volatile.Read(ref _rejections) is { } rejections ? rejections[index] : null;

    /// <summary>True when some transaction's envelope was rejected.</summary>
    public bool HasRejections => Volatile.Read(ref _rejections) is not null;

    internal int Units { get; set; }

    internal Task Ready => _ready.Task;

    internal void ExpectChunks(int chunks) => _pendingChunks = chunks;

    internal void Reject(int index, string reason)
    {
        var rejections = Volatile.Read(ref _rejections) ?? Interlocked.CompareExchange(ref _rejections, new string?[LeafHashes.Length], null) ?? _rejections!;
        rejections[index] = reason;
    }

    internal void AddSignatures(int count) => Interlocked.Add(ref _signaturesChecked, count);

    /// <summary>Called by each chunk's worker when it is done; the last computes the root and releases the block.</summary>
    internal bool ChunkDone() => Interlocked.Decrement(ref _pendingChunks) == 0;

    internal void Complete(CryptoSuite suite)
    {
        TransactionRoot = HistoryTree.RootOf(LeafHashes, suite);
        _ready.TrySetResult();
    }

    internal void Fail(Exception error) => _ready.TrySetException(error);
}

/// <summary>
/// The re-verification pipeline the chain audit, <c>store verify</c> and VerifyChain share: one reader reads blocks
/// ahead in height order (I/O and the store's record checksums), the transactions' per-transaction work — leaf hash,
/// envelope decode with EIP-712 digest and id, and the signature — runs in chunks of
/// <see cref="ChunkTransactions"/> on every core, and the consumer receives the blocks in height order, each once all
/// its chunks are done, to run the checks that must be in order (links, certificates, roots, history) — cheap, as
/// everything per transaction is already worked out. A transaction's signature is verified once, beside the decode
/// of its neighbours, so both cores stay busy; the reader stays at most <see cref="MaxTransactionsInFlight"/>
/// transactions ahead of the consumer, so memory is flat whatever the chain's length. When the consumer stops early
/// (the first damage), the reader and workers are cancelled and awaited.
/// </summary>
public sealed class BlockPipeline
{
    /// <summary>Transactions a worker takes at a time: small enough to balance two cores, large enough to be cheap to hand out.</summary>
    public const int ChunkTransactions = 64;

    /// <summary>Transactions read ahead of the consumer at most (bounded memory): about 16 blocks of 1,000.</summary>
    public const int MaxTransactionsInFlight = 16_384;

    /// <summary>Blocks read ahead of the consumer at most (a chain of small blocks).</summary>
    public const int MaxBlocksInFlight = 1_024;

    private const int MaxUnits = MaxTransactionsInFlight / ChunkTransactions;

    private readonly IBlockStore _blocks;
    private readonly CryptoSuite _suite;
    private readonly Eip712Domain _domain;
    private readonly ulong _chainId;
    private readonly int _maxTransactionBytes;
    private readonly BlockWork _work;
    private readonly SignatureBatchVerifier? _verifier;
    private readonly StageTimes? _stages;
    private readonly int _workers;

    /// <param name="blocks">Where the blocks are read.</param>
    /// <param name="domain">The chain's EIP-712 domain (its suite hashes the leaves and ids).</param>
    /// <param name="chainId">The chain id every transaction must carry.</param>
    /// <param name="maxTransactionBytes">Transactions longer than this are rejected (<see cref="int.MaxValue"/>: no limit).</param>
    /// <param name="work">How much of each transaction to work out.</param>
    /// <param name="scheme">The signature scheme (needed for <see cref="BlockWork.DecodeAndSignatures"/>).</param>
    /// <param name="stages">Where the stages' times are added, if anywhere.</param>
    /// <param name="workers">Worker threads; all cores when null.</param>
    public BlockPipeline(IBlockStore blocks, Eip712Domain domain, ulong chainId, int maxTransactionBytes, BlockWork work, ISignatureScheme? scheme = null, StageTimes? stages = null, int? workers = null)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        ArgumentNullException.ThrowIfNull(domain);
        if (work == BlockWork.DecodeAndSignatures && scheme is null)
        {
            throw new ArgumentNullException(nameof(scheme), "checking signatures needs the chain's signature scheme");
        }

        _blocks = blocks;
        _domain = domain;
        _suite = domain.Suite;
        _chainId = chainId;
        _maxTransactionBytes = maxTransactionBytes;
        _work = work;
        _verifier = work == BlockWork.DecodeAndSignatures ? new SignatureBatchVerifier(scheme!, cache: null) : null;
        _stages = stages;
        _workers = workers ?? Environment.ProcessorCount;
        ArgumentOutOfRangeException.ThrowIfLessThan(_workers, 1);
    }

    /// <summary>The blocks <paramref name="from"/>..<paramref name="to"/>, prepared, in height order. A block that is missing or unreadable is the last one handed out.</summary>
    public async IAsyncEnumerable<PreparedBlock> ReadAsync(long from, long to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (from > to)
        {
            yield break;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ordered = Channel.CreateBounded<PreparedBlock>(new BoundedChannelOptions(MaxBlocksInFlight) { SingleReader = true, SingleWriter = true });
        var chunks = Channel.CreateUnbounded<(PreparedBlock Block, int Start, int Count)>(new UnboundedChannelOptions { SingleWriter = true });
        using var budget = new SemaphoreSlim(MaxUnits, MaxUnits);
        var reader = Task.Run(() => ReadLoopAsync(from, to, ordered.Writer, chunks.Writer, budget, stop.Token), CancellationToken.None);
        var workers = new Task[_workers];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(() => WorkLoopAsync(chunks.Reader, stop.Token), CancellationToken.None);
        }

        try
        {
            await foreach (var block in ordered.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!block.Ready.IsCompleted)
                {
                    var waiting = Stopwatch.GetTimestamp();
                    await block.Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
                    _stages?.Add("consumer waiting for the next prepared block", waiting);
                }

                await block.Ready.ConfigureAwait(false); // a worker's failure surfaces here
                yield return block;
                budget.Release(block.Units);
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            chunks.Writer.TryComplete();
            try
            {
                await Task.WhenAll([reader, .. workers]).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the consumer stopped early: the reader and workers were told to stop
            }
        }
    }

    private async Task ReadLoopAsync(long from, long to, ChannelWriter<PreparedBlock> ordered, ChannelWriter<(PreparedBlock, int, int)> chunks, SemaphoreSlim budget, CancellationToken cancellationToken)
    {
        try
        {
            for (var height = from; height <= to; height++)
            {
                var started = Stopwatch.GetTimestamp();
                StoredBlock? stored = null;
                StoreCorruptedException? failure = null;
                try
                {
                    stored = await _blocks.GetBlockForVerificationAsync(height, cancellationToken).ConfigureAwait(false);
                }
                catch (StoreCorruptedException e)
                {
                    failure = e;
                }

                _stages?.Add("read blocks (reader thread)", started);
                var block = new PreparedBlock(height, stored, failure, _work);
                var count = block.LeafHashes.Length;
                var chunkCount = (count + ChunkTransactions - 1) / ChunkTransactions;
                block.Units = Math.Clamp(chunkCount, 1, MaxUnits);
                for (var u = 0; u < block.Units; u++)
                {
                    await budget.WaitAsync(cancellationToken).ConfigureAwait(false);
                }

                await ordered.WriteAsync(block, cancellationToken).ConfigureAwait(false);
                if (chunkCount == 0)
                {
                    block.Complete(_suite);
                }
                else
                {
                    block.ExpectChunks(chunkCount);
                    for (var start = 0; start < count; start += ChunkTransactions)
                    {
                        await chunks.WriteAsync((block, start, Math.Min(ChunkTransactions, count - start)), cancellationToken).ConfigureAwait(false);
                    }
                }

                if (stored is null)
                {
                    break; // missing or unreadable: the consumer stops here
                }
            }

            ordered.TryComplete();
        }
        catch (Exception e)
        {
            ordered.TryComplete(e);
            throw;
        }
        finally
        {
            chunks.TryComplete();
        }
    }

    private async Task WorkLoopAsync(ChannelReader<(PreparedBlock Block, int Start, int Count)> chunks, CancellationToken cancellationToken)
    {
        while (await chunks.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (chunks.TryRead(out var chunk))
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    Work(chunk.Block, chunk.Start, chunk.Count);
                    if (chunk.Block.ChunkDone())
                    {
                        var rooted = Stopwatch.GetTimestamp();
                        chunk.Block.Complete(_suite);
                        _stages?.Add("transaction roots (workers)", rooted);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    chunk.Block.Fail(e);
                }

                // A chunk is a few milliseconds of work: go to the back of the thread pool's queue between chunks, so
                // a node's other work (its writer, API calls) is not starved while a long audit holds every core.
                await Task.Yield();
            }
        }
    }

    private void Work(PreparedBlock block, int start, int count)
    {
        var transactions = block.Block!.Transactions;
        long decodeTicks = 0, signatureTicks = 0;
        var signatures = 0;
        var clock = Stopwatch.GetTimestamp();
        for (var i = start; i < start + count; i++)
        {
            var bytes = transactions[i].Bytes;
            block.LeafHashes[i] = _suite.HistoryLeafHash(bytes.Span);
            if (_work == BlockWork.LeafHashes)
            {
                continue;
            }

            var intake = TransactionIntake.Decode(bytes, _chainId, _domain, _maxTransactionBytes);
            block.Ids[i] = intake.Hash;
            if (intake.Transaction is not { } decoded)
            {
                block.Reject(i, $"{intake.Code}: {intake.Reason}");
                continue;
            }

            if (_verifier is not null)
            {
                var decodedAt = Stopwatch.GetTimestamp();
                decodeTicks += decodedAt - clock;
                block.Signatures[i] = _verifier.Verify(decoded.SignedDigest);
                signatures++;
                clock = Stopwatch.GetTimestamp();
                signatureTicks += clock - decodedAt;
            }
        }

        decodeTicks += Stopwatch.GetTimestamp() - clock;
        block.AddSignatures(signatures);
        if (_stages is not null)
        {
            _stages.AddTicks(_work == BlockWork.LeafHashes ? "leaf hashes (workers)" : "decode, id, leaf hash (workers)", decodeTicks);
            if (signatures > 0)
            {
                _stages.AddTicks("signatures (workers)", signatureTicks);
            }
        }
    }
}
