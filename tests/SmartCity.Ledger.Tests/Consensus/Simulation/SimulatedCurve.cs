using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.Consensus.Simulation;

/// <summary>
/// A stand-in for secp256k1 that costs a Keccak-256 instead of an elliptic-curve recovery, so the simulator can run
/// thousands of seeds. A signature is (12 zero bytes ‖ signer address) ‖ Keccak-256(private key ‖ digest) ‖ 27: only the
/// holder of the private key can produce it, and recovery checks it against the key this curve registered for the
/// address — the simulation's PKI. Everything above the curve (EIP-712 digests, the batch verifier and its cache,
/// <c>CommitCertificate.Verify</c>) is the production code. Seeds with the real curve run beside these.
/// </summary>
internal sealed class SimulatedCurve : ISecp256k1
{
    private readonly Dictionary<Address, byte[]> _keys = [];

    public string Name => "simulated (Keccak-256 MAC)";

    /// <summary>A deterministic private key for validator <paramref name="index"/> of a simulation seeded with <paramref name="seed"/>.</summary>
    public byte[] Register(int seed, int index)
    {
        var key = Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes($"sim-key/{seed}/{index}")).ToArray();
        _keys[GetAddress(key)] = key;
        return key;
    }

    public void GeneratePrivateKey(Span<byte> privateKey) => throw new NotSupportedException("simulated keys come from Register");

    public bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey) => privateKey.Length == 32;

    public void GetPublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey64)
    {
        Keccak256.Hash(privateKey, publicKey64[..32]);
        publicKey64[32..].Clear();
    }

    public Address GetAddress(ReadOnlySpan<byte> privateKey)
    {
        Span<byte> hash = stackalloc byte[32];
        Keccak256.Hash(privateKey, hash);
        return new Address(hash[12..]);
    }

    public Signature Sign(in Hash256 digest, ReadOnlySpan<byte> privateKey)
    {
        Span<byte> r = stackalloc byte[32];
        r[..12].Clear();
        GetAddress(privateKey).Bytes.CopyTo(r[12..]);
        return new Signature(r, Mac(privateKey, digest).Bytes, 27);
    }

    public SignatureCheck Recover(in Hash256 digest, in Signature signature, out Address signer)
    {
        signer = default;
        if (signature.V != 27 || signature.R[..12].ContainsAnyExcept((byte)0))
        {
            return SignatureCheck.Invalid;
        }

        var claimed = new Address(signature.R[12..]);
        if (!_keys.TryGetValue(claimed, out var key) || !Mac(key, digest).Bytes.SequenceEqual(signature.S))
        {
            return SignatureCheck.Invalid;
        }

        signer = claimed;
        return SignatureCheck.Ok;
    }

    public SignatureCheck Verify(in Hash256 digest, in Signature signature, in Address expectedSigner)
    {
        var check = Recover(digest, signature, out var signer);
        return check != SignatureCheck.Ok ? check : signer == expectedSigner ? SignatureCheck.Ok : SignatureCheck.WrongSigner;
    }

    private static Hash256 Mac(ReadOnlySpan<byte> key, in Hash256 digest)
    {
        Span<byte> input = stackalloc byte[64];
        key.CopyTo(input);
        digest.CopyTo(input[32..]);
        return Keccak256.Hash(input);
    }
}
