using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Storage.Embedded;

namespace SmartCity.Benchmarks.Storage;

/// <summary>
/// What an embedded snapshot costs one index table: its frozen changes (<see cref="Changes"/> state-like entries: two in
/// three values of 45-700 bytes, which go to the run's heap, one in three short, a few deletions) written as a new
/// run, alone (<see cref="Flush"/>: the older run is much bigger) or merged with an older run of the same size
/// (<see cref="FlushMerging"/>: its values read back and written again). Wall time includes the kernel's copies into
/// the page cache and the fsync, which are most of it.
/// </summary>
[MemoryDiagnoser]
public class IndexFlushBenchmarks
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"smartcity-index-bench-{Guid.NewGuid():N}");
    private IndexRun _small = null!;
    private IndexRun _large = null!;
    private KeyValuePair<Hash256, byte[]?>[] _changes = [];
    private IndexTable _table = null!;
    private IndexTable.FrozenTable _frozen = null!;
    private IndexTable.FlushPlan? _plan;
    private int _sequence;

    [Params(100_000)]
    public int Changes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(_directory);
        var random = new Random(12);
        _changes = [.. Entries(random, Changes, keySpace: 4 * Changes)];
        _small = IndexRun.Write(Path.Combine(_directory, "small.run"), Entries(random, Changes, keySpace: 4 * Changes));
        _large = IndexRun.Write(Path.Combine(_directory, "large.run"), Entries(random, 3 * Changes, keySpace: 4 * Changes));
    }

    [IterationSetup(Target = nameof(Flush))]
    public void SetupFlush() => Freeze(_large);

    [IterationSetup(Target = nameof(FlushMerging))]
    public void SetupFlushMerging() => Freeze(_small);

    [Benchmark]
    public long Flush() => Write();

    [Benchmark]
    public long FlushMerging() => Write();

    [IterationCleanup]
    public void Cleanup()
    {
        if (_plan is not null)
        {
            IndexTable.Abandon(_plan);
        }

        _table.Close();
    }

    [GlobalCleanup]
    public void TearDown()
    {
        _small.Release();
        _large.Release();
        Directory.Delete(_directory, recursive: true);
    }

    private long Write()
    {
        _plan = IndexTable.PrepareFlush(_frozen, name => Path.Combine(_directory, $"{name}-{++_sequence}.run"));
        return _plan?.Run.Length ?? 0;
    }

    private void Freeze(IndexRun older)
    {
        older.Acquire(); // the table takes over one reference and releases it when closed
        _table = new IndexTable("state");
        _table.Load([older]);
        foreach (var (key, value) in _changes)
        {
            _table.Put(key, value);
        }

        _frozen = _table.Freeze();
    }

    private static IEnumerable<KeyValuePair<Hash256, byte[]?>> Entries(Random random, int count, int keySpace)
    {
        // Keys drawn from a space of 4 × Changes: the changes overlap the older runs' keys as a state table's updates do.
        var entries = new SortedDictionary<Hash256, byte[]?>();
        Span<byte> key = stackalloc byte[Hash256.Size];
        while (entries.Count < count)
        {
            BinaryPrimitives.WriteUInt64BigEndian(key, (ulong)random.Next(keySpace) * 0x9E3779B97F4A7C15UL);
            var k = new Hash256(key);
            byte[]? value = random.Next(40) == 0 ? null : new byte[random.Next(3) == 0 ? random.Next(1, IndexRun.InlineMax + 1) : random.Next(IndexRun.InlineMax + 1, 700)];
            if (value is not null)
            {
                random.NextBytes(value);
            }

            entries[k] = value;
        }

        return entries;
    }
}
