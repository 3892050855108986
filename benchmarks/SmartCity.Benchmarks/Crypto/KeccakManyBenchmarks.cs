using BenchmarkDotNet.Attributes;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Benchmarks.Crypto;

/// <summary>
/// Keccak-256 of 4,096 state-tree node preimages (65 bytes: the tag and two child hashes, what the tree hashes a level
/// at a time): one at a time with <see cref="Keccak256"/> (the baseline) against side by side with
/// <see cref="Keccak256Many"/> at the widest lanes the machine has (8 with AVX-512, 4 with AVX2; the run prints
/// <see cref="Keccak256Many.Lanes"/>). Divide by 4,096 for the cost of one node.
/// </summary>
[MemoryDiagnoser]
public class KeccakManyBenchmarks
{
    private const int Nodes = 4096;
    private const int NodeSize = 65;

    private readonly byte[] _data = new byte[Nodes * NodeSize];
    private readonly int[] _starts = [.. Enumerable.Range(0, Nodes).Select(i => i * NodeSize)];
    private readonly int[] _lengths = [.. Enumerable.Repeat(NodeSize, Nodes)];
    private readonly Hash256[] _outputs = new Hash256[Nodes];

    [GlobalSetup]
    public void Setup()
    {
        new Random(65).NextBytes(_data);
        Console.WriteLine($"// Keccak256Many.Lanes = {Keccak256Many.Lanes}");
        var expected = new Hash256[Nodes];
        OneAtATime();
        _outputs.CopyTo(expected, 0);
        SideBySide();
        if (!_outputs.AsSpan().SequenceEqual(expected))
        {
            throw new InvalidOperationException("side-by-side hashes differ from one-at-a-time ones; the comparison would be meaningless");
        }
    }

    [Benchmark(Baseline = true, Description = "4,096 × 65 B, one at a time")]
    public void OneAtATime()
    {
        for (var i = 0; i < Nodes; i++)
        {
            _outputs[i] = Keccak256.Hash(_data.AsSpan(_starts[i], NodeSize));
        }
    }

    [Benchmark(Description = "4,096 × 65 B, side by side (the machine's widest lanes)")]
    public void SideBySide() => Keccak256Many.HashMany(_data, _starts, _lengths, _outputs);
}
