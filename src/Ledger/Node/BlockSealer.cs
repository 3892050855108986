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

/// <summary>
/// Seals through the validator's <see cref="ISigner"/>: a keystore or PKCS#11 key opened by the keys issue's
/// <c>KeySource.OpenSigner</c>, or an in-memory test key. The sealer does not own the signer; whoever opened it
/// disposes it after the node stopped.
/// </summary>
public sealed class SignerBlockSealer : IBlockSealer
{
    private readonly ISigner _signer;
    private readonly Hash256 _domainSeparator;

    public SignerBlockSealer(ISigner signer, Hash256 domainSeparator)
    {
        ArgumentNullException.ThrowIfNull(signer);
        _signer = signer;
        _domainSeparator = domainSeparator;
    }

    public Address Validator => _signer.Address;

    public ValueTask<Signature> SealAsync(BlockHeader header, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(header);
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(CommitSeal.Sign(_signer, _domainSeparator, header));
    }
}
