namespace SmartCity.Ledger.Storage;

/// <summary>What a store did to reach a consistent state when it opened: shown by the node's Status and logged.</summary>
/// <param name="Actions">Every recovery action in the order taken; empty after a clean shutdown.</param>
/// <param name="OpenedAtHeight">The head the store opened at, or null for an empty store.</param>
/// <param name="AcknowledgedHeight">The head the store had acknowledged before it stopped (its head marker), or null.</param>
public sealed record StoreRecoveryReport(IReadOnlyList<RecoveryAction> Actions, long? OpenedAtHeight, long? AcknowledgedHeight)
{
    public static StoreRecoveryReport None { get; } = new([], null, null);

    /// <summary>True when opening needed no repair: no tail cut, no snapshot skipped.</summary>
    public bool IsClean => Actions.All(a => a.Kind is RecoveryActionKind.SnapshotLoaded or RecoveryActionKind.SegmentsReplayed);
}

/// <summary>One thing recovery did, with a sentence an operator can act on.</summary>
public sealed record RecoveryAction(RecoveryActionKind Kind, string Detail);

public enum RecoveryActionKind
{
    /// <summary>The start-up index came from a snapshot.</summary>
    SnapshotLoaded,

    /// <summary>A snapshot was not used (damaged, or beyond what the segments hold); the segments covered for it.</summary>
    SnapshotSkipped,

    /// <summary>Block records after the snapshot were replayed.</summary>
    SegmentsReplayed,

    /// <summary>A torn record of a block that was never acknowledged was cut from the end of the last segment.</summary>
    TailTruncated,

    /// <summary>A torn record was found at the end of the log but not cut, because the store was opened read-only.</summary>
    TailFound,

    /// <summary>A last segment whose file header was never completed was started again.</summary>
    SegmentRestarted,

    /// <summary>The head marker was missing or behind the log (a store from an older version, or a crash between the record's flush and the marker's) and was written.</summary>
    HeadMarkerWritten,

    /// <summary>A torn access-log entry was cut.</summary>
    AccessLogTailTruncated,
}
