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

    // One EIP-712 hasher a thread, reused transaction after transaction (see StructHash).
    [ThreadStatic]
    private static Eip712MessageHasher? _hasher;

    public TransactionKind Kind => Body.Kind;

    /// <summary>EIP-712 <c>hashStruct</c> of the message (eth): the primary type is the kind, nonce its first member.</summary>
    public static Hash256 StructHash(ulong nonce, ITransactionBody body) => StructHash(nonce, body, CryptoSuite.Eth);

    /// <summary><c>hashStruct</c> of the message with <paramref name="suite"/>'s hash in every place.</summary>
    public static Hash256 StructHash(ulong nonce, ITransactionBody body, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(body);

        // One hasher a thread, taken while in use (a body that hashed a struct of its own would get a new one).
        var primaryType = TransactionCatalogue.PrimaryType(body.Kind);
        var hasher = _hasher ?? new Eip712MessageHasher(primaryType, suite);
        _hasher = null;
        hasher.Reset(primaryType, suite);
        hasher.UInt64(NonceField, nonce);
        body.WriteFields(hasher);
        var hash = hasher.HashStruct();
        _hasher = hasher;
        return hash;
    }

    /// <summary>
    /// The domain tag of a transaction id, ASCII <c>SmartCity.Ledger/tx-id/v1</c> and one NUL byte (26 bytes): no other
    /// hash the ledger computes starts with it, so an id never equals a signed digest, a state key, a header hash or a
    /// history-tree node.
    /// </summary>
    public static ReadOnlySpan<byte> IdTag => "SmartCity.Ledger/tx-id/v1\0"u8;

    /// <summary>
    /// The digest the signer signs, in the domain's suite: <c>H(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct)</c>
    /// (H = Keccak-256: the EIP-712 digest any Ethereum wallet shows and signs; SM3 for gm). It does not name the
    /// signer, so it is not the transaction id (<see cref="Hash"/>).
    /// </summary>
    public Hash256 SigningDigest(Eip712Domain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        return Eip712Encoding.Digest(domain.Suite, domain.Separator, StructHash(Nonce, Body, domain.Suite));
    }

    /// <summary>
    /// The transaction id (transaction hash) in the domain's suite: <c>H(IdTag ‖ signingDigest ‖ signer)</c>, see
    /// <see cref="Id(CryptoSuite, in Hash256, in Address)"/>. It covers the signer, so two members who sign
    /// byte-identical bodies at the same nonce send two transactions with two ids.
    /// </summary>
    public Hash256 Hash(Eip712Domain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        return Id(domain.Suite, SigningDigest(domain), Signer);
    }

    /// <summary>
    /// A transaction id from its signing digest and signer: <c>H("SmartCity.Ledger/tx-id/v1\0" ‖ digest (32) ‖ signer
    /// (20))</c>, 78 bytes hashed with the suite's hash (Keccak-256 or SM3). In ethers:
    /// <c>solidityPackedKeccak256(["string", "bytes32", "address"], ["SmartCity.Ledger/tx-id/v1\0", digest, signer])</c>.
    /// The signature is not covered (docs/domain.md, "Transaction id").
    /// </summary>
    public static Hash256 Id(CryptoSuite suite, in Hash256 signingDigest, in Address signer)
    {
        ArgumentNullException.ThrowIfNull(suite);
        Span<byte> buffer = stackalloc byte[IdTag.Length + Hash256.Size + Address.Size];
        IdTag.CopyTo(buffer);
        signingDigest.Bytes.CopyTo(buffer[IdTag.Length..]);
        signer.Bytes.CopyTo(buffer[(IdTag.Length + Hash256.Size)..]);
        return suite.Hash(buffer);
    }

    /// <summary>Signs <paramref name="body"/> as <paramref name="signer"/>'s address with <paramref name="nonce"/> (what a member's wallet does).</summary>
    public static SignedTransaction Sign(ISigner signer, Eip712Domain domain, ulong chainId, ulong nonce, ITransactionBody body)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var unsigned = new SignedTransaction(chainId, signer.Address, nonce, body, default);
        return unsigned with { Signature = signer.Sign(unsigned.SigningDigest(domain)) };
    }
}
