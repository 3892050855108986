using Microsoft.Extensions.Logging;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>The embedded store's log messages; event ids 5100–5149 (storage: 5100–5199).</summary>
internal static partial class EmbeddedStoreLog
{
    [LoggerMessage(EventId = 5100, Level = LogLevel.Warning, Message = "Embedded store {Directory}: recovery {Action}: {Detail}")]
    public static partial void Recovery(ILogger logger, RecoveryActionKind action, string directory, string detail);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Information, Message = "Embedded store {Directory}: {Detail}")]
    public static partial void SnapshotLoaded(ILogger logger, string directory, string detail);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "Embedded store {Directory}: {Detail} (the block is durable; the snapshot is retried after the next block)")]
    public static partial void SnapshotFailed(ILogger logger, string directory, string detail);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Information, Message = "Embedded store {Directory}: the state-node locator reads {Entries} entries from its new sorted base (written and checked in {WrittenMs:F0} ms in the background); the {Changes} changes made meanwhile kept as its tables, moved in {ReplayMs:F0} ms under the store's locks")]
    public static partial void LocatorMoved(ILogger logger, string directory, int entries, double writtenMs, int changes, double replayMs);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "Embedded store {Directory}: repair {Detail}")]
    public static partial void Repair(ILogger logger, string directory, string detail);
}
