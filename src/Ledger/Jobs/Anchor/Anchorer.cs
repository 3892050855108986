using System.Globalization;
using SmartCity.Ledger.Anchoring.Contract;
using SmartCity.Ledger.Anchoring.Evm;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Jobs.Anchor;

/// <summary>What one anchoring run ended with.</summary>
public enum AnchorRunStatus
{
    /// <summary>A checkpoint was confirmed on the EVM chain in this run (a new one, or one sent earlier).</summary>
    Anchored = 0,

    /// <summary>Not due: the head is fewer than <c>everyBlocks</c> past the latest checkpoint (and <c>maxDelay</c> has not passed).</summary>
    NothingToAnchor,

    /// <summary>Sent (now or earlier) and not yet confirmed; followed by the next run.</summary>
    Pending,

    /// <summary>The contract refused the checkpoint (at estimation, nothing spent; or when mined), with its decoded reason.</summary>
    Refused,

    /// <summary>The EVM node could not be used (down, timing out), or it refused the transaction; retried on the next run.</summary>
    Unavailable,

    /// <summary>Nothing sent: the fee per gas is above the configured cap, or the configuration does not fit the chain or contract.</summary>
    NotSent,
}

/// <summary>One anchoring run: its status, the heights involved, and a one-line summary for Status and the log.</summary>
public sealed record AnchorRunResult(AnchorRunStatus Status, long Head, long? AnchoredHeight, string Summary, AnchorRecord? Anchored = null, ContractRefusal? Refusal = null);

/// <summary>
/// The AnchorJob's work, one run at a time (the job never runs twice at once): follows the anchor in flight, if any,
/// then, when due, sends this node's latest certified header and its certificate to the CheckpointAnchor contract
/// through <see cref="CheckpointAnchorService"/>, persisting the transaction before waiting for it and the confirmed
/// anchor after. It only reads the store (never the writer's path) and does its EVM I/O on the scheduler's thread.
/// The contract is the source of truth for what is anchored: a checkpoint another node sent counts the same.
/// </summary>
public sealed class Anchorer(AnchorJobOptions options, ISigner submitter, IAnchorRecordStore records, ulong ledgerChainId, JobMetrics metrics, ILogger logger, TimeProvider time)
{
    public async Task<AnchorRunResult> RunAsync(ILedgerStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var head = (await store.GetHeadAsync(cancellationToken).ConfigureAwait(false))?.Height ?? 0;
        EvmChain chain;
        try
        {
            chain = await EvmChain.ConnectAsync(options.ToEvmOptions(), submitter, time, logger, cancellationToken).ConfigureAwait(false);
        }
        catch (EvmUnavailableException e)
        {
            return Unavailable(head, e.Message);
        }
        catch (AnchoringConfigurationException e)
        {
            return NotSent(head, null, e.Message);
        }

        using (chain)
        {
            try
            {
                return await RunAsync(store, head, new CheckpointAnchorService(chain, options.Contract), cancellationToken).ConfigureAwait(false);
            }
            catch (EvmUnavailableException e)
            {
                return Unavailable(head, e.Message);
            }
            catch (EvmSendException e)
            {
                return Unavailable(head, e.Message);
            }
            catch (AnchoringConfigurationException e)
            {
                return NotSent(head, null, e.Message);
            }
        }
    }

