using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.Benchmarks.Crypto;

/// <summary>A credit-record-sized EIP-712 message (eleven fields, two strings) as the domain layer will define it.</summary>
public readonly record struct CreditRecordMessage(
    Hash256 RecordId, Hash256 Subject, byte Kind, byte Severity, string Region, Address Source, string LegalBasis,
    ulong PublishedAt, ulong ExpiresAt, ulong Nonce, Hash256 PayloadHash) : IEip712Struct
{
    public static Eip712StructType StructType { get; } = new(
        "CreditRecord",
        "bytes32 recordId,bytes32 subject,uint8 kind,uint8 severity,string region,address source,string legalBasis,uint64 publishedAt,uint64 expiresAt,uint64 nonce,bytes32 payloadHash");

    public static Eip712Domain Domain { get; } = new("SmartCity.Ledger", "1", 3101);

    public static CreditRecordMessage Sample { get; } = new(
        Keccak256.Hash("record-1"u8), Keccak256.Hash("91110000MA01ABCD2X"u8), 2, 3, "北京市", Address.Parse("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"),
        "《企业信息公示暂行条例》第十八条", 1_763_700_000, 1_858_308_000, 42, Keccak256.Hash("payload"u8));

    public void WriteFields(ref Eip712StructWriter writer)
    {
        writer.WriteBytes32(RecordId);
        writer.WriteBytes32(Subject);
        writer.WriteUInt(Kind);
        writer.WriteUInt(Severity);
        writer.WriteString(Region);
        writer.WriteAddress(Source);
        writer.WriteString(LegalBasis);
        writer.WriteUInt(PublishedAt);
        writer.WriteUInt(ExpiresAt);
        writer.WriteUInt(Nonce);
        writer.WriteBytes32(PayloadHash);
    }
}

internal static class CryptoSamples
{
    /// <summary>A fixed key so every run signs the same digests.</summary>
    public static byte[] PrivateKey(int index)
    {
        var key = Keccak256.Hash(BitConverter.GetBytes(index)).ToArray();
        return Secp256k1.IsValidPrivateKey(key) ? key : PrivateKey(index + 1_000_000);
    }

    public static NativeSecp256k1 Native
        => NativeSecp256k1.TryLoad(out var native, out var reason) ? native : throw new InvalidOperationException(reason);
}
