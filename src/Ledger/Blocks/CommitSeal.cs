using System.Buffers.Binary;
using System.Text;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Blocks;

/// <summary>
/// What a validator signs to seal a block: the EIP-712 struct
/// <c>CommitSeal(bytes32 headerHash,uint64 height,uint32 round)</c> under the consortium's EIP-712 domain, so a seal
/// can be checked with any Ethereum tool that speaks typed data (the schema is in <c>contracts/eip712/</c>).
/// </summary>
public static class CommitSeal
{
    public const string EncodedType = "CommitSeal(bytes32 headerHash,uint64 height,uint32 round)";

    /// <summary>Keccak-256 of <see cref="EncodedType"/>.</summary>
    public static Hash256 TypeHash { get; } = Keccak256.Hash(Encoding.ASCII.GetBytes(EncodedType));

    /// <summary>The 32-byte digest a validator signs: keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(seal)).</summary>
    public static Hash256 Digest(in Hash256 domainSeparator, in Hash256 headerHash, long height, int round)
    {
        Span<byte> structWords = stackalloc byte[4 * 32];
        structWords.Clear();
        TypeHash.CopyTo(structWords);
        headerHash.CopyTo(structWords[32..]);
        BinaryPrimitives.WriteUInt64BigEndian(structWords[(64 + 24)..], checked((ulong)height));
        BinaryPrimitives.WriteUInt32BigEndian(structWords[(96 + 28)..], checked((uint)round));

        Span<byte> message = stackalloc byte[2 + 32 + 32];
        message[0] = 0x19;
        message[1] = 0x01;
        domainSeparator.CopyTo(message[2..]);
        Keccak256.Hash(structWords, message[34..]);
        return Keccak256.Hash(message);
    }

    /// <summary>Seals <paramref name="header"/> with a validator's private key.</summary>
    public static Signature Sign(ISecp256k1 curve, in Hash256 domainSeparator, BlockHeader header, ReadOnlySpan<byte> validatorKey)
        => curve.Sign(Digest(domainSeparator, header.Hash, header.Height, header.Round), validatorKey);
}
