using System.Buffers.Binary;
using System.Collections.Immutable;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.Consensus.Simulation;

/// <summary>
/// The part of the simulated state consensus depends on, after some block: the validator set in force for the next
/// height (V_{h+1}, as the node reads <c>validator-set</c> from the state after h) and how many of the run's set
/// changes the chain has applied.
/// </summary>
internal sealed record SimulatedState(ValidatorSet Validators, int ChangesApplied);

/// <summary>
/// The governance of a run: the set changes that "passed", in order. A block may carry the next one as a transaction;
/// executing that block changes the set for the height after it (docs/consensus.md, "Validator-set changes").
/// </summary>
internal sealed class SetChangeRules(IReadOnlyList<SetChange> changes, IReadOnlyList<Address> keys)
{
    public IReadOnlyList<SetChange> Changes => changes;

    /// <summary>
    /// The set-change transaction a proposer puts in the block it builds on <paramref name="state"/>: the next change
    /// once it is available at virtual time <paramref name="nowMs"/> (<paramref name="anyTime"/>: even before), or null.
    /// </summary>
    public ReadOnlyMemory<byte>? Next(SimulatedState state, Address proposer, long nowMs, bool anyTime = false)
    {
        if (state.ChangesApplied >= changes.Count)
        {
            return null;
        }

        var change = changes[state.ChangesApplied];
        if (!anyTime && change.AvailableMs > nowMs)
        {
            return null;
        }

        return SimulatedExecution.SetChangeTransaction(state.ChangesApplied, change.Kind, change.Kind == SetChangeKind.RemoveProposer ? proposer : keys[change.Validator]);
    }

    /// <summary>The state after <paramref name="block"/> executes on <paramref name="before"/>, or null with the reason it cannot.</summary>
    public SimulatedState? Apply(SimulatedState before, ProposedBlock block, out string? problem)
    {
        problem = null;
        var after = before;
        foreach (var transaction in block.Transactions)
        {
            if (!SimulatedExecution.TryReadSetChange(transaction, out var index, out var kind, out var address))
            {
                continue;
            }

            if (after != before)
            {
                problem = "two set changes in one block";
                return null;
            }

            if (index != before.ChangesApplied || index >= changes.Count || changes[index].Kind != kind)
            {
                problem = $"set change {index} ({kind}) is not the next one the chain may apply ({before.ChangesApplied})";
                return null;
            }

            var expected = kind == SetChangeKind.RemoveProposer ? block.Header.Proposer : keys[changes[index].Validator];
            var members = before.Validators.Members;
            if (address != expected || (kind == SetChangeKind.Add) == members.Contains(address))
            {
                problem = $"set change {index} names {address}, which cannot be {kind}";
                return null;
            }

            var next = kind == SetChangeKind.Add ? members.Add(address) : members.Remove(address);
            if (next.Length < ConsensusHeight.MinValidators)
            {
                problem = $"set change {index} would leave {next.Length} validators";
                return null;
            }

            after = new SimulatedState(new ValidatorSet(next), index + 1);
        }

        return after;
    }
}

/// <summary>
/// The simulator's deterministic stand-in for execution: a transaction is valid when its first byte is 0x01 (or it
/// is the set change the chain may apply next, marker 0x02), the transaction root hashes the transactions, and each
/// root of the header chains from its parent's. A block is valid when re-computing its header from the parent and its
/// transactions gives its hash, so any wrong field (a forged state root, an invalid transaction, a wrong parent, the
/// wrong validator set) makes it invalid, as re-execution does in the node.
/// </summary>
internal static class SimulatedExecution
{
    public const byte ValidTransactionMarker = 0x01;

    public const byte SetChangeMarker = 0x02;

