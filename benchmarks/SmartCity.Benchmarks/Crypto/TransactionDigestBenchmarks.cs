using BenchmarkDotNet.Attributes;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Benchmarks.Crypto;

/// <summary>
/// What a node computes for every submitted credit record before its signature: the EIP-712 <c>hashStruct</c> of the
/// transaction (its four string members hashed side by side, then the struct) and the signing digest. Keccak-256 of
/// 200 bytes is the reference in the same run.
/// </summary>
[MemoryDiagnoser]
public class TransactionDigestBenchmarks
{
    private readonly byte[] _twoHundredBytes = [.. Enumerable.Range(0, 200).Select(i => (byte)i)];

    private readonly CreditRecordSubmit _body = new(
        Keccak256.Hash("record-1"u8), "91110000MA01ABCD2X", RecordCategory.AdministrativePenalty, Severity.Serious, "110105",
        1_763_700_000, 36, "《企业信息公示暂行条例》第十八条", "A", Keccak256.Hash("payload"u8));

    [Benchmark(Baseline = true, Description = "Keccak-256, 200 B")]
    public Hash256 Keccak() => Keccak256.Hash(_twoHundredBytes);

    [Benchmark(Description = "hashStruct of a credit record (4 strings)")]
    public Hash256 StructHash() => SignedTransaction.StructHash(42, _body);
}
