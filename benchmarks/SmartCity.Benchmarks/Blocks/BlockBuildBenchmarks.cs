using BenchmarkDotNet.Attributes;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;

namespace SmartCity.Benchmarks.Blocks;

/// <summary>
/// Issue 4's target: apply and build a 2,000-transaction block (signatures pre-verified, as the mempool leaves them)
/// on a state of 1,000,000 keys, against the cost of verifying those 2,000 signatures on all cores — measured in one
/// run so the ratio holds on a noisy machine.
/// </summary>
[MemoryDiagnoser]
public class BlockBuildBenchmarks
{
    private const int StateKeys = 1_000_000;
    private const int BlockSize = 2_000;

    private BlockAssembler _assembler = null!;
    private ChainHead _head = null!;
    private ReadOnlyMemory<byte>[] _transactions = null!;
    private SignedDigest[] _signatures = null!;
    private SignatureBatchVerifier _verifier = null!;
    private DateTimeOffset _blockTime;

    [GlobalSetup]
    public void Setup()
    {
        var genesisPath = Path.Combine(AppContext.BaseDirectory, "genesis", "sample-genesis.json");
        var genesis = GenesisLoader.Load(File.ReadAllText(genesisPath)).Document!;
        var native = Secp256k1.Default;
        var curve = new CachingSecp256k1(native, new VerifiedSignatureCache(1 << 14));
        var machine = new CreditStateMachine(genesis, curve);
        var tree = new StateTree(new InMemoryStateNodeStore(), CryptoSuite.Eth);

        // Genesis, then a million unrelated keys of 64-byte values, as a large ledger would have.
        var root = tree.Apply(StateTree.EmptyRoot, [.. machine.GenesisWrites()]);
        var random = new Random(42);
        var filler = new StateWrite[StateKeys];
        Span<byte> key = stackalloc byte[32];
        for (var i = 0; i < filler.Length; i++)
        {
            random.NextBytes(key);
            var value = new byte[64];
            random.NextBytes(value);
            filler[i] = new StateWrite(new Hash256(key), value);
        }

        root = tree.Apply(root, filler);
        _assembler = new BlockAssembler(machine, tree);
        _head = new ChainHead(genesis.ChainId, 0, Hash256.Zero, root, 0, new InMemoryHistoryNodeStore());
        _blockTime = genesis.GenesisTime.AddDays(10);

        // 2,000 credit records from the four regional regulators (sample genesis members 1-4), each in its region.
        var domain = genesis.Eip712Domain.ToDomain();
        string[] divisions = ["110105", "120101", "130102", "133100"];
        var decided = LedgerTime.ToUnixSeconds(genesis.GenesisTime);
        var signed = new List<SignedTransaction>(BlockSize);
        var members = TestKeys.Members.Take(4).Select(m => m.Signer).ToArray();
        for (var i = 0; i < BlockSize; i++)
        {
            var member = i % 4;
            var body = new CreditRecordSubmit(Keccak256.Hash(BitConverter.GetBytes(i)), "uscc:91350100M000100Y43", RecordCategory.AdministrativePenalty, Severity.Moderate, divisions[member], decided, 6, "Administrative Penalty Law, art. 28", "", Hash256.Zero);
            signed.Add(SignedTransaction.Sign(members[member], domain, genesis.ChainId, (ulong)(i / 4), body));
        }

        _transactions = [.. signed.Select(tx => (ReadOnlyMemory<byte>)TransactionCodec.Encode(tx))];
        _signatures = [.. signed.Select(tx => new SignedDigest(tx.SigningDigest(domain), tx.Signature, tx.Signer))];
        _verifier = new SignatureBatchVerifier(native);

        // Pre-verify, as the mempool does on arrival, so the block build hits the cache.
        foreach (var item in _signatures)
        {
            curve.Recover(item.Digest, item.Signature, out _);
        }

        var check = _assembler.Assemble(_head, _transactions, _blockTime, 0);
        if (check.Body.Included.Count != BlockSize)
        {
            throw new InvalidOperationException($"benchmark block rejected transactions: {string.Join("; ", check.Body.Skipped.Take(3))}");
        }
    }

    [Benchmark(Baseline = true, Description = "verify 2,000 signatures, all cores")]
    public bool VerifyBlockSignatures() => _verifier.VerifyAll(_signatures);

    [Benchmark(Description = "apply + build a 2,000-tx block on 1M keys")]
    public Hash256 ApplyAndBuild() => _assembler.Assemble(_head, _transactions, _blockTime, 0).Header.StateRoot;
}
