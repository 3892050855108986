using BenchmarkDotNet.Attributes;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Gm;

namespace SmartCity.Benchmarks.Crypto;

/// <summary>
/// The gm suite's primitives beside the eth suite's in one table: SM3 against Keccak-256, SM2 verify on OpenSSL's
/// libcrypto (the native path, the baseline) against BouncyCastle's managed SM2 and against native secp256k1
/// recovery. <c>openssl speed sm2</c> is compared in the same process by <c>--sm2-vs-openssl</c> (<see cref="Sm2VersusOpenSsl"/>).
/// </summary>
[MemoryDiagnoser]
public class GmBenchmarks
{
    private readonly byte[] _twoHundredBytes = [.. Enumerable.Range(0, 200).Select(i => (byte)i)];
    private readonly ISm2 _native = Sm2.TryCreateNative(Sm2.DefaultDistinguishingId, out _) ?? throw new InvalidOperationException("libcrypto.so.3 did not load");
    private readonly ISm2 _managed = Sm2.CreateManaged();
    private readonly ISecp256k1 _secp256k1 = CryptoSamples.Native;
    private Hash256 _digest;
    private Signature _sm2Signature;
    private Address _sm2Signer;
    private Signature _ethSignature;
    private Address _ethSigner;

    [GlobalSetup]
    public void Setup()
    {
        var key = CryptoSamples.PrivateKey(1);
        _digest = Sm3.Hash("SmartCity.Ledger gm benchmark"u8);
        _sm2Signature = _native.Sign(_digest, key);
        _sm2Signer = _native.GetAddress(key);
        _ethSignature = _secp256k1.Sign(_digest, key);
        _ethSigner = _secp256k1.GetAddress(key);
        if (VerifyNative() != SignatureCheck.Ok || VerifyManaged() != SignatureCheck.Ok || VerifyEth() != SignatureCheck.Ok)
        {
            throw new InvalidOperationException("a sample signature does not verify; the comparison would be meaningless");
        }
    }

    [Benchmark(Description = "SM3, 200 B (native libcrypto)")]
    public Hash256 Sm3Native() => Sm3.Hash(_twoHundredBytes);

    [Benchmark(Description = "SM3, 200 B (BouncyCastle)")]
    public Hash256 Sm3Managed()
    {
        Span<byte> output = stackalloc byte[32];
        Sm3.HashManaged(_twoHundredBytes, output);
        return new Hash256(output);
    }

    [Benchmark(Description = "Keccak-256, 200 B")]
    public Hash256 Keccak() => Keccak256.Hash(_twoHundredBytes);

    [Benchmark(Baseline = true, Description = "SM2 verify: native libcrypto")]
    public SignatureCheck VerifyNative() => _native.Verify(_digest, _sm2Signature, _sm2Signer);

    [Benchmark(Description = "SM2 verify: BouncyCastle")]
    public SignatureCheck VerifyManaged() => _managed.Verify(_digest, _sm2Signature, _sm2Signer);

    [Benchmark(Description = "secp256k1 recover→address: native libsecp256k1")]
    public SignatureCheck VerifyEth() => _secp256k1.Verify(_digest, _ethSignature, _ethSigner);
}
