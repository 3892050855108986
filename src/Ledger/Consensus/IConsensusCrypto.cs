using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.Ledger.Consensus;

/// <summary>
/// The one seam through which the consensus engine hashes and checks signatures (the other is
/// the validator's <see cref="ISigner"/>: keystore, PKCS#11 or in memory). The chain's crypto suite (DESIGN.md §3: <c>eth</c> today, <c>gm</c> later) plugs
/// in here and nowhere else in the consensus code.
/// </summary>
public interface IConsensusCrypto
{
    /// <summary>For logs: which suite this is.</summary>
    string Name { get; }

    /// <summary>The digest a validator signs for a consensus message payload.</summary>
    Hash256 MessageDigest<T>(in T payload)
        where T : struct, IEip712Struct;

    /// <summary>The digest of a commit seal over (header hash, height, round): what the block's certificate holds.</summary>
    Hash256 SealDigest(in Hash256 headerHash, long height, int round);

    /// <summary>Checks that <paramref name="item"/>'s signature over its digest is by its expected signer (low-s only).</summary>
    SignatureCheck Verify(in SignedDigest item);

    /// <summary>Checks many at once; <c>results[i]</c> is the verdict on <c>items[i]</c>.</summary>
    void Verify(ReadOnlySpan<SignedDigest> items, Span<SignatureCheck> results);
}

/// <summary>
/// The <c>eth</c> suite: EIP-712 digests under the consortium's domain (Keccak-256) and recoverable secp256k1
/// signatures checked through the node's <see cref="SignatureBatchVerifier"/> and its cache, so a message that arrives
/// twice, or inside a proposal's justification, is verified once.
/// </summary>
public sealed class Eip712ConsensusCrypto : IConsensusCrypto
{
    private readonly Hash256 _domainSeparator;
    private readonly SignatureBatchVerifier _verifier;
    private readonly CryptoSuite _suite;

    /// <summary>Digests in the suite of <paramref name="verifier"/>'s scheme (Keccak-256 for eth, SM3 for gm).</summary>
    public Eip712ConsensusCrypto(in Hash256 domainSeparator, SignatureBatchVerifier verifier)
    {
        ArgumentNullException.ThrowIfNull(verifier);
        _domainSeparator = domainSeparator;
        _verifier = verifier;
        _suite = CryptoSuite.For(verifier.Scheme.Suite);
    }

    public string Name => $"{_suite.Name} (EIP-712, {_verifier.Scheme.Name})";

    public Hash256 DomainSeparator => _domainSeparator;

    public Hash256 MessageDigest<T>(in T payload)
        where T : struct, IEip712Struct
        => Eip712Encoding.Digest(_suite, _domainSeparator, Eip712StructHasher.Hash(payload, _suite));

    public Hash256 SealDigest(in Hash256 headerHash, long height, int round) => CommitSeal.Digest(_suite, _domainSeparator, headerHash, height, round);

    public SignatureCheck Verify(in SignedDigest item) => _verifier.Verify(item);

    public void Verify(ReadOnlySpan<SignedDigest> items, Span<SignatureCheck> results) => _verifier.Verify(items, results);
}
