using System.Numerics;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Anchoring.Contract;

/// <summary>A checkpoint as the contract keeps it: what a certified header said at its height.</summary>
/// <param name="Height">The ledger height of the anchored header.</param>
/// <param name="HeaderHash">Keccak-256 of the 221-byte header.</param>
/// <param name="HistorySize">Transactions committed up to and including that block.</param>
/// <param name="HistoryRoot">The RFC 9162 root of those transactions.</param>
/// <param name="StateRoot">The state root after that block.</param>
/// <param name="TimestampMs">The header's block time, Unix milliseconds.</param>
/// <param name="EvmBlockNumber">The EVM block that anchored it.</param>
public sealed record AnchoredCheckpoint(long Height, Hash256 HeaderHash, long HistorySize, Hash256 HistoryRoot, Hash256 StateRoot, long TimestampMs, long EvmBlockNumber)
{
    public DateTimeOffset BlockTime => DateTimeOffset.FromUnixTimeMilliseconds(TimestampMs);

    internal static AnchoredCheckpoint From(CheckpointTuple t) => new(
        checked((long)t.Height),
        new Hash256(t.HeaderHash),
        checked((long)t.HistorySize),
        new Hash256(t.HistoryRoot),
        new Hash256(t.StateRoot),
        checked((long)t.TimestampMs),
        checked((long)t.EvmBlockNumber));
}

/// <summary>What a deployed CheckpointAnchor anchors: the ledger chain, its EIP-712 domain and the validator sets.</summary>
/// <param name="LedgerChainId">The genesis chain id every anchored header carries.</param>
/// <param name="DomainName">The genesis EIP-712 domain name.</param>
/// <param name="DomainVersion">The genesis EIP-712 domain version.</param>
/// <param name="DomainChainId">The genesis EIP-712 domain chain id.</param>
/// <param name="DomainSeparator">hashStruct of that domain, as the contract computed it.</param>
/// <param name="GenesisValidatorSetHash">The hash of the set the contract was deployed with.</param>
/// <param name="ValidatorSetHash">The hash of the set in force.</param>
/// <param name="ValidatorSetSince">The first ledger height the set in force seals.</param>
/// <param name="Validators">The set in force, ascending.</param>
public sealed record AnchorContractConfiguration(
    ulong LedgerChainId,
    string DomainName,
    string DomainVersion,
    BigInteger DomainChainId,
    Hash256 DomainSeparator,
    Hash256 GenesisValidatorSetHash,
    Hash256 ValidatorSetHash,
    long ValidatorSetSince,
    IReadOnlyList<Address> Validators);
