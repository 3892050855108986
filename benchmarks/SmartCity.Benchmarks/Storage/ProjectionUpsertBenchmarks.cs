using BenchmarkDotNet.Attributes;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;

namespace SmartCity.Benchmarks.Storage;

/// <summary>
/// What the embedded store's credit-record projection costs a committed record: the row under its identity and the
/// identity appended to its subject's list (<see cref="ProjectionTable{TRow}.Upsert"/>), <see cref="Rows"/> new records
/// into an empty table. <see cref="Subjects"/> is how many subjects they spread over: 100,000 is the node load tool's
/// spread (most lists short), 2 puts ~5,000 records on each subject, whose lists run to dozens of chunks (an append
/// copies one chunk; before the chunks it copied the whole list).
/// </summary>
[MemoryDiagnoser]
public class ProjectionUpsertBenchmarks
{
    private CreditRecordRow[] _rows = [];

    [Params(100_000, 2)]
    public int Subjects { get; set; }

    public int Rows => Subjects > 1_000 ? 150_000 : 10_000;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(5);
        var subjects = Enumerable.Range(0, Subjects).Select(i => $"91110000MA{i:D7}X").ToArray();
        _rows = [.. Enumerable.Range(0, Rows).Select(i =>
        {
            var hash = new byte[Hash256.Size];
            random.NextBytes(hash);
            var id = new Hash256(hash);
            return new CreditRecordRow(id.ToString(), subjects[random.Next(subjects.Length)], id, i / 400, 1, 1, 1, default, i, i + 1);
        })];
    }

    [Benchmark]
    public int Upsert()
    {
        var table = new IndexTable("credit-records");
        var records = LedgerIndex.CreditRecordTable(table);
        foreach (var row in _rows)
        {
            records.Upsert(row);
        }

        return table.DeltaCount;
    }
}
