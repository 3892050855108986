using System.Runtime.CompilerServices;
using SmartCity.Contracts.Audit.V1;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Jobs.Audit;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.State;

namespace SmartCity.CreditApi.Services.Api;

/// <summary>
/// Re-verifies stored blocks as an auditor would, trusting only the genesis: each header decodes and links to the one
/// before, its certificate proves it final under the validator set in force at its height (the genesis set, then each
/// set the state after a block installs, proven from the store's state-tree nodes: <see cref="ValidatorSetWalk"/>; a
/// hand-over whose proving state is pruned gives <see cref="BlockVerdict.HandOverStatePruned"/>), its transactions decode for this chain and
/// carry valid signatures (verified in batches across the cores, without the node's cache), their RFC 6962 root is
/// the header's transaction root, and the history size and root follow from every transaction since genesis (blocks
/// before the range are read for their leaf hashes only).
/// </summary>
public sealed class ChainVerifier(LedgerNode node, ISignatureScheme curve)
{
    /// <summary>Wall time of the verification's stages (benchmarks: where the time goes).</summary>
    public StageTimes Stages { get; } = new();

    public async IAsyncEnumerable<VerifyChainResponse> VerifyAsync(long from, long to, int batchBlocks, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var anchor = node.Anchor;
        var suite = node.Suite;
        var chainId = node.Genesis.ChainId;
        var verifier = new SignatureBatchVerifier(curve);
        var sets = new ValidatorSetWalk(anchor.Validators, node.StateNodes, suite);

        // Only the history tree's frontier is kept (≤ 64 hashes): memory does not grow with the chain.
        var history = new HistoryTree(new FrontierHistoryNodes([]), 0, suite);
        BlockHeader? previous = null;
        long checkedBlocks = 0, checkedTransactions = 0;
        var total = to - from + 1;
        for (var height = 0L; height < from; height++)
        {
            var block = await node.Blocks.GetBlockAsync(height, cancellationToken).ConfigureAwait(false)
                ?? throw new Ledger.Storage.StoreCorruptedException($"block {height} is missing from the store");
            foreach (var tx in block.Transactions)
            {
                history.Append(tx.Bytes.Span);
            }

            // The sets in force are followed through the blocks before the range too (a header decode per block, a state
            // proof per hand-over); a hand-over that cannot be proven there is tried again from inside the range.
            if (BlockHeader.TryDecode(block.Header.Header.Span, out var header, out _))
            {
                if (previous is not null)
                {
                    _ = await sets.SetForAsync(previous, header!, cancellationToken).ConfigureAwait(false);
                }

                previous = header;
            }
        }

        // Batch n+1 is read, decoded and signature-checked (across the cores) while batch n's per-block checks run here
        // and its verdicts stream out: at most two batches in memory.
        var next = from <= to ? PrepareAsync(from, Math.Min(to, from + batchBlocks - 1), verifier, cancellationToken) : null;
        for (var start = from; start <= to; start += batchBlocks)
        {
            Prepared batch;
            using (Stages.Time("waiting for the next batch"))
            {
                batch = await next!.ConfigureAwait(false);
            }

            var following = start + batchBlocks;
            next = following <= to ? PrepareAsync(following, Math.Min(to, following + batchBlocks - 1), verifier, cancellationToken) : null;
            foreach (var block in batch.Blocks)
            {
                var stage = System.Diagnostics.Stopwatch.GetTimestamp();
                var inForce = await SetInForceAsync(block, previous, sets, cancellationToken).ConfigureAwait(false);
                var reason = Check(block, batch.Ids[block.Header.Height], previous, history, anchor, inForce, curve, suite, batch.DecodeErrors, batch.SignatureErrors, chainId, out var header);
                previous = header ?? previous;
                var verdict = reason is null ? BlockVerdict.Valid
                    : inForce.Check == SetInForceCheck.HandOverStatePruned && reason.StartsWith(PrunedPrefix, StringComparison.Ordinal) ? BlockVerdict.HandOverStatePruned
                    : BlockVerdict.Invalid;
                Stages.Add("per-block checks: certificate, roots (one thread)", stage);
                checkedBlocks++;
                checkedTransactions += block.Transactions.Count;
                yield return new VerifyChainResponse
                {
                    Height = block.Header.Height,
                    Verdict = verdict,
                    Reason = reason ?? string.Empty,
                    BlocksChecked = checkedBlocks,
                    BlocksTotal = total,
                    TransactionsChecked = checkedTransactions,
                };
            }
        }
    }