    private async Task<AnchorRunResult> RunAsync(ILedgerStore store, long head, CheckpointAnchorService contract, CancellationToken cancellationToken)
    {
        var configuration = await contract.ReadConfigurationAsync(cancellationToken).ConfigureAwait(false);
        if (configuration.LedgerChainId != ledgerChainId)
        {
            return NotSent(head, null, $"the contract {contract.ContractAddress} anchors ledger chain {configuration.LedgerChainId}, not this ledger's {ledgerChainId}");
        }

        var address = contract.ContractAddress.ToString();
        var state = await records.GetAsync(address, cancellationToken).ConfigureAwait(false);

        // 1. An anchor in flight (sent by an earlier run, possibly before a restart) is followed, never sent twice.
        if (state.Pending is { } pending)
        {
            var followed = await contract.FollowAsync(pending.TransactionHash, cancellationToken).ConfigureAwait(false);
            switch (followed.Status)
            {
                case SubmissionStatus.Confirmed:
                    return await ConfirmedAsync(head, pending.Contract, pending.Height, pending.HeaderHash, followed.Transaction!, cancellationToken).ConfigureAwait(false);
                case SubmissionStatus.Refused:
                    await records.ClearPendingAsync(address, cancellationToken).ConfigureAwait(false);
                    return Refused(head, pending.Height, followed.Refusal!, $" (transaction {pending.TransactionHash})");
                default:
                    var known = await contract.IsTransactionKnownAsync(pending.TransactionHash, cancellationToken).ConfigureAwait(false);
                    if (known || time.GetUtcNow() - pending.SentAt < options.PendingTimeout)
                    {
                        metrics.Anchor("pending");
                        return new AnchorRunResult(AnchorRunStatus.Pending, head, null, $"block {pending.Height} sent in {pending.TransactionHash} (nonce {pending.Nonce}) is not confirmed yet{(known ? string.Empty : " and the EVM node does not know it")}; followed on the next run");
                    }

                    // Dropped by the EVM node and past the pending timeout: forget it, anchor afresh below.
                    await records.ClearPendingAsync(address, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }

        // 2. Due? The contract's latest checkpoint is what counts (another node may have anchored since).
        var latest = await contract.LatestHeightAsync(cancellationToken).ConfigureAwait(false) ?? 0;
        metrics.AnchorHeights(latest, head);
        if (head <= latest || (head - latest < options.EveryBlocks && !await OverdueAsync(contract, state, latest, cancellationToken).ConfigureAwait(false)))
        {
            JobsLog.NothingToAnchor(logger, latest, head, checked((int)Math.Min(options.EveryBlocks, int.MaxValue)));
            return new AnchorRunResult(AnchorRunStatus.NothingToAnchor, head, latest, string.Create(CultureInfo.InvariantCulture,
                $"nothing to anchor: the contract's latest checkpoint is block {latest}, the head {head} (every {options.EveryBlocks} blocks{(options.MaxDelay is { } d ? $" or {d}" : string.Empty)})"));
        }

        // 3. Send the head, note it as pending before waiting, then follow it.
        var header = await store.GetHeaderAsync(head, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"the store reports head {head} but has no block {head}");
        var sent = await contract.SendAnchorAsync(header.Header, header.Certificate, cancellationToken).ConfigureAwait(false);
        if (sent.Refusal is { } refusal)
        {
            return Refused(head, head, refusal, " (at estimation: nothing was sent)");
        }

        if (sent.TransactionHash is not { } hash)
        {
            return NotSent(head, latest, sent.Problem ?? "not sent");
        }

        var headerHash = header.BlockHash.ToString();
        await records.SavePendingAsync(new PendingAnchor(address, head, headerHash, hash, sent.Nonce.ToString(CultureInfo.InvariantCulture), time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        var result = await contract.FollowAsync(hash, cancellationToken).ConfigureAwait(false);
        switch (result.Status)
        {
            case SubmissionStatus.Confirmed:
                return await ConfirmedAsync(head, address, head, headerHash, result.Transaction!, cancellationToken).ConfigureAwait(false);
            case SubmissionStatus.Refused:
                await records.ClearPendingAsync(address, cancellationToken).ConfigureAwait(false);
                return Refused(head, head, result.Refusal!, $" (mined and reverted in transaction {hash})");
            default:
                metrics.Anchor("pending");
                return new AnchorRunResult(AnchorRunStatus.Pending, head, latest, $"block {head} sent in {hash} (nonce {sent.Nonce}), not confirmed within {options.ReceiptTimeout}; followed on the next run");
        }
    }

    /// <summary>Whether <see cref="AnchorJobOptions.MaxDelay"/> has passed since the latest checkpoint was anchored.</summary>
    private async Task<bool> OverdueAsync(CheckpointAnchorService contract, AnchorJobState state, long latest, CancellationToken cancellationToken)
    {
        if (options.MaxDelay is not { } delay)
        {
            return false;
        }

        if (latest == 0)
        {
            return true;
        }

        // Anchored by this node: when it saw it confirmed; by another: the anchored block's own time.
        var since = state.Last is { } last && last.Height == latest
            ? last.AnchoredAt
            : (await contract.CheckpointAtAsync(latest, cancellationToken).ConfigureAwait(false))?.BlockTime ?? DateTimeOffset.MinValue;
        return time.GetUtcNow() - since >= delay;
    }

    private async Task<AnchorRunResult> ConfirmedAsync(long head, string contract, long height, string headerHash, MinedTransaction mined, CancellationToken cancellationToken)
    {
        var record = new AnchorRecord(contract, height, headerHash, mined.Hash, mined.BlockNumber, time.GetUtcNow());
        await records.RecordAnchoredAsync(record, cancellationToken).ConfigureAwait(false);
        metrics.Anchor("anchored", height);
        metrics.AnchorHeights(height, head);
        JobsLog.Anchored(logger, height, headerHash, mined.Hash, mined.BlockNumber);
        return new AnchorRunResult(AnchorRunStatus.Anchored, head, height, string.Create(CultureInfo.InvariantCulture,
            $"anchored block {height} ({headerHash}) in EVM block {mined.BlockNumber}, transaction {mined.Hash}, {mined.GasUsed} gas"), record);
    }

    private AnchorRunResult Refused(long head, long height, ContractRefusal refusal, string where)
    {
        metrics.Anchor("refused");
        JobsLog.AnchorRefused(logger, height, refusal.ToString());
        return new AnchorRunResult(AnchorRunStatus.Refused, head, null, $"the contract refused block {height}: {refusal}{where}", Refusal: refusal);
    }

    private AnchorRunResult Unavailable(long head, string reason)
    {
        metrics.Anchor("failed");
        JobsLog.EvmUnavailable(logger, reason);
        return new AnchorRunResult(AnchorRunStatus.Unavailable, head, null, $"the EVM node cannot be used now: {reason}; retried on the next run");
    }

    private AnchorRunResult NotSent(long head, long? latest, string reason)
    {
        metrics.Anchor("failed");
        JobsLog.AnchorNotSent(logger, reason);
        return new AnchorRunResult(AnchorRunStatus.NotSent, head, latest, $"not anchored: {reason}");
    }
}
