using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Proofs;

namespace SmartCity.Ledger.Node;

/// <summary>Why a read or proof at a height has no answer: expected outcomes, returned as values.</summary>
public enum ChainQueryError
{
    None = 0,

    /// <summary>The height is negative or above the head.</summary>
    UnknownHeight,

    /// <summary>The state version of that height was pruned (below the retention floor); headers and history remain.</summary>
    StatePruned,

    /// <summary>No committed transaction has that id.</summary>
    TransactionNotFound,

    /// <summary>The transaction was committed after the height asked for.</summary>
    TransactionNotYetCommitted,

    /// <summary>The first height of a consistency proof is above the second.</summary>
    HeightsOutOfOrder,
}

/// <summary>An answer, or a typed reason there is none, with a sentence for the caller.</summary>
public readonly record struct ChainQuery<T>(T? Value, ChainQueryError Error, string Message)
{
    public bool IsFound => Error == ChainQueryError.None;

    public static ChainQuery<T> Found(T value) => new(value, ChainQueryError.None, "");

    public static ChainQuery<T> Fail(ChainQueryError error, string message) => new(default, error, message);
}

/// <summary>
/// What a regulator holding two certified headers needs: both headers with their certificates and the RFC 9162
/// consistency proof from the first header's history size to the second's.
/// </summary>
public sealed record ConsistencyEvidence(BlockHeader First, CommitCertificate FirstCertificate, BlockHeader Second, CommitCertificate SecondCertificate, ConsistencyProof Proof)
{
    public bool Verify() => Proof.Verify(First.HistoryRoot, Second.HistoryRoot);
}
