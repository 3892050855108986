using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node;

/// <summary>The node as its consensus engine sees it (<see cref="IConsensusHost"/>).</summary>
public sealed partial class LedgerNode
{
    /// <summary>
    /// Decodes and verifies a block's transactions off the writer: once per transaction, reusing the verified form of
    /// any transaction waiting in this node's mempool and the signature cache for the rest.
    /// </summary>
    private (List<VerifiedTransaction>? Transactions, string? Problem) Prepare(BlockProposal proposal)
    {
        if (proposal.Transactions.Count > Genesis.Parameters.MaxBlockTransactions)
        {
            return (null, $"{proposal.Transactions.Count} transactions exceed the block limit of {Genesis.Parameters.MaxBlockTransactions}");
        }

        var started = NodeTimers.Start();
        var transactions = new VerifiedTransaction?[proposal.Transactions.Count];
        var unknown = new List<DecodedTransaction>();
        var unknownAt = new List<int>();
        var decodedCount = 0;
        for (var i = 0; i < transactions.Length; i++)
        {
            if (_mempool.TryGetByBytes(proposal.Transactions[i], out var waiting))
            {
                transactions[i] = waiting; // admitted here (from a client or by gossip): decoded and verified once
                continue;
            }

            decodedCount++;
            var intake = TransactionIntake.Decode(proposal.Transactions[i], Genesis.ChainId, Domain, Genesis.Parameters.MaxTransactionBytes);
            if (!intake.IsAccepted)
            {
                return (null, $"transaction {i}: {intake.Code}: {intake.Reason}");
            }

            if (_mempool.TryGet(intake.Hash, out var known) && known.Bytes.Span.SequenceEqual(proposal.Transactions[i].Span))
            {
                transactions[i] = known;
            }
            else
            {
                unknown.Add(intake.Transaction!);
                unknownAt.Add(i);
            }
        }

        Timers.Add(NodeStage.Decode, started, decodedCount);
        started = NodeTimers.Start();
        var verified = new IntakeResult<VerifiedTransaction>[unknown.Count];
        TransactionIntake.Verify(unknown, Domain, _verifier, verified);
        Timers.Add(NodeStage.Verify, started, unknown.Count);
        for (var k = 0; k < verified.Length; k++)
        {
            if (verified[k].Transaction is not { } tx)
            {
                return (null, $"transaction {unknownAt[k]}: {verified[k].Code}: {verified[k].Reason}");
            }

            transactions[unknownAt[k]] = tx;
        }

        return ([.. transactions.Select(t => t!)], null);
    }

    private sealed class Host(LedgerNode node) : IConsensusHost, ITimedHost
    {
        public NodeTimers Timers => node.Timers;

        /// <summary>
        /// Whether the engine resumes on the writer when the writer answers it, instead of on the thread pool. For the
        /// node sealing its own blocks: its engine only seals (a signature, no I/O) and asks for the next step, so the
        /// writer goes from proposal to commit to the next proposal without waiting for a pool thread. Under load that
        /// wait was behind the submitters' decode and verify work, and the writer idled meanwhile. Other engines talk
        /// to peers and resume on the pool, where waiting for I/O cannot hold the writer up.
        /// </summary>
        private bool ResumesOnWriter => node._consensus is SoloSealingEngine;

        /// <summary>Runs <paramref name="work"/> on the writer for the engine, which resumes where <see cref="ResumesOnWriter"/> says.</summary>
        private Task<T> OnWriterAsync<T>(Func<ValueTask<T>> work, CancellationToken cancellationToken)
            => node.OnWriterAsync(work, cancellationToken, ResumesOnWriter);

        public NodeSnapshot Head => node._head;

        public Hash256 DomainSeparator => node._chain.Anchor.DomainSeparator;

        public ISignatureScheme Curve => node.Curve;

        public async Task WaitForWorkAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var signal = node._work;
                if (node._stopping)
                {
                    throw new NodeStoppedException(node.StoppedMessage());
                }

                if (node._readyCount > 0)
                {
                    return;
                }

                await signal.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public Task<BlockProposal?> BuildProposalAsync(long height, int round, CancellationToken cancellationToken)
            => OnWriterAsync(() => ValueTask.FromResult(node.BuildProposal(height, round)), cancellationToken);

        public async Task<ProposalValidation> ValidateProposalAsync(BlockProposal proposal, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(proposal);
            var (transactions, problem) = node.Prepare(proposal);
            return transactions is null
                ? ProposalValidation.Invalid(problem!)
                : await OnWriterAsync(() => ValueTask.FromResult(node.Execute(proposal, transactions, checkClock: true)), cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// Commits a decided block. When the store refuses it for a reason that may pass (disk full, database down),
        /// the node reports <see cref="NodeHealth.StoreUnavailable"/> and this call retries every
        /// <see cref="LedgerNodeOptions.StoreRetryInterval"/> until the store takes it or the node stops: a decided block
        /// is never dropped, and no later block is built meanwhile.
        /// </summary>
        public async Task<CommitResult> CommitAsync(BlockProposal block, CommitCertificate certificate, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(block);
            ArgumentNullException.ThrowIfNull(certificate);
            while (true)
            {
                try
                {
                    return await CommitOnceAsync(block, certificate, cancellationToken).ConfigureAwait(false);
                }
                catch (StoreOutageException)
                {
                    await node.WaitToRetryCommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        private async Task<CommitResult> CommitOnceAsync(BlockProposal block, CommitCertificate certificate, CancellationToken cancellationToken)
        {
            if (await OnWriterAsync(() => node.CommitDecidedAsync(block, certificate), cancellationToken).ConfigureAwait(false) is { } done)
            {
                return done;
            }

            // A decided block this node never executed (it missed the proposal): execute it, then commit. The
            // certificate is checked before anything is written; the clock is not, the block is already decided.
            var (transactions, problem) = node.Prepare(block);
            if (transactions is null)
            {
                return new CommitResult(false, CertificateCheck.HeaderMismatch, problem!, node._head);
            }

            return await OnWriterAsync(
                async () =>
                {
                    if (await node.CommitDecidedAsync(block, certificate).ConfigureAwait(false) is { } settled)
                    {
                        return settled; // committed meanwhile, or the head moved past it
                    }

                    var validation = node.Execute(block, transactions, checkClock: false);
                    return !validation.IsValid
                        ? new CommitResult(false, CertificateCheck.HeaderMismatch, validation.Reason, node._head)
                        : await node.CommitDecidedAsync(block, certificate).ConfigureAwait(false) ?? throw new InvalidOperationException("an executed block must be committable");
                },
                cancellationToken).ConfigureAwait(false);
        }
    }
}
