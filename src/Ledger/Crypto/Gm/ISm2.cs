namespace SmartCity.Ledger.Crypto.Gm;

/// <summary>
/// SM2 signatures (GB/T 32918.2-2016, GM/T 0003.2-2012) as GM/T 0009-2012 uses them, the gm suite's
/// <see cref="ISignatureScheme"/>: the signed value is e = SM3(Z ‖ M) with Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA)
/// over the curve sm2p256v1 and the distinguishing identifier <see cref="DistinguishingId"/> (GM/T 0009's default
/// <c>1234567812345678</c> unless genesis names another), and M is the ledger's 32-byte digest. A signature is
/// r‖s‖x‖y (<see cref="Signature.Sm2"/>); "recovering" the signer means verifying against the carried key x‖y and
/// deriving its address (<see cref="Sm2.AddressOf"/>).
/// </summary>
public interface ISm2 : ISignatureScheme
{
    /// <summary>The distinguishing identifier (user ID) hashed into Z.</summary>
    ReadOnlySpan<byte> DistinguishingId { get; }
}
