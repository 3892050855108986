namespace SmartCity.Ledger.Crypto;

/// <summary>The verdict on a signature: expected failures are values, never exceptions.</summary>
public enum SignatureCheck
{
    /// <summary>The signature is well formed and recovers to the expected signer (or to a signer, for recovery).</summary>
    Ok = 0,

    /// <summary>The input had the wrong number of bytes (a signature is 65, a digest 32).</summary>
    InvalidLength,

    /// <summary>v is not one of 0, 1, 27, 28.</summary>
    BadRecoveryId,

    /// <summary>r or s is zero or not below the group order n.</summary>
    OutOfRange,

    /// <summary>s is above n/2: EIP-2 allows only the low-s form, so each signature has one encoding.</summary>
    HighS,

    /// <summary>Well formed, but no public key recovers from it (r is not the x of a curve point).</summary>
    Invalid,

    /// <summary>Valid, but recovers to an address other than the expected signer.</summary>
    WrongSigner,

    /// <summary>The signature is in another crypto suite's form (an SM2 r‖s‖x‖y on an eth chain, or r‖s‖v on a gm chain).</summary>
    WrongSuite,
}
