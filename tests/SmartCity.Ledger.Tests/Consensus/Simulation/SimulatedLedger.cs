using System.Buffers.Binary;
using System.Collections.Immutable;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.Consensus.Simulation;

/// <summary>
/// The simulator's deterministic stand-in for execution: a transaction is valid when its first byte is 0x01, the
/// transaction root hashes the transactions, and each root of the header chains from its parent's. A block is valid
/// when re-computing its header from the parent and its transactions gives its hash, so any wrong field (a forged
/// state root, an invalid transaction, a wrong parent) makes it invalid, as re-execution does in the node.
/// </summary>
internal static class SimulatedExecution
{
    public const byte ValidTransactionMarker = 0x01;

    public static bool IsValidTransaction(ReadOnlyMemory<byte> transaction)
        => transaction.Length >= 2 && transaction.Span[0] == ValidTransactionMarker;

    public static Hash256 TransactionRoot(ImmutableArray<ReadOnlyMemory<byte>> transactions)
    {
        var bytes = new List<byte>();
        Span<byte> length = stackalloc byte[4];
        foreach (var transaction in transactions)
        {
            BinaryPrimitives.WriteInt32BigEndian(length, transaction.Length);
            bytes.AddRange(length);
            bytes.AddRange(transaction.Span);
        }

        return Keccak256.Hash([.. bytes]);
    }

    public static BlockHeader Header(BlockHeader parent, ImmutableArray<ReadOnlyMemory<byte>> transactions, long timestampMs, Address proposer, int round, in Hash256 validatorSetHash)
    {
        var root = TransactionRoot(transactions);
        return new BlockHeader(parent.ChainId, parent.Height + 1, parent.Hash, timestampMs, proposer, round, transactions.Length, root,
            Chain(parent.StateRoot, root), parent.HistorySize + transactions.Length, Chain(parent.HistoryRoot, root), validatorSetHash);
    }

    /// <summary>Why <paramref name="block"/> is not a valid child of <paramref name="parent"/>, or null when it is.</summary>
    public static string? Check(BlockHeader parent, ProposedBlock block, ValidatorSet validators, long nowMs)
    {
        var header = block.Header;
        if (header.Height != parent.Height + 1 || header.PreviousHash != parent.Hash)
        {
            return $"block {header.Height} does not extend {parent.Height} {parent.Hash}";
        }

        if (header.TimestampMs < parent.TimestampMs || header.TimestampMs > nowMs + 1_000)
        {
            return $"timestamp {header.TimestampMs} outside [{parent.TimestampMs}, now + 1 s]";
        }

        if (!validators.Contains(header.Proposer))
        {
            return $"proposer {header.Proposer} is not a validator";
        }

        foreach (var transaction in block.Transactions)
        {
            if (!IsValidTransaction(transaction))
            {
                return "an invalid transaction";
            }
        }

        var expected = Header(parent, block.Transactions, header.TimestampMs, header.Proposer, header.Round, validators.Hash);
        return expected.Hash == header.Hash ? null : "re-execution gives another header hash";
    }

    private static Hash256 Chain(in Hash256 parent, in Hash256 root)
    {
        Span<byte> bytes = stackalloc byte[64];
        parent.CopyTo(bytes);
        root.CopyTo(bytes[32..]);
        return Keccak256.Hash(bytes);
    }
}

/// <summary>A block a node committed, with the certificate it committed it with.</summary>
internal sealed record CommittedBlock(ProposedBlock Block, CommitCertificate Certificate);

/// <summary>
/// One simulated node's chain (what survives a crash, like the node's store) and what the node does when the engine
/// asks: building from its own transaction source and validating by re-execution.
/// </summary>
internal sealed class SimulatedLedger(SimulationWorld world, int node)
{
    private readonly List<CommittedBlock> _blocks = [];
    private int _transactionCounter;

    public IReadOnlyList<CommittedBlock> Blocks => _blocks;

    public BlockHeader Head => _blocks.Count == 0 ? world.Genesis : _blocks[^1].Block.Header;

    public long HeadHeight => Head.Height;

    /// <summary>Set by a Byzantine strategy: the next blocks this node builds carry a wrong state root.</summary>
    public bool BuildInvalidBlocks { get; set; }

    public ConsensusHeight NextHeight()
    {
        var head = Head;
        return new ConsensusHeight(head.Height + 1, world.Validators, head.Hash, head.TimestampMs, head.Proposer);
    }

    public ProposedBlock? Build(ProposalRequest request)
    {
        var transactions = world.TransactionsFor(node, request.Height.Height, ref _transactionCounter);
        var header = SimulatedExecution.Header(Head, transactions, request.Now.ToUnixTimeMilliseconds(), request.Proposer, request.Round, world.Validators.Hash);
        if (BuildInvalidBlocks)
        {
            header = new BlockHeader(header.ChainId, header.Height, header.PreviousHash, header.TimestampMs, header.Proposer, header.Round,
                header.TransactionCount, header.TransactionRoot, Keccak256.Hash("forged state"u8), header.HistorySize, header.HistoryRoot, header.ValidatorSetHash);
        }

        return new ProposedBlock(header, transactions);
    }

    /// <summary>A different block for the same request: what an equivocating proposer sends half of its peers.</summary>
    public ProposedBlock BuildAlternative(ProposalRequest request)
    {
        var transactions = world.TransactionsFor(node, request.Height.Height, ref _transactionCounter, atLeastOne: true);
        var header = SimulatedExecution.Header(Head, transactions, request.Now.ToUnixTimeMilliseconds(), request.Proposer, request.Round, world.Validators.Hash);
        return new ProposedBlock(header, transactions);
    }

    public BlockVerdict Validate(ProposedBlock block, DateTimeOffset now)
        => SimulatedExecution.Check(Head, block, world.Validators, now.ToUnixTimeMilliseconds()) is { } problem ? BlockVerdict.Invalid(problem) : BlockVerdict.Valid;

    /// <summary>What the node checks before it stores a block, decided here or fetched from a peer: certificate, then re-execution.</summary>
    public string? CheckCertified(ProposedBlock block, CommitCertificate certificate, long nowMs)
    {
        var verdict = certificate.Verify(block.Header, world.Validators, world.DomainSeparator, world.Curve);
        if (!verdict.IsValid)
        {
            return $"certificate: {verdict.Reason}";
        }

        // A certified block may be older than "now + 1 s" only; catch-up of old blocks must not fail on the clock.
        return SimulatedExecution.Check(Head, block, world.Validators, Math.Max(nowMs, block.Header.TimestampMs));
    }

    public void Append(ProposedBlock block, CommitCertificate certificate) => _blocks.Add(new CommittedBlock(block, certificate));

    public CommittedBlock? At(long height) => height >= 1 && height <= _blocks.Count ? _blocks[(int)height - 1] : null;
}
