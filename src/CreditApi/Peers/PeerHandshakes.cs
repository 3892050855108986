using System.Security.Cryptography;
using Google.Protobuf;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Peers;

/// <summary>
/// The signed handshake of a peer link (docs/consensus.md, "Peer network"): both sides sign
/// <see cref="PeerHandshake"/> through their <see cref="ISigner"/>, digests and checks go through the consensus crypto
/// seam (<see cref="IConsensusCrypto"/>), so the link is bound to the chain id (the EIP-712 domain), the genesis hash,
/// both validators and both fresh nonces.
/// </summary>
public sealed class PeerHandshakes(IConsensusCrypto crypto, ISigner signer)
{
    public const int NonceBytes = 32;

    public Address Self => signer.Address;

    /// <summary>32 fresh random bytes.</summary>
    public static Hash256 NewNonce()
    {
        Span<byte> nonce = stackalloc byte[NonceBytes];
        RandomNumberGenerator.Fill(nonce);
        return new Hash256(nonce);
    }

    public Signature Sign(in PeerHandshake handshake)
    {
        if ((handshake.FromDialer ? handshake.Dialer : handshake.Listener) != signer.Address)
        {
            throw new InvalidOperationException("a validator signs only its own side of a handshake");
        }

        return signer.Sign(crypto.MessageDigest(handshake));
    }

    /// <summary>Whether <paramref name="signature"/> is the signature of the handshake's signing side (low-s only).</summary>
    public bool Verify(in PeerHandshake handshake, ByteString signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (!Signature.TryRead(signature.Span, out var read))
        {
            return false; // neither 65 bytes (eth) nor 128 (gm); the verifier refuses the other suite's
        }

        var expected = handshake.FromDialer ? handshake.Dialer : handshake.Listener;
        return crypto.Verify(new SignedDigest(crypto.MessageDigest(handshake), read, expected)) == SignatureCheck.Ok;
    }

    public static bool TryReadAddress(ByteString bytes, out Address address)
    {
        address = default;
        if (bytes is null || bytes.Length != 20)
        {
            return false;
        }

        address = new Address(bytes.Span);
        return true;
    }

    public static bool TryReadHash(ByteString bytes, out Hash256 hash)
    {
        hash = default;
        if (bytes is null || bytes.Length != 32)
        {
            return false;
        }

        hash = new Hash256(bytes.Span);
        return true;
    }
}
