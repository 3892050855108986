using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.Ledger.Blocks;

/// <summary>
/// What a validator signs to seal a block: the EIP-712 struct
/// <c>CommitSeal(bytes32 headerHash,uint64 height,uint32 round)</c> under the consortium's EIP-712 domain, so a seal
/// can be checked with any Ethereum tool that speaks typed data (schema: <c>contracts/eip712/commit-seal.json</c>).
/// </summary>
public readonly record struct CommitSeal(Hash256 HeaderHash, long Height, int Round) : IEip712Struct
{
    public static Eip712StructType StructType { get; } = new("CommitSeal", "bytes32 headerHash,uint64 height,uint32 round");

    public void WriteFields(ref Eip712StructWriter writer)
    {
        writer.WriteBytes32(HeaderHash);
        writer.WriteUInt(checked((ulong)Height));
        writer.WriteUInt(checked((uint)Round));
    }

    /// <summary>The 32-byte digest a validator of an eth chain signs: keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(seal)).</summary>
    public static Hash256 Digest(in Hash256 domainSeparator, in Hash256 headerHash, long height, int round)
        => Digest(CryptoSuite.Eth, domainSeparator, headerHash, height, round);

    /// <summary>The digest a validator signs in <paramref name="suite"/>: H(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(seal)), H Keccak-256 or SM3.</summary>
    public static Hash256 Digest(CryptoSuite suite, in Hash256 domainSeparator, in Hash256 headerHash, long height, int round)
        => Eip712Encoding.Digest(suite, domainSeparator, Eip712StructHasher.Hash(new CommitSeal(headerHash, height, round), suite));

    /// <summary>Seals <paramref name="header"/> as <paramref name="validator"/> (in memory, keystore or HSM), in the header's suite.</summary>
    public static Signature Sign(ISigner validator, in Hash256 domainSeparator, BlockHeader header)
    {
        ArgumentNullException.ThrowIfNull(validator);
        ArgumentNullException.ThrowIfNull(header);
        return validator.Sign(Digest(CryptoSuite.For(header.Crypto), domainSeparator, header.Hash, header.Height, header.Round));
    }
}