    private const string PrunedPrefix = "validator-set hand-over: ";

    /// <summary>The set in force at the block's height (the genesis set for block 0, which nobody certifies).</summary>
    private static async ValueTask<SetInForce> SetInForceAsync(Ledger.Storage.StoredBlock block, BlockHeader? previous, ValidatorSetWalk sets, CancellationToken cancellationToken)
    {
        if (!BlockHeader.TryDecode(block.Header.Header.Span, out var header, out _) || previous is null || header!.Height != previous.Height + 1 || header.PreviousHash != previous.Hash)
        {
            return new SetInForce(SetInForceCheck.InForce, sets.Current, null); // the link or decode check reports it
        }

        return await sets.SetForAsync(previous, header, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A batch of blocks read, every transaction decoded (its id) and signature-checked.</summary>
    private sealed record Prepared(List<Ledger.Storage.StoredBlock> Blocks, Dictionary<long, Hash256[]> Ids, Dictionary<long, string> DecodeErrors, Dictionary<Hash256, string> SignatureErrors);

    private Task<Prepared> PrepareAsync(long start, long end, SignatureBatchVerifier verifier, CancellationToken cancellationToken) => Task.Run(
        async () =>
        {
            var domain = node.Domain;
            var chainId = node.Genesis.ChainId;
            var maxBytes = node.Genesis.Parameters.MaxTransactionBytes;
            var stage = System.Diagnostics.Stopwatch.GetTimestamp();
            var blocks = new List<Ledger.Storage.StoredBlock>();
            for (var height = start; height <= end; height++)
            {
                blocks.Add(await node.Blocks.GetBlockAsync(height, cancellationToken).ConfigureAwait(false)
                    ?? throw new Ledger.Storage.StoreCorruptedException($"block {height} is missing from the store"));
            }

            // Each transaction is decoded once, across the cores (decoding computes its EIP-712 id); the id is kept for
            // the per-block checks, which run in order.
            Stages.Add("read blocks (beside the checks)", stage);
            stage = System.Diagnostics.Stopwatch.GetTimestamp();
            var flat = new List<(long Height, int Index, Ledger.Storage.StoredTransaction Tx)>();
            var ids = new Dictionary<long, Hash256[]>(blocks.Count);
            foreach (var block in blocks)
            {
                ids[block.Header.Height] = new Hash256[block.Transactions.Count];
                for (var t = 0; t < block.Transactions.Count; t++)
                {
                    flat.Add((block.Header.Height, t, block.Transactions[t]));
                }
            }

            var intakes = new IntakeResult<DecodedTransaction>[flat.Count];
            Parallel.For(0, flat.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => intakes[i] = TransactionIntake.Decode(flat[i].Tx.Bytes, chainId, domain, maxBytes));
            var decoded = new List<DecodedTransaction>(flat.Count);
            var decodeErrors = new Dictionary<long, string>();
            for (var i = 0; i < flat.Count; i++)
            {
                var (height, index, tx) = flat[i];
                ids[height][index] = intakes[i].Hash;
                if (intakes[i].Transaction is { } ok)
                {
                    decoded.Add(ok);
                }
                else
                {
                    decodeErrors.TryAdd(height, $"transaction {tx.TxHash}: {intakes[i].Code}: {intakes[i].Reason}");
                }
            }

            Stages.Add("decode and id (all cores, beside the checks)", stage);
            stage = System.Diagnostics.Stopwatch.GetTimestamp();
            var verdicts = new IntakeResult<VerifiedTransaction>[decoded.Count];
            if (decoded.Count > 0)
            {
                TransactionIntake.Verify(decoded, domain, verifier, verdicts);
            }

            var signatureErrors = new Dictionary<Hash256, string>();
            for (var i = 0; i < verdicts.Length; i++)
            {
                if (!verdicts[i].IsAccepted)
                {
                    signatureErrors[decoded[i].Hash] = $"{verdicts[i].Code}: {verdicts[i].Reason}";
                }
            }

            Stages.Add("signatures (all cores, beside the checks)", stage);
            return new Prepared(blocks, ids, decodeErrors, signatureErrors);
        },
        cancellationToken);

    private static string? Check(Ledger.Storage.StoredBlock block, Hash256[] ids, BlockHeader? previous, HistoryTree history, Ledger.Receipts.TrustAnchor anchor, SetInForce inForce, ISignatureScheme curve, CryptoSuite suite,
        Dictionary<long, string> decodeErrors, Dictionary<Hash256, string> signatureErrors, ulong chainId, out BlockHeader? header)
    {
        foreach (var tx in block.Transactions)
        {
            history.Append(tx.Bytes.Span);
        }

        if (!BlockHeader.TryDecode(block.Header.Header.Span, out header, out var error))
        {
            return $"header does not decode: {error}";
        }

        if (header!.ChainId != chainId)
        {
            return $"header is for chain {header.ChainId}, not {chainId}";
        }

        if (!CommitCertificate.TryDecode(block.Header.Certificate.Span, out var certificate, out error))
        {
            return $"certificate does not decode: {error}";
        }

        if (header.Height > 0)
        {
            if (inForce.Check == SetInForceCheck.HandOverStatePruned)
            {
                return PrunedPrefix + inForce.Reason;
            }

            if (!inForce.IsKnown)
            {
                return $"certificate: the validator set in force is not known: {inForce.Reason}";
            }

            var verdict = certificate!.Verify(header, inForce.Set!, anchor.DomainSeparator, curve);
            if (!verdict.IsValid)
            {
                return $"certificate: {verdict.Check}: {verdict.Reason}";
            }
        }

        if (previous is not null && (header.PreviousHash != previous.Hash || header.Height != previous.Height + 1))
        {
            return $"does not link to block {previous.Height} ({previous.Hash})";
        }

        if (header.TransactionCount != block.Transactions.Count)
        {
            return $"header counts {header.TransactionCount} transactions, the block has {block.Transactions.Count}";
        }

        if (decodeErrors.TryGetValue(header.Height, out var decodeError))
        {
            return decodeError;
        }

        for (var t = 0; t < block.Transactions.Count; t++)
        {
            var tx = block.Transactions[t];
            var id = ids[t];
            if (id != tx.TxHash)
            {
                return $"transaction {tx.TxHash} is stored under another id than its bytes give ({id})";
            }

            if (signatureErrors.TryGetValue(id, out var signatureError))
            {
                return $"transaction {id}: {signatureError}";
            }
        }

        var blockTree = new HistoryTree(new InMemoryHistoryNodeStore(), 0, suite);
        foreach (var tx in block.Transactions)
        {
            blockTree.Append(tx.Bytes.Span);
        }

        if (blockTree.Root != header.TransactionRoot)
        {
            return $"transaction root {blockTree.Root} is not the header's {header.TransactionRoot}";
        }

        if (history.Size != header.HistorySize || history.Root != header.HistoryRoot)
        {
            return $"history of {history.Size} transactions with root {history.Root} is not the header's {header.HistorySize} / {header.HistoryRoot}";
        }

        return null;
    }
}
