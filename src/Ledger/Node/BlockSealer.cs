using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Node;

/// <summary>
/// A validator's seal over a block header (<see cref="CommitSeal"/>): the one thing the node signs with a validator
/// key. Asynchronous because a hardware token may take its time.
/// </summary>
public interface IBlockSealer
{
    /// <summary>The validator this sealer signs as.</summary>
    Address Validator { get; }

    ValueTask<Signature> SealAsync(BlockHeader header, CancellationToken cancellationToken);
}

/// <summary>Seals with a private key held in memory (development keys; a keystore or PKCS#11 signer replaces it).</summary>
public sealed class KeyBlockSealer : IBlockSealer
{
    private readonly ISecp256k1 _curve;
    private readonly Hash256 _domainSeparator;
    private readonly byte[] _key;

    public KeyBlockSealer(ISecp256k1 curve, Hash256 domainSeparator, ReadOnlySpan<byte> privateKey)
    {
        ArgumentNullException.ThrowIfNull(curve);
        if (!curve.IsValidPrivateKey(privateKey))
        {
            throw new ArgumentException("not a valid secp256k1 private key", nameof(privateKey));
        }

        _curve = curve;
        _domainSeparator = domainSeparator;
        _key = privateKey.ToArray();
        Validator = curve.GetAddress(privateKey);
    }

    public Address Validator { get; }

    public ValueTask<Signature> SealAsync(BlockHeader header, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(header);
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(CommitSeal.Sign(_curve, _domainSeparator, header, _key));
    }
}
