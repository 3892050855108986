using BenchmarkDotNet.Attributes;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Benchmarks.Crypto;

/// <summary>10,000 signatures by 100 signers checked with native libsecp256k1, on one thread and on every core (no cache).</summary>
[MemoryDiagnoser]
public class BatchVerificationBenchmarks
{
    private const int Count = 10_000;

    private readonly SignedDigest[] _items = new SignedDigest[Count];
    private readonly SignatureCheck[] _results = new SignatureCheck[Count];
    private SignatureBatchVerifier _oneThread = null!;
    private SignatureBatchVerifier _allCores = null!;

    [GlobalSetup]
    public void Setup()
    {
        var native = CryptoSamples.Native;
        for (var i = 0; i < Count; i++)
        {
            var key = CryptoSamples.PrivateKey(i % 100);
            var digest = Keccak256.Hash(BitConverter.GetBytes(i));
            _items[i] = new SignedDigest(digest, native.Sign(digest, key), native.GetAddress(key));
        }

        _oneThread = new SignatureBatchVerifier(native, cache: null, maxDegreeOfParallelism: 1);
        _allCores = new SignatureBatchVerifier(native, cache: null);
    }

    [Benchmark(Baseline = true, Description = "10,000 signatures, 1 thread")]
    public void OneThread() => _oneThread.Verify(_items, _results);

    [Benchmark(Description = "10,000 signatures, all cores")]
    public void AllCores() => _allCores.Verify(_items, _results);
}
