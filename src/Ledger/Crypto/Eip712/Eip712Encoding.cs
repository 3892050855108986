namespace SmartCity.Ledger.Crypto.Eip712;

/// <summary>The final step every EIP-712 signature shares.</summary>
public static class Eip712Encoding
{
    /// <summary>
    /// keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ structHash); with no struct hash (primary type EIP712Domain) just
    /// keccak256(0x19 ‖ 0x01 ‖ domainSeparator).
    /// </summary>
    public static Hash256 Digest(in Hash256 domainSeparator, Hash256? structHash)
    {
        Span<byte> preimage = stackalloc byte[2 + (2 * Hash256.Size)];
        preimage[0] = 0x19;
        preimage[1] = 0x01;
        domainSeparator.CopyTo(preimage[2..]);
        if (structHash is { } hash)
        {
            hash.CopyTo(preimage[(2 + Hash256.Size)..]);
            return Keccak256.Hash(preimage);
        }

        return Keccak256.Hash(preimage[..(2 + Hash256.Size)]);
    }

    /// <summary>H(0x19 ‖ 0x01 ‖ domainSeparator ‖ structHash) with H the suite's hash (Keccak-256 or SM3).</summary>
    public static Hash256 Digest(CryptoSuite suite, in Hash256 domainSeparator, in Hash256 structHash)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return suite.StructuredDigest(domainSeparator, structHash);
    }

    /// <summary>The digest to sign for a typed ledger message under a domain, in the domain's crypto suite.</summary>
    public static Hash256 Digest<T>(Eip712Domain domain, in T message)
        where T : IEip712Struct
    {
        ArgumentNullException.ThrowIfNull(domain);
        return domain.Suite.StructuredDigest(domain.Separator, Eip712StructHasher.Hash(message, domain.Suite));
    }
}
