using BenchmarkDotNet.Attributes;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Benchmarks.Proofs;

/// <summary>
/// The state-root update of one block on top of a state of 1,000,000 keys (in memory): a 2,000-transaction block
/// makes about 8,000 writes. Half the writes update existing keys, half insert new ones. Both layouts: every binary
/// interior node stored on its own, or pages of four levels (docs/state-pages.md); the root is the same.
/// </summary>
[MemoryDiagnoser]
public class StateTreeBenchmarks
{
    private StateTree _tree = null!;
    private Hash256 _root;
    private StateWrite[] _block = [];

    [Params(2_000, 8_000)]
    public int Writes { get; set; }

    [Params(StateTreeLayout.Binary, StateTreeLayout.Pages)]
    public StateTreeLayout Layout { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_tree, _root) = MillionKeyState.Build(Layout);
        _block = new StateWrite[Writes];
        for (var i = 0; i < Writes; i++)
        {
            // Even writes update a spread of existing keys, odd ones insert keys the state has never held.
            _block[i] = i % 2 == 0
                ? new StateWrite(MillionKeyState.Key(i * 97 % MillionKeyState.Size), MillionKeyState.Value(i, 1))
                : new StateWrite(MillionKeyState.Key(MillionKeyState.Size + i), MillionKeyState.Value(i, 1));
        }
    }

    [Benchmark(Description = "apply a block's writes to a 1M-key state")]
    public Hash256 ApplyBlock() => _tree.Apply(_root, _block);
}

/// <summary>Serving and checking a proof of one key's value in a state of 1,000,000 keys.</summary>
[MemoryDiagnoser]
public class StateProofBenchmarks
{
    private StateTree _tree = null!;
    private Hash256 _root;
    private Hash256 _key;
    private byte[] _value = [];
    private byte[] _encodedProof = [];

    [GlobalSetup]
    public void Setup()
    {
        (_tree, _root) = MillionKeyState.Build();
        _key = MillionKeyState.Key(123_457);
        _value = MillionKeyState.Value(123_457, 0);
        _encodedProof = _tree.Prove(_root, _key).Encode();
    }

    [Benchmark(Description = "state proof: generate and encode")]
    public byte[] Prove() => _tree.Prove(_root, _key).Encode();

    [Benchmark(Description = "state proof: decode and verify")]
    public bool Verify() => StateProof.Verify(_encodedProof, _root, _key, _value, CryptoSuite.Eth);
}
