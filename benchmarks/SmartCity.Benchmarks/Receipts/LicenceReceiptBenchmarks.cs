using BenchmarkDotNet.Attributes;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Receipts;

namespace SmartCity.Benchmarks.Receipts;

/// <summary>
/// The bank's offline check of the combined VerifyLicence receipt in process (issue 13: under 1 ms): the receipt in
/// docs/examples/receipts/licence-verification.json, written by a real node (`smartcity bench api --save-receipt`),
/// checked against that run's genesis — JSON parse, certificate (quorum seal recoveries), inclusion proof, state proof,
/// and the licence transaction against the proven record. Baseline: one native signature recovery.
/// </summary>
[MemoryDiagnoser]
public class LicenceReceiptBenchmarks
{
    private byte[] _receipt = [];
    private TrustAnchor _anchor = null!;
    private Receipt _parsed = null!;
    private ISecp256k1 _curve = null!;
    private Hash256 _sealDigest;
    private Signature _seal;

    [GlobalSetup]
    public void Setup()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "receipts");
        _receipt = File.ReadAllBytes(Path.Combine(folder, "licence-verification.json"));
        _anchor = TrustAnchor.FromGenesis(GenesisLoader.Load(File.ReadAllText(Path.Combine(folder, "licence-verification-genesis.json"))).Document!);
        _curve = Secp256k1.Default;
        var report = ReceiptVerifier.VerifyDocument(_receipt, _anchor, _curve);
        if (report.Outcome != ReceiptOutcome.Valid || report.Receipt is not LicenceReceipt)
        {
            throw new InvalidOperationException($"the example licence-verification receipt does not verify: {report.Check}: {report.Reason}");
        }

        _parsed = report.Receipt;
        _seal = _parsed.Certificate.Seals[0];
        _sealDigest = Ledger.Blocks.CommitSeal.Digest(_anchor.DomainSeparator, _parsed.Certificate.HeaderHash, _parsed.Certificate.Height, _parsed.Certificate.Round);
    }

    [Benchmark(Baseline = true, Description = "one signature recovery (native libsecp256k1)")]
    public SignatureCheck RecoverOne() => _curve.Recover(_sealDigest, _seal, out _);

    [Benchmark(Description = "combined licence receipt: parse JSON + verify (certificate, both proofs, transaction)")]
    public ReceiptReport VerifyDocument() => ReceiptVerifier.VerifyDocument(_receipt, _anchor, _curve);

    [Benchmark(Description = "combined licence receipt: verify an already parsed receipt")]
    public ReceiptVerdict VerifyParsed() => ReceiptVerifier.Verify(_parsed, _anchor, _curve);
}
