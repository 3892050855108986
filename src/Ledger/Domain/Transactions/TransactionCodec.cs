using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Domain.Transactions;

/// <summary>Either a decoded transaction or the reason the bytes are not one.</summary>
public readonly record struct DecodeResult(SignedTransaction? Transaction, string? Error)
{
    public bool IsValid => Transaction is not null;
}

/// <summary>
/// Canonical bytes of a transaction: <c>0x01 (format) ‖ kind u8 ‖ chainId u64 ‖ signer 20 ‖ nonce u64 ‖ fields ‖
/// signature</c>, the fields in the encoding of <see cref="CanonicalWriter"/>, the signature 65 bytes (eth, r‖s‖v) or
/// 128 bytes (gm, SM2 r‖s‖x‖y): its length says its suite, and the chain refuses the other suite's form
/// (<see cref="SignatureCheck.WrongSuite"/>). Decoding accepts exactly the bytes <see cref="Encode"/> produces (no
/// trailing bytes, no unknown kind or format, no non-canonical form).
/// </summary>
public static class TransactionCodec
{
    public const byte FormatVersion = 1;

    public static byte[] Encode(SignedTransaction transaction)
    {
        var writer = new CanonicalWriter();
        writer.WriteByte(FormatVersion);
        writer.WriteByte((byte)transaction.Kind);
        writer.WriteUInt64(transaction.ChainId);
        writer.WriteRaw(transaction.Signer.Bytes);
        writer.WriteUInt64(transaction.Nonce);
        transaction.Body.WriteFields(writer);
        writer.WriteRaw(transaction.Signature.Bytes);
        return writer.ToArray();
    }

    public static DecodeResult Decode(ReadOnlyMemory<byte> bytes)
    {
        var reader = new CanonicalReader(bytes, bytes.Length);
        var format = reader.ReadByte();
        if (!reader.Failed && format != FormatVersion)
        {
            return new DecodeResult(null, $"unknown format version {format}");
        }

        var kind = (TransactionKind)reader.ReadByte();
        if (!reader.Failed && !TransactionCatalogue.IsKnown(kind))
        {
            return new DecodeResult(null, $"unknown transaction kind {(byte)kind}");
        }

        var chainId = reader.ReadUInt64();
        var signer = reader.ReadRaw(Address.Size) is { Length: Address.Size } s ? new Address(s) : default;
        var nonce = reader.ReadUInt64();
        var body = reader.Failed ? null : TransactionCatalogue.Read(kind, reader);
        var signature = default(Signature);
        if (!reader.Failed)
        {
            // The signature is what is left: 65 bytes (eth) or 128 (gm); any other length fails below.
            var size = reader.Remaining == Signature.Sm2Size ? Signature.Sm2Size : Signature.Size;
            if (Signature.TryRead(reader.ReadRaw(size), out var read))
            {
                signature = read;
            }
        }

        return reader.Finish() && body is not null
            ? new DecodeResult(new SignedTransaction(chainId, signer, nonce, body, signature), null)
            : new DecodeResult(null, reader.Error ?? "truncated");
    }
}
