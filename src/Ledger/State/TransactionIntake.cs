using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.State;

/// <summary>
/// A transaction decoded once, with its id (<see cref="SignedTransaction.Hash"/>, covering the signer), the digest its
/// signer signed (<see cref="SignedTransaction.SigningDigest"/>) and its envelope checked: size, canonical form and
/// chain id. Plain data: holding one proves nothing about the signature (see <see cref="VerifiedTransaction"/>).
/// </summary>
public sealed record DecodedTransaction(SignedTransaction Transaction, Hash256 Hash, Hash256 Digest, ReadOnlyMemory<byte> Bytes)
{
    /// <summary>The signature item a batch verifier checks: the signed digest, this signature, the claimed signer.</summary>
    public SignedDigest SignedDigest => new(Digest, Transaction.Signature, Transaction.Signer);
}

/// <summary>
/// A transaction whose signature has been checked to be the claimed signer's (low-s, EIP-2) under one EIP-712 domain.
/// Only <see cref="TransactionIntake"/> makes one, so the state machine and the block builder apply it without
/// recovering the signer again: a node decodes and verifies each transaction once, whatever stages it passes.
/// </summary>
public sealed class VerifiedTransaction
{
    internal VerifiedTransaction(DecodedTransaction decoded, Hash256 domainSeparator)
    {
        Decoded = decoded;
        DomainSeparator = domainSeparator;
    }

    public DecodedTransaction Decoded { get; }

    public SignedTransaction Transaction => Decoded.Transaction;

    /// <summary>The transaction id: <c>H(tag ‖ signing digest ‖ signer)</c> (docs/domain.md, "Transaction id").</summary>
    public Hash256 Hash => Decoded.Hash;

    /// <summary>The canonical bytes, exactly as submitted.</summary>
    public ReadOnlyMemory<byte> Bytes => Decoded.Bytes;

    public Address Signer => Decoded.Transaction.Signer;

    public ulong Nonce => Decoded.Transaction.Nonce;

    /// <summary>The separator of the domain the signature was checked under; another domain's machine checks again.</summary>
    public Hash256 DomainSeparator { get; }

    public override string ToString() => $"{Hash} ({Transaction.Kind} by {Signer}, nonce {Nonce})";
}

/// <summary>
/// The outcome of checking one submitted transaction's envelope: the transaction when it passes, otherwise the
/// rejection code (one of the envelope codes of <see cref="RejectionCode"/>) and a precise reason.
/// </summary>
public readonly record struct IntakeResult<T>(T? Transaction, Hash256 Hash, RejectionCode Code, string Reason)
    where T : class
{
    public bool IsAccepted => Transaction is not null;

    public static IntakeResult<T> Accept(T transaction, Hash256 hash) => new(transaction, hash, RejectionCode.None, string.Empty);

    public static IntakeResult<T> Reject(Hash256 hash, RejectionCode code, string reason) => new(null, hash, code, reason);
}

/// <summary>
/// The envelope checks every transaction passes once on its way into a node, in order: size, canonical decoding,
/// chain id, then the signature through a <see cref="SignatureBatchVerifier"/> (and its cache) for many
/// transactions at once. The state machine applies the rules; this only decides whether bytes are a transaction
/// the claimed signer signed for this chain.
/// </summary>
public static class TransactionIntake
{
    /// <summary>Size, decoding and chain id; computes the id. Cheap and allocation-light: run it on any thread.</summary>
    public static IntakeResult<DecodedTransaction> Decode(ReadOnlyMemory<byte> bytes, ulong chainId, Eip712Domain domain, int maxTransactionBytes)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (bytes.Length > maxTransactionBytes)
        {
            return IntakeResult<DecodedTransaction>.Reject(default, RejectionCode.TransactionTooLarge, $"{bytes.Length} bytes exceed the limit of {maxTransactionBytes}");
        }

        var decoded = TransactionCodec.Decode(bytes);
        if (decoded.Transaction is not { } tx)
        {
            return IntakeResult<DecodedTransaction>.Reject(default, RejectionCode.Malformed, decoded.Error!);
        }

        var digest = tx.SigningDigest(domain);
        var hash = SignedTransaction.Id(domain.Suite, digest, tx.Signer);
        return tx.ChainId != chainId
            ? IntakeResult<DecodedTransaction>.Reject(hash, RejectionCode.WrongChainId, $"chain {tx.ChainId} is not this consortium's chain {chainId}")
            : IntakeResult<DecodedTransaction>.Accept(new DecodedTransaction(tx, hash, digest, bytes), hash);
    }

    /// <summary>
    /// Checks the signatures of <paramref name="transactions"/> in one batch (spread over the cores, through the
    /// verifier's cache) and writes each verdict to <paramref name="results"/>. High-s, malformed and unrecoverable
    /// signatures are <see cref="RejectionCode.BadSignature"/>; a valid signature by another key is
    /// <see cref="RejectionCode.SignerMismatch"/>.
    /// </summary>
    public static void Verify(IReadOnlyList<DecodedTransaction> transactions, Eip712Domain domain, SignatureBatchVerifier verifier, Span<IntakeResult<VerifiedTransaction>> results)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(verifier);
        if (results.Length < transactions.Count)
        {
            throw new ArgumentException("results must have room for every transaction", nameof(results));
        }

        var items = new SignedDigest[transactions.Count];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = transactions[i].SignedDigest;
        }

        var checks = new SignatureCheck[items.Length];
        verifier.Verify(items, checks);
        for (var i = 0; i < items.Length; i++)
        {
            results[i] = Verdict(transactions[i], checks[i], domain.Separator);
        }
    }

    /// <summary>One transaction's signature, through the verifier's cache.</summary>
    public static IntakeResult<VerifiedTransaction> Verify(DecodedTransaction transaction, Eip712Domain domain, SignatureBatchVerifier verifier)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(verifier);
        return Verdict(transaction, verifier.Verify(transaction.SignedDigest), domain.Separator);
    }

    private static IntakeResult<VerifiedTransaction> Verdict(DecodedTransaction transaction, SignatureCheck check, Hash256 domainSeparator) => check switch
    {
        SignatureCheck.Ok => IntakeResult<VerifiedTransaction>.Accept(new VerifiedTransaction(transaction, domainSeparator), transaction.Hash),
        SignatureCheck.WrongSigner => IntakeResult<VerifiedTransaction>.Reject(transaction.Hash, RejectionCode.SignerMismatch, $"the signature is not by the claimed signer {transaction.Transaction.Signer}"),
        _ => IntakeResult<VerifiedTransaction>.Reject(transaction.Hash, RejectionCode.BadSignature, $"signature check failed: {check}"),
    };
}
