using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Node;

/// <summary>
/// An immutable view of a node's head, published by the writer after each commit: readers take the current one and
/// never see a half-applied block. <see cref="NextAsync"/> completes with the snapshot that replaces this one, so a
/// reader can follow the chain without polling.
/// </summary>
public sealed class NodeSnapshot
{
    private readonly TaskCompletionSource<NodeSnapshot> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal NodeSnapshot(BlockHeader header, CommitCertificate certificate, ValidatorSet validators, NodeHealth health, string? fault = null)
    {
        Header = header;
        Certificate = certificate;
        Validators = validators;
        Health = health;
        Fault = fault;
    }

    public BlockHeader Header { get; }

    public CommitCertificate Certificate { get; }

    public ulong ChainId => Header.ChainId;

    public long Height => Header.Height;

    public Hash256 HeadHash => Header.Hash;

    public Hash256 StateRoot => Header.StateRoot;

    /// <summary>Transactions ever committed: the size of the history tree at the head.</summary>
    public long HistorySize => Header.HistorySize;

    /// <summary>The validators that seal the next block.</summary>
    public ValidatorSet Validators { get; }

    public NodeHealth Health { get; }

    /// <summary>Why the node stopped committing, when <see cref="Health"/> is <see cref="NodeHealth.Faulted"/>.</summary>
    public string? Fault { get; }

    /// <summary>The snapshot after this one: the next commit, or the node stopping.</summary>
    public Task<NodeSnapshot> NextAsync(CancellationToken cancellationToken) => _next.Task.WaitAsync(cancellationToken);

    internal bool IsSucceeded => _next.Task.IsCompleted;

    internal void Succeed(NodeSnapshot next) => _next.TrySetResult(next);
}

/// <summary>Whether a node is committing.</summary>
public enum NodeHealth
{
    /// <summary>Serving: admitting transactions and committing blocks.</summary>
    Running = 0,

    /// <summary>Stopped on request; no more commits.</summary>
    Stopped,

    /// <summary>Stopped because the store or the consensus engine failed; see <see cref="NodeSnapshot.Fault"/>.</summary>
    Faulted,
}

/// <summary>A committed block as subscribers see it: the header, its certificate and the ids of its transactions.</summary>
public sealed record CommittedBlockEvent(BlockHeader Header, CommitCertificate Certificate, IReadOnlyList<Hash256> TransactionIds);
