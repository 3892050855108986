namespace SmartCity.Ledger.Crypto.Gm;

/// <summary>One SM2 path's check of r‖s over a message under the public key the signature carries.</summary>
internal interface ISm2MessageVerifier
{
    /// <summary>Whether r‖s verifies over any message M under the carried key (false for a point off the curve).</summary>
    bool VerifyMessage(ReadOnlySpan<byte> message, in Signature signature);
}