    /// <summary>marker(1) index(4) kind(1) address(20).</summary>
    public static ReadOnlyMemory<byte> SetChangeTransaction(int index, SetChangeKind kind, Address address)
    {
        var bytes = new byte[6 + Address.Size];
        bytes[0] = SetChangeMarker;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), index);
        bytes[5] = (byte)kind;
        address.Bytes.CopyTo(bytes.AsSpan(6));
        return bytes;
    }

    public static bool TryReadSetChange(ReadOnlyMemory<byte> transaction, out int index, out SetChangeKind kind, out Address address)
    {
        var span = transaction.Span;
        if (span.Length != 6 + Address.Size || span[0] != SetChangeMarker || span[5] > (byte)SetChangeKind.RemoveProposer)
        {
            (index, kind, address) = (0, default, default);
            return false;
        }

        index = BinaryPrimitives.ReadInt32BigEndian(span[1..]);
        kind = (SetChangeKind)span[5];
        address = new Address(span[6..]);
        return true;
    }

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

    /// <summary>
    /// Why <paramref name="block"/> is not a valid child of <paramref name="parent"/> (whose post-state is
    /// <paramref name="state"/>; <paramref name="validators"/> the set the checking node holds in force), or null when it is.
    /// </summary>
    public static string? Check(BlockHeader parent, ProposedBlock block, ValidatorSet validators, SimulatedState state, SetChangeRules rules, long nowMs)
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
            if (!IsValidTransaction(transaction) && !TryReadSetChange(transaction, out _, out _, out _))
            {
                return "an invalid transaction";
            }
        }

        if (rules.Apply(state, block, out var problem) is null)
        {
            return problem;
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
/// asks: building from its own transaction source and validating by re-execution. The validator set of each height
/// comes from the chain: V_{h+1} is the set in the state after block h.
/// </summary>
internal sealed class SimulatedLedger(SimulationWorld world, int node)
{
    private readonly List<CommittedBlock> _blocks = [];
    private readonly List<SimulatedState> _states = [world.GenesisState];
    private int _transactionCounter;

    public IReadOnlyList<CommittedBlock> Blocks => _blocks;

    public BlockHeader Head => _blocks.Count == 0 ? world.Genesis : _blocks[^1].Block.Header;

    public long HeadHeight => Head.Height;

    /// <summary>The state after the head: the set in force for the next height and the changes applied.</summary>
    public SimulatedState State => _states[^1];

    /// <summary>Set by a Byzantine strategy: the next blocks this node builds carry a wrong state root.</summary>
    public bool BuildInvalidBlocks { get; set; }

    /// <summary>The set this node holds in force for <paramref name="height"/> (≤ head + 1): the state after height − 1.</summary>
    public ValidatorSet ValidatorsFor(long height)
    {
        var index = (int)height - 1;
        if (world.Scenario.Options.PlantedBug == PlantedSetChangeBug.ActivateOneHeightLate)
        {
            // Planted: the set of the state after height − 2, so a change takes effect one height late.
            index = Math.Max(0, index - 1);
        }

        return _states[index].Validators;
    }

    public ConsensusHeight NextHeight()
    {
        var head = Head;
        return new ConsensusHeight(head.Height + 1, ValidatorsFor(head.Height + 1), head.Hash, head.TimestampMs, head.Proposer);
    }

    public ProposedBlock? Build(ProposalRequest request)
    {
        var transactions = world.TransactionsFor(node, request.Height.Height, ref _transactionCounter);
        if (world.Rules.Next(State, request.Proposer, world.NowMs) is { } change)
        {
            transactions = transactions.Add(change);
        }

        var header = SimulatedExecution.Header(Head, transactions, request.Now.ToUnixTimeMilliseconds(), request.Proposer, request.Round, ValidatorsFor(request.Height.Height).Hash);
        if (BuildInvalidBlocks)
        {
            header = new BlockHeader(header.ChainId, header.Height, header.PreviousHash, header.TimestampMs, header.Proposer, header.Round,
                header.TransactionCount, header.TransactionRoot, Keccak256.Hash("forged state"u8), header.HistorySize, header.HistoryRoot, header.ValidatorSetHash);
        }

        return new ProposedBlock(header, transactions);
    }

    /// <summary>A different block for the same request: what an equivocating proposer sends half of its peers (with the next set change, due or not).</summary>
    public ProposedBlock BuildAlternative(ProposalRequest request)
    {
        var transactions = world.TransactionsFor(node, request.Height.Height, ref _transactionCounter, atLeastOne: true);
        if (world.Rules.Next(State, request.Proposer, world.NowMs, anyTime: true) is { } change && request.Height.Height == HeadHeight + 1)
        {
            transactions = transactions.Add(change);
        }

        var header = SimulatedExecution.Header(Head, transactions, request.Now.ToUnixTimeMilliseconds(), request.Proposer, request.Round, ValidatorsFor(request.Height.Height).Hash);
        return new ProposedBlock(header, transactions);
    }

    public BlockVerdict Validate(ProposedBlock block, DateTimeOffset now)
        => SimulatedExecution.Check(Head, block, ValidatorsFor(HeadHeight + 1), State, world.Rules, now.ToUnixTimeMilliseconds()) is { } problem ? BlockVerdict.Invalid(problem) : BlockVerdict.Valid;

    /// <summary>What the node checks before it stores a block, decided here or fetched from a peer: certificate (against the set in force), then re-execution.</summary>
    public string? CheckCertified(ProposedBlock block, CommitCertificate certificate, long nowMs)
    {
        var validators = ValidatorsFor(HeadHeight + 1);
        var verdict = certificate.Verify(block.Header, validators, world.DomainSeparator, world.Curve);
        if (!verdict.IsValid)
        {
            return $"certificate: {verdict.Reason}";
        }

        // A certified block may be older than "now + 1 s" only; catch-up of old blocks must not fail on the clock.
        return SimulatedExecution.Check(Head, block, validators, State, world.Rules, Math.Max(nowMs, block.Header.TimestampMs));
    }

    /// <summary>Stores a checked block and the state after it.</summary>
    public void Append(ProposedBlock block, CommitCertificate certificate)
    {
        _states.Add(world.Rules.Apply(State, block, out _) ?? State);
        _blocks.Add(new CommittedBlock(block, certificate));
    }

    public CommittedBlock? At(long height) => height >= 1 && height <= _blocks.Count ? _blocks[(int)height - 1] : null;
}
