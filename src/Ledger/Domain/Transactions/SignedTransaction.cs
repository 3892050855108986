using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.Ledger.Domain.Transactions;

/// <summary>
/// The envelope: the kind's fields, the signer it claims, the signer's nonce, the chain and the signature over the
/// EIP-712(-shaped) digest of <c>{nonce, ...fields}</c> in the chain's crypto suite: 65 bytes secp256k1 r ‖ s ‖ v
/// (v = 27 or 28) for eth, 128 bytes SM2 r ‖ s ‖ x ‖ y for gm.
/// </summary>
public sealed record SignedTransaction(ulong ChainId, Address Signer, ulong Nonce, ITransactionBody Body, Signature Signature)
{
    public const string NonceField = "nonce";

    public TransactionKind Kind => Body.Kind;

    /// <summary>EIP-712 <c>hashStruct</c> of the message (eth): the primary type is the kind, nonce its first member.</summary>
    public static Hash256 StructHash(ulong nonce, ITransactionBody body) => StructHash(nonce, body, CryptoSuite.Eth);

    /// <summary><c>hashStruct</c> of the message with <paramref name="suite"/>'s hash in every place.</summary>
    public static Hash256 StructHash(ulong nonce, ITransactionBody body, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(body);
        var hasher = new Eip712MessageHasher(TransactionCatalogue.PrimaryType(body.Kind), suite);
        hasher.UInt64(NonceField, nonce);
        body.WriteFields(hasher);
        return hasher.HashStruct();
    }

    /// <summary>
    /// The transaction hash (transaction id) is the EIP-712 digest that the signer signed, in the domain's suite:
    /// <c>H(0x1901 ‖ domainSeparator ‖ hashStruct)</c> (H = Keccak-256: any Ethereum tool computes the same id; SM3 for gm).
    /// </summary>
    public Hash256 Hash(Eip712Domain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        return Eip712Encoding.Digest(domain.Suite, domain.Separator, StructHash(Nonce, Body, domain.Suite));
    }

    /// <summary>Signs <paramref name="body"/> as <paramref name="signer"/>'s address with <paramref name="nonce"/> (what a member's wallet does).</summary>
    public static SignedTransaction Sign(ISigner signer, Eip712Domain domain, ulong chainId, ulong nonce, ITransactionBody body)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var unsigned = new SignedTransaction(chainId, signer.Address, nonce, body, default);
        return unsigned with { Signature = signer.Sign(unsigned.Hash(domain)) };
    }
}
