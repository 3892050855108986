using System.Runtime.CompilerServices;
using SmartCity.Contracts.Audit.V1;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
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
/// carry valid signatures (each verified once, without the node's cache), their RFC 6962 root is
/// the header's transaction root, and the history size and root follow from every transaction since genesis (blocks
/// before the range are read for their leaf hashes only). The per-transaction work runs in the shared
/// <see cref="BlockPipeline"/> (blocks read ahead, decode, id, leaf hash and signature on every core); this method
/// takes the blocks in height order for the checks that need order and streams a verdict per block.
/// </summary>
public sealed class ChainVerifier(LedgerNode node, ISignatureScheme curve)
{
    /// <summary>Time of the verification's stages (benchmarks: where the time goes).</summary>
    public StageTimes Stages { get; } = new();

    public async IAsyncEnumerable<VerifyChainResponse> VerifyAsync(long from, long to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var anchor = node.Anchor;
        var suite = node.Suite;
        var chainId = node.Genesis.ChainId;
        var sets = new ValidatorSetWalk(anchor.Validators, node.StateNodes, suite);

        // Only the history tree's frontier is kept (≤ 64 hashes): memory does not grow with the chain.
        var history = new HistoryTree(new FrontierHistoryNodes([]), 0, suite);
        BlockHeader? previous = null;
        long checkedBlocks = 0, checkedTransactions = 0;
        var total = to - from + 1;
        if (from > 0)
        {
            var before = new BlockPipeline(node.Blocks, node.Domain, chainId, node.Genesis.Parameters.MaxTransactionBytes, BlockWork.LeafHashes, stages: Stages);
            await foreach (var block in before.ReadAsync(0, from - 1, cancellationToken).ConfigureAwait(false))
            {
                var stored = Stored(block);
                history.AppendLeafHashes(block.LeafHashes);

                // The sets in force are followed through the blocks before the range too (a header decode per block, a state
                // proof per hand-over); a hand-over that cannot be proven there is tried again from inside the range.
                if (BlockHeader.TryDecode(stored.Header.Header.Span, out var header, out _))
                {
                    if (previous is not null)
                    {
                        _ = await sets.SetForAsync(previous, header!, cancellationToken).ConfigureAwait(false);
                    }

                    previous = header;
                }
            }
        }

        var pipeline = new BlockPipeline(node.Blocks, node.Domain, chainId, node.Genesis.Parameters.MaxTransactionBytes, BlockWork.DecodeAndSignatures, curve, Stages);
        await foreach (var block in pipeline.ReadAsync(from, to, cancellationToken).ConfigureAwait(false))
        {
            var stored = Stored(block);
            var stage = System.Diagnostics.Stopwatch.GetTimestamp();
            var inForce = await SetInForceAsync(stored, previous, sets, cancellationToken).ConfigureAwait(false);
            var reason = Check(block, previous, history, anchor, inForce, curve, chainId, out var header);
            previous = header ?? previous;
            var verdict = reason is null ? BlockVerdict.Valid
                : inForce.Check == SetInForceCheck.HandOverStatePruned && reason.StartsWith(PrunedPrefix, StringComparison.Ordinal) ? BlockVerdict.HandOverStatePruned
                : BlockVerdict.Invalid;
            Stages.Add("in-order checks: links, certificate, roots (one thread)", stage);
            checkedBlocks++;
            checkedTransactions += stored.Transactions.Count;
            yield return new VerifyChainResponse
            {
                Height = block.Height,
                Verdict = verdict,
                Reason = reason ?? string.Empty,
                BlocksChecked = checkedBlocks,
                BlocksTotal = total,
                TransactionsChecked = checkedTransactions,
            };
        }
    }

    private const string PrunedPrefix = "validator-set hand-over: ";

    /// <summary>The block as read; a block the store cannot produce ends the stream with the store's error, as before the pipeline.</summary>
    private static Ledger.Storage.StoredBlock Stored(PreparedBlock block) => block.ReadFailure is { } failure
        ? throw failure
        : block.Block ?? throw new Ledger.Storage.StoreCorruptedException($"block {block.Height} is missing from the store");

    /// <summary>The set in force at the block's height (the genesis set for block 0, which nobody certifies).</summary>
    private static async ValueTask<SetInForce> SetInForceAsync(Ledger.Storage.StoredBlock block, BlockHeader? previous, ValidatorSetWalk sets, CancellationToken cancellationToken)
    {
        if (!BlockHeader.TryDecode(block.Header.Header.Span, out var header, out _) || previous is null || header!.Height != previous.Height + 1 || header.PreviousHash != previous.Hash)
        {
            return new SetInForce(SetInForceCheck.InForce, sets.Current, null); // the link or decode check reports it
        }

        return await sets.SetForAsync(previous, header, cancellationToken).ConfigureAwait(false);
    }

    private static string? Check(PreparedBlock prepared, BlockHeader? previous, HistoryTree history, Ledger.Receipts.TrustAnchor anchor, SetInForce inForce, ISignatureScheme curve,
        ulong chainId, out BlockHeader? header)
    {
        var block = prepared.Block!;
        history.AppendLeafHashes(prepared.LeafHashes);
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

        if (prepared.HasRejections)
        {
            for (var t = 0; t < block.Transactions.Count; t++)
            {
                if (prepared.Rejection(t) is { } rejection)
                {
                    return $"transaction {block.Transactions[t].TxHash}: {rejection}";
                }
            }
        }

        for (var t = 0; t < block.Transactions.Count; t++)
        {
            var tx = block.Transactions[t];
            var id = prepared.Ids[t];
            if (id != tx.TxHash)
            {
                return $"transaction {tx.TxHash} is stored under another id than its bytes give ({id})";
            }

            if (prepared.Signatures[t] is var check and not SignatureCheck.Ok)
            {
                return check == SignatureCheck.WrongSigner
                    ? $"transaction {id}: {RejectionCode.SignerMismatch}: the signature is not by the claimed signer {TransactionCodec.Decode(tx.Bytes).Transaction?.Signer}"
                    : $"transaction {id}: {RejectionCode.BadSignature}: signature check failed: {check}";
            }
        }

        if (prepared.TransactionRoot != header.TransactionRoot)
        {
            return $"transaction root {prepared.TransactionRoot} is not the header's {header.TransactionRoot}";
        }

        if (history.Size != header.HistorySize || history.Root != header.HistoryRoot)
        {
            return $"history of {history.Size} transactions with root {history.Root} is not the header's {header.HistorySize} / {header.HistoryRoot}";
        }

        return null;
    }
}
