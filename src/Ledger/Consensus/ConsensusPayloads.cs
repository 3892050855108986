using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.Ledger.Consensus;

/// <summary>The four kinds of QBFT message; the byte is the first byte of a message's wire encoding.</summary>
public enum ConsensusMessageKind : byte
{
    Proposal = 1,
    Prepare = 2,
    Commit = 3,
    RoundChange = 4,
}

/// <summary>
/// What a proposer signs: <c>QbftProposal(uint64 height,uint32 round,bytes32 blockHash)</c> under the consortium's
/// EIP-712 domain (schema: <c>contracts/eip712/consensus-messages.json</c>). The block and the justification travel
/// beside it and carry their own signatures.
/// </summary>
public readonly record struct QbftProposal(long Height, int Round, Hash256 BlockHash) : IEip712Struct
{
    public static Eip712StructType StructType { get; } = new("QbftProposal", "uint64 height,uint32 round,bytes32 blockHash");

    public void WriteFields(ref Eip712StructWriter writer)
    {
        writer.WriteUInt(checked((ulong)Height));
        writer.WriteUInt(checked((uint)Round));
        writer.WriteBytes32(BlockHash);
    }
}

/// <summary>A validator's PREPARE: <c>QbftPrepare(uint64 height,uint32 round,bytes32 blockHash)</c>.</summary>
public readonly record struct QbftPrepare(long Height, int Round, Hash256 BlockHash) : IEip712Struct
{
    public static Eip712StructType StructType { get; } = new("QbftPrepare", "uint64 height,uint32 round,bytes32 blockHash");

    public void WriteFields(ref Eip712StructWriter writer)
    {
        writer.WriteUInt(checked((ulong)Height));
        writer.WriteUInt(checked((uint)Round));
        writer.WriteBytes32(BlockHash);
    }
}

/// <summary>
/// A validator's COMMIT: <c>QbftCommit(uint64 height,uint32 round,bytes32 blockHash,bytes commitSeal)</c>. The seal is
/// the validator's <see cref="Blocks.CommitSeal"/> signature over (blockHash, height, round), which goes into the
/// block's certificate; it must be by the same validator that signs the COMMIT.
/// </summary>
public readonly record struct QbftCommit(long Height, int Round, Hash256 BlockHash, Signature CommitSeal) : IEip712Struct
{
    public static Eip712StructType StructType { get; } = new("QbftCommit", "uint64 height,uint32 round,bytes32 blockHash,bytes commitSeal");

    public void WriteFields(ref Eip712StructWriter writer)
    {
        writer.WriteUInt(checked((ulong)Height));
        writer.WriteUInt(checked((uint)Round));
        writer.WriteBytes32(BlockHash);
        // A dynamic `bytes` field is encoded as its hash in the writer's suite (EIP-712 encodeData: Keccak-256 or SM3).
        var seal = CommitSeal;
        writer.WriteBytes(seal.Bytes);
    }
}

/// <summary>
/// A validator's ROUND-CHANGE to <see cref="Round"/>:
/// <c>QbftRoundChange(uint64 height,uint32 round,bool prepared,uint32 preparedRound,bytes32 preparedBlockHash)</c>.
/// When <see cref="Prepared"/> is false the other two fields are zero; when true they name the highest round in which
/// the sender saw a quorum of PREPAREs and that block's hash.
/// </summary>
public readonly record struct QbftRoundChange(long Height, int Round, bool Prepared, int PreparedRound, Hash256 PreparedBlockHash) : IEip712Struct
{
    public static Eip712StructType StructType { get; } = new("QbftRoundChange", "uint64 height,uint32 round,bool prepared,uint32 preparedRound,bytes32 preparedBlockHash");

    public void WriteFields(ref Eip712StructWriter writer)
    {
        writer.WriteUInt(checked((ulong)Height));
        writer.WriteUInt(checked((uint)Round));
        writer.WriteBool(Prepared);
        writer.WriteUInt(checked((uint)PreparedRound));
        writer.WriteBytes32(PreparedBlockHash);
    }

    public static QbftRoundChange NotPrepared(long height, int round) => new(height, round, false, 0, Hash256.Zero);
}
