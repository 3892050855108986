namespace SmartCity.Ledger.Crypto;

/// <summary>
/// secp256k1 as Ethereum uses it, the eth suite's <see cref="ISignatureScheme"/>: RFC 6979 deterministic, low-s
/// (EIP-2) recoverable signatures over 32-byte digests, with identities as <see cref="Address"/>es (last 20 bytes of
/// Keccak-256(x‖y)). <see cref="ISignatureScheme.Sign"/> returns 65 bytes r‖s‖v with v = 27 + recovery id, the same
/// bytes ethers' <c>SigningKey.sign</c> and <c>eth_signTypedData_v4</c> give; <see cref="ISignatureScheme.Recover"/>
/// rejects malformed and high-s signatures. Two implementations give byte-identical answers:
/// <see cref="NativeSecp256k1"/> (libsecp256k1) and <see cref="ManagedSecp256k1"/> (BouncyCastle).
/// Pick one with <see cref="Secp256k1.Create(Microsoft.Extensions.Logging.ILogger?)"/>. Implementations are thread-safe.
/// </summary>
public interface ISecp256k1 : ISignatureScheme
{
    CryptoSuiteId ISignatureScheme.Suite => CryptoSuiteId.Eth;
}
