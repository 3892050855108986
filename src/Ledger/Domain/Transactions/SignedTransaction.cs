using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.Ledger.Domain.Transactions;

/// <summary>
/// The envelope: the kind's fields, the signer it claims, the signer's nonce, the chain and the 65-byte
/// secp256k1 signature (r ‖ s ‖ v, v = 27 or 28) over the EIP-712 digest of <c>{nonce, ...fields}</c>.
/// </summary>
public sealed record SignedTransaction(ulong ChainId, Address Signer, ulong Nonce, ITransactionBody Body, Signature Signature)
{
    public const string NonceField = "nonce";

    public TransactionKind Kind => Body.Kind;

    /// <summary>EIP-712 <c>hashStruct</c> of the message: the primary type is the kind, nonce its first member.</summary>
    public static Hash256 StructHash(ulong nonce, ITransactionBody body)
    {
        var hasher = new Eip712MessageHasher(TransactionCatalogue.PrimaryType(body.Kind));
        hasher.UInt64(NonceField, nonce);
        body.WriteFields(hasher);
        return hasher.HashStruct();
    }

    /// <summary>
    /// The transaction hash (transaction id) is the EIP-712 digest that the signer signed:
    /// <c>keccak256(0x1901 ‖ domainSeparator ‖ hashStruct)</c>. Any Ethereum tool computes the same id.
    /// </summary>
    public Hash256 Hash(Eip712Domain domain) => Eip712Encoding.Digest(domain.Separator, StructHash(Nonce, Body));

    /// <summary>Signs <paramref name="body"/> as <paramref name="signer"/>'s address with <paramref name="nonce"/> (what a member's wallet does).</summary>
    public static SignedTransaction Sign(ISigner signer, Eip712Domain domain, ulong chainId, ulong nonce, ITransactionBody body)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var unsigned = new SignedTransaction(chainId, signer.Address, nonce, body, default);
        return unsigned with { Signature = signer.Sign(unsigned.Hash(domain)) };
    }
}
