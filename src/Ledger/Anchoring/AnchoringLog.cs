using Microsoft.Extensions.Logging;

namespace SmartCity.Ledger.Anchoring;

/// <summary>Log events of anchoring, ids 4000-4099 (docs/anchoring.md).</summary>
internal static partial class AnchoringLog
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "EVM {Endpoint}: chain {ChainId}, {Pricing} gas pricing, submitter {Submitter}")]
    public static partial void Connected(ILogger logger, Uri endpoint, System.Numerics.BigInteger chainId, string pricing, string submitter);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "EVM call failed in transit; retry {Attempt} in {DelayMs:0} ms: {Reason}")]
    public static partial void RpcRetry(ILogger logger, int attempt, double delayMs, string reason);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "EVM node failed inside while asked for the receipt of {TransactionHash}; asked again at the next poll: {Reason}")]
    public static partial void ReceiptNotReady(ILogger logger, string transactionHash, string reason);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "anchoring height {Height} ({HeaderHash}): sent {TransactionHash}, nonce {Nonce}, {Fees}")]
    public static partial void Sent(ILogger logger, long height, string headerHash, string transactionHash, System.Numerics.BigInteger nonce, string fees);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Information, Message = "anchored height {Height} ({HeaderHash}) in EVM block {EvmBlock}, transaction {TransactionHash}, {GasUsed} gas")]
    public static partial void Anchored(ILogger logger, long height, string headerHash, long evmBlock, string transactionHash, System.Numerics.BigInteger gasUsed);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Information, Message = "validator set handed over at height {Height} to {NewSetHash} ({Count} validators), transaction {TransactionHash}")]
    public static partial void HandedOver(ILogger logger, long height, string newSetHash, int count, string transactionHash);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Information, Message = "height {Height} is still waiting for its receipt or confirmations: {TransactionHashes}")]
    public static partial void StillPending(ILogger logger, long height, string transactionHashes);

    [LoggerMessage(EventId = 4014, Level = LogLevel.Warning, Message = "re-pricing the anchor of height {Height} (nonce {Nonce}): {Fees}")]
    public static partial void Repriced(ILogger logger, long height, System.Numerics.BigInteger nonce, string fees);

    [LoggerMessage(EventId = 4015, Level = LogLevel.Debug, Message = "not anchoring: {Reason}")]
    public static partial void NotDue(ILogger logger, string reason);

    [LoggerMessage(EventId = 4020, Level = LogLevel.Error, Message = "the contract refused height {Height}: {Refusal}")]
    public static partial void Refused(ILogger logger, long height, string refusal);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Warning, Message = "anchoring failed ({ConsecutiveFailures} in a row), retried at the next run: {Reason}")]
    public static partial void Failed(ILogger logger, int consecutiveFailures, string reason);
}
