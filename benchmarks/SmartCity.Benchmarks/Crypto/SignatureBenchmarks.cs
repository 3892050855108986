using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Org.BouncyCastle.Asn1.Sec;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.Benchmarks.Crypto;

/// <summary>
/// The transaction hot path in one table, so the ratios compare within one run: hashing and EIP-712 against one
/// signature check, and the signature check across implementations. Baseline: BouncyCastle on SecNamedCurves, the
/// generic curve Nethereum-style code uses today.
/// </summary>
[MemoryDiagnoser]
public class SignatureBenchmarks
{
    private readonly ISecp256k1 _native = CryptoSamples.Native;
    private readonly ISecp256k1 _managed = ManagedSecp256k1.Instance;
    private readonly ISecp256k1 _secNamedCurves = new ManagedSecp256k1(SecNamedCurves.GetByName("secp256k1"), "managed (BouncyCastle SecNamedCurves)");
    private readonly byte[] _twoHundredBytes = [.. Enumerable.Range(0, 200).Select(i => (byte)i)];
    private ECDsa? _dotnetEcdsa;
    private byte[] _p1363Signature = [];
    private Hash256 _digest;
    private Signature _signature;
    private Address _signer;

    [GlobalSetup]
    public void Setup()
    {
        var key = CryptoSamples.PrivateKey(1);
        _digest = Eip712Encoding.Digest(CreditRecordMessage.Domain, CreditRecordMessage.Sample);
        _signature = _native.Sign(_digest, key);
        _signer = _native.GetAddress(key);

        Span<byte> publicKey = stackalloc byte[64];
        _native.GetPublicKey(key, publicKey);
        _dotnetEcdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.CreateFromFriendlyName("secP256k1"),
            Q = new ECPoint { X = publicKey[..32].ToArray(), Y = publicKey[32..].ToArray() },
        });
        _p1363Signature = _signature.Compact.ToArray();
        if (!_dotnetEcdsa.VerifyHash(_digest.Bytes, _p1363Signature))
        {
            throw new InvalidOperationException(".NET ECDsa does not accept the signature");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _dotnetEcdsa?.Dispose();

    [Benchmark(Description = "Keccak-256, 200 B")]
    public Hash256 Keccak200() => Keccak256.Hash(_twoHundredBytes);

    [Benchmark(Description = "EIP-712 digest, credit record (typed)")]
    public Hash256 Eip712Digest() => Eip712Encoding.Digest(CreditRecordMessage.Domain, CreditRecordMessage.Sample);

    [Benchmark(Description = "verify: native libsecp256k1")]
    public SignatureCheck VerifyNative() => _native.Verify(_digest, _signature, _signer);

    [Benchmark(Description = "recover→address: native libsecp256k1")]
    public Address RecoverNative()
    {
        _native.Recover(_digest, _signature, out var signer);
        return signer;
    }

    [Benchmark(Description = "verify: BouncyCastle CustomNamedCurves")]
    public SignatureCheck VerifyManaged() => _managed.Verify(_digest, _signature, _signer);

    [Benchmark(Description = "recover→address: BouncyCastle CustomNamedCurves")]
    public Address RecoverManaged()
    {
        _managed.Recover(_digest, _signature, out var signer);
        return signer;
    }

    [Benchmark(Description = "recover→address: BouncyCastle SecNamedCurves", Baseline = true)]
    public Address RecoverSecNamedCurves()
    {
        _secNamedCurves.Recover(_digest, _signature, out var signer);
        return signer;
    }

    [Benchmark(Description = "verify (public key, no recovery): .NET ECDsa/OpenSSL")]
    public bool VerifyDotnetEcdsa() => _dotnetEcdsa!.VerifyHash(_digest.Bytes, _p1363Signature);
}
