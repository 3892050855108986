using System.Diagnostics;

namespace SmartCity.Ledger.Node;

/// <summary>
/// Where a node's time goes, per pipeline stage: cumulative wall time and item counts, updated without locks. The
/// load tool reads them to say what fraction of the machine each stage takes; they cost two timestamps per stage
/// run, nothing per transaction inside a batch.
/// </summary>
public sealed class NodeTimers
{
    private readonly long[] _ticks = new long[StageCount];
    private readonly long[] _items = new long[StageCount];

    private const int StageCount = (int)NodeStage.Publish + 1;

    /// <summary>Starts timing; dispose the returned value (or call <see cref="Add"/>) to record.</summary>
    public static long Start() => Stopwatch.GetTimestamp();

    public void Add(NodeStage stage, long startedAt, long items = 1)
    {
        Interlocked.Add(ref _ticks[(int)stage], Stopwatch.GetTimestamp() - startedAt);
        Interlocked.Add(ref _items[(int)stage], items);
    }

    public TimeSpan Elapsed(NodeStage stage) => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks[(int)stage]));

    public long Items(NodeStage stage) => Interlocked.Read(ref _items[(int)stage]);

    public void Reset()
    {
        for (var i = 0; i < StageCount; i++)
        {
            Interlocked.Exchange(ref _ticks[i], 0);
            Interlocked.Exchange(ref _items[i], 0);
        }
    }
}

/// <summary>The stages of the node's pipeline, in the order a transaction meets them.</summary>
public enum NodeStage
{
    /// <summary>Size, canonical decoding, chain id and the EIP-712 id (submitter threads; items = transactions).</summary>
    Decode,

    /// <summary>Signature recovery through the batch verifier and its cache (submitter threads; items = transactions).</summary>
    Verify,

    /// <summary>Nonce ordering and mempool insertion on the writer (items = transactions).</summary>
    Admit,

    /// <summary>Applying a block's transactions and computing its roots on the writer (items = transactions).</summary>
    Build,

    /// <summary>Re-executing another validator's proposal (items = transactions).</summary>
    Validate,

    /// <summary>Sealing and assembling the certificate (the consensus engine; items = blocks).</summary>
    Certify,

    /// <summary>Certificate check, projections and the durable store append, fsync included (items = blocks).</summary>
    Commit,

    /// <summary>Mempool settlement, outcomes and the snapshot published to subscribers (items = blocks).</summary>
    Publish,
}
