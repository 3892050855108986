// The CheckpointAnchor contract's functions, outputs and events as Nethereum typed messages. Names and types follow
// contracts/solidity/CheckpointAnchor.sol; a test checks every message here against the compiled ABI.
using System.Numerics;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;

namespace SmartCity.Ledger.Anchoring.Contract;

#pragma warning disable CA1819, CA2227, CA1002 // Nethereum binds DTOs through settable arrays and lists.

internal sealed class CheckpointAnchorDeployment : ContractDeploymentMessage
{
    public CheckpointAnchorDeployment()
        : base(CheckpointAnchorArtifacts.Bytecode)
    {
    }

    [Parameter("uint64", "ledgerChainId_", 1)]
    public ulong LedgerChainId { get; set; }

    [Parameter("string", "name", 2)]
    public string Name { get; set; } = "";

    [Parameter("string", "version", 3)]
    public string Version { get; set; } = "";

    [Parameter("uint256", "domainChainId_", 4)]
    public BigInteger DomainChainId { get; set; }

    [Parameter("address[]", "initialValidators", 5)]
    public List<string> InitialValidators { get; set; } = [];

    [Parameter("bytes32", "validatorSetHash_", 6)]
    public byte[] ValidatorSetHash { get; set; } = [];
}

[Function("anchor")]
internal sealed class AnchorFunction : FunctionMessage
{
    [Parameter("bytes", "header", 1)]
    public byte[] Header { get; set; } = [];

    [Parameter("bytes", "certificate", 2)]
    public byte[] Certificate { get; set; } = [];
}

[Function("handOver")]
internal sealed class HandOverFunction : FunctionMessage
{
    [Parameter("bytes", "header", 1)]
    public byte[] Header { get; set; } = [];

    [Parameter("bytes", "certificate", 2)]
    public byte[] Certificate { get; set; } = [];

    [Parameter("address[]", "newValidators", 3)]
    public List<string> NewValidators { get; set; } = [];

    [Parameter("bytes", "validatorSetProof", 4)]
    public byte[] ValidatorSetProof { get; set; } = [];
}

[Function("ledgerChainId", "uint64")]
internal sealed class LedgerChainIdFunction : FunctionMessage;

[Function("domainSeparator", "bytes32")]
internal sealed class DomainSeparatorFunction : FunctionMessage;

[Function("domainName", "string")]
internal sealed class DomainNameFunction : FunctionMessage;

[Function("domainVersion", "string")]
internal sealed class DomainVersionFunction : FunctionMessage;

[Function("domainChainId", "uint256")]
internal sealed class DomainChainIdFunction : FunctionMessage;

[Function("genesisValidatorSetHash", "bytes32")]
internal sealed class GenesisValidatorSetHashFunction : FunctionMessage;

[Function("validatorSetHash", "bytes32")]
internal sealed class ValidatorSetHashFunction : FunctionMessage;

[Function("validatorSetSince", "uint64")]
internal sealed class ValidatorSetSinceFunction : FunctionMessage;

[Function("validators", "address[]")]
internal sealed class ValidatorsFunction : FunctionMessage;

[Function("latestHeight", "uint64")]
internal sealed class LatestHeightFunction : FunctionMessage;

[Function("checkpointCount", "uint256")]
internal sealed class CheckpointCountFunction : FunctionMessage;

[Function("quorum", "uint256")]
internal sealed class QuorumFunction : FunctionMessage;

[Function("commitSealDigest", "bytes32")]
internal sealed class CommitSealDigestFunction : FunctionMessage
{
    [Parameter("bytes32", "headerHash", 1)]
    public byte[] HeaderHash { get; set; } = [];

    [Parameter("uint64", "height", 2)]
    public ulong Height { get; set; }

    [Parameter("uint32", "round", 3)]
    public uint Round { get; set; }
}

[Function("checkpointAt", typeof(CheckpointAtOutput))]
internal sealed class CheckpointAtFunction : FunctionMessage
{
    [Parameter("uint64", "height", 1)]
    public ulong Height { get; set; }
}

[Function("checkpoints", typeof(CheckpointsOutput))]
internal sealed class CheckpointsFunction : FunctionMessage
{
    [Parameter("uint256", "start", 1)]
    public BigInteger Start { get; set; }

    [Parameter("uint256", "limit", 2)]
    public BigInteger Limit { get; set; }
}

/// <summary>The contract's <c>Checkpoint</c> struct.</summary>
internal sealed class CheckpointTuple
{
    [Parameter("bytes32", "headerHash", 1)]
    public byte[] HeaderHash { get; set; } = [];

    [Parameter("bytes32", "historyRoot", 2)]
    public byte[] HistoryRoot { get; set; } = [];

    [Parameter("bytes32", "stateRoot", 3)]
    public byte[] StateRoot { get; set; } = [];

    [Parameter("uint64", "height", 4)]
    public ulong Height { get; set; }

    [Parameter("uint64", "historySize", 5)]
    public ulong HistorySize { get; set; }

    [Parameter("uint64", "timestampMs", 6)]
    public ulong TimestampMs { get; set; }

    [Parameter("uint64", "evmBlockNumber", 7)]
    public ulong EvmBlockNumber { get; set; }
}

[FunctionOutput]
internal sealed class CheckpointAtOutput : IFunctionOutputDTO
{
    [Parameter("tuple", "", 1)]
    public CheckpointTuple Checkpoint { get; set; } = new();
}

[FunctionOutput]
internal sealed class CheckpointsOutput : IFunctionOutputDTO
{
    [Parameter("tuple[]", "page", 1)]
    public List<CheckpointTuple> Page { get; set; } = [];
}

[Event("CheckpointAnchored")]
internal sealed class CheckpointAnchoredEvent : IEventDTO
{
    [Parameter("uint64", "height", 1, true)]
    public ulong Height { get; set; }

    [Parameter("bytes32", "headerHash", 2, true)]
    public byte[] HeaderHash { get; set; } = [];

    [Parameter("uint64", "historySize", 3, false)]
    public ulong HistorySize { get; set; }

    [Parameter("bytes32", "historyRoot", 4, false)]
    public byte[] HistoryRoot { get; set; } = [];

    [Parameter("bytes32", "stateRoot", 5, false)]
    public byte[] StateRoot { get; set; } = [];

    [Parameter("uint64", "timestampMs", 6, false)]
    public ulong TimestampMs { get; set; }

    [Parameter("address", "submitter", 7, false)]
    public string Submitter { get; set; } = "";
}

[Event("ValidatorSetHandedOver")]
internal sealed class ValidatorSetHandedOverEvent : IEventDTO
{
    [Parameter("uint64", "height", 1, true)]
    public ulong Height { get; set; }

    [Parameter("bytes32", "previousSetHash", 2, true)]
    public byte[] PreviousSetHash { get; set; } = [];

    [Parameter("bytes32", "newSetHash", 3, true)]
    public byte[] NewSetHash { get; set; } = [];

    [Parameter("address[]", "validators", 4, false)]
    public List<string> Validators { get; set; } = [];
}

#pragma warning restore CA1819, CA2227, CA1002
