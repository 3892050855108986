namespace SmartCity.Ledger.Crypto;

/// <summary>
/// Whatever holds a key and signs with it: an in-memory key (<see cref="InMemorySigner"/>, tests and development),
/// a decrypted Web3 Secret Storage keystore or a PKCS#11 token (SmartCity.Ledger.Keys). Everything in the ledger that
/// signs — transactions, commit seals, consensus messages, API requests — takes an <see cref="ISigner"/>; nothing
/// outside an implementation ever sees private-key bytes.
/// </summary>
/// <remarks>
/// Synchronous on purpose: the consensus engine is a pure synchronous state machine and PKCS#11 calls are blocking.
/// An implementation returns only complete, valid signatures: a device that fails mid-way throws and returns nothing.
/// Implementations are thread-safe. Whoever opens a signer owns it and disposes it if it is <see cref="IDisposable"/>.
/// </remarks>
public interface ISigner
{
    /// <summary>The signer's identity: the Ethereum address of its public key.</summary>
    Address Address { get; }

    /// <summary>
    /// Signs a 32-byte digest: the 65-byte recoverable secp256k1 signature r‖s‖v with low s (EIP-2) and v = 27 + the
    /// recovery id, the form <see cref="ISignatureScheme.Recover"/> accepts and ethers and wallets produce.
    /// </summary>
    Signature Sign(in Hash256 digest);
}
