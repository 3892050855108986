using System.Runtime.InteropServices;

namespace SmartCity.Ledger.Crypto;

/// <summary>One item of a batch check: this digest must carry this signature by this signer.</summary>
[StructLayout(LayoutKind.Auto)]
public readonly struct SignedDigest(Hash256 digest, Signature signature, Address expectedSigner)
{
    public Hash256 Digest { get; } = digest;

    public Signature Signature { get; } = signature;

    public Address ExpectedSigner { get; } = expectedSigner;
}
