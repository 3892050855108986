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

    /// <summary>The sample as an eth_signTypedData_v4 document (what a wallet or Nethereum signs), with the same digest.</summary>
    public static string TypedDataJson()
    {
        var m = Sample;
        var document = new System.Text.Json.Nodes.JsonObject
        {
            ["types"] = new System.Text.Json.Nodes.JsonObject
            {
                ["EIP712Domain"] = Fields("name string", "version string", "chainId uint256"),
                ["CreditRecord"] = Fields(StructType.Fields.Split(',').Select(f => string.Join(' ', f.Split(' ').Reverse())).ToArray()),
            },
            ["primaryType"] = "CreditRecord",
            ["domain"] = new System.Text.Json.Nodes.JsonObject { ["name"] = Domain.Name, ["version"] = Domain.Version, ["chainId"] = (long)Domain.ChainId!.Value },
            ["message"] = new System.Text.Json.Nodes.JsonObject
            {
                ["recordId"] = m.RecordId.ToString(),
                ["subject"] = m.Subject.ToString(),
                ["kind"] = m.Kind,
                ["severity"] = m.Severity,
                ["region"] = m.Region,
                ["source"] = m.Source.ToString(),
                ["legalBasis"] = m.LegalBasis,
                ["publishedAt"] = m.PublishedAt,
                ["expiresAt"] = m.ExpiresAt,
                ["nonce"] = m.Nonce,
                ["payloadHash"] = m.PayloadHash.ToString(),
            },
        };
        return document.ToJsonString();

        static System.Text.Json.Nodes.JsonArray Fields(params string[] nameTypes)
            => [.. nameTypes.Select(nt => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject { ["name"] = nt.Split(' ')[0], ["type"] = nt.Split(' ')[1] })];
    }

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
