namespace SmartCity.Ledger.Score;

/// <summary>Why a score could not be given: expected failures of a query, as values.</summary>
public enum ScoreFailure
{
    None = 0,

    /// <summary>The height is beyond the head (or negative).</summary>
    UnknownHeight = 1,

    /// <summary>The source keeps the state of its head only, and another height was asked for.</summary>
    HeightNotKept = 2,

    /// <summary>The store holds no block yet.</summary>
    EmptyStore = 3,

    /// <summary>Blocks kept arriving while the state was read, several times over; ask again.</summary>
    StateKeptChanging = 4,

    /// <summary>The genesis given to replay a store is not the genesis of the store's chain.</summary>
    GenesisMismatch = 5,
}

/// <summary>A score, or the reason there is none.</summary>
public sealed record ScoreResult(TrustScore? Score, ScoreFailure Failure, string Detail)
{
    public bool IsScored => Failure == ScoreFailure.None;

    public static ScoreResult Scored(TrustScore score) => new(score, ScoreFailure.None, string.Empty);

    public static ScoreResult Failed(ScoreFailure failure, string detail) => new(null, failure, detail);
}
