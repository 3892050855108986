using System.Text;
using BenchmarkDotNet.Attributes;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Keys;
using SmartCity.Ledger.Keys.Pkcs11;
using SmartCity.Testing;

namespace SmartCity.Benchmarks.Keys;

/// <summary>
/// What a validator key at rest costs per block: one commit seal (EIP-712 digest + signature) with the key in memory
/// (baseline: a decrypted keystore) beside the same seal made on a PKCS#11 token (SoftHSM2 through Pkcs11Interop:
/// CKM_ECDSA on the device, then low-s normalisation and the recovery-id search against the public key).
/// Seals per second = 1 / mean. Needs Debian's softhsm2; the token lives in a throwaway directory.
/// </summary>
[MemoryDiagnoser]
public class SealSigningBenchmarks
{
    private readonly Hash256 _domain = Keccak256.Hash("benchmark-domain"u8);
    private InMemorySigner? _inMemory;
    private KeySigner? _pkcs11;
    private SoftHsm? _hsm;
    private BlockHeader _header = null!;

    [GlobalSetup]
    public void Setup()
    {
        _inMemory = InMemorySigner.Generate();
        _hsm = SoftHsm.Create();
        _hsm.InitToken("bench");
        var pinFile = Path.Combine(_hsm.Directory, "pin");
        File.WriteAllText(pinFile, SoftHsm.UserPin);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(pinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var options = new Pkcs11KeyOptions { Module = SoftHsm.ModulePath, TokenLabel = "bench", KeyLabel = "validator", Pin = new SecretSourceOptions { File = pinFile } };
        Pkcs11KeyGenerator.Generate(options, Encoding.UTF8.GetBytes(SoftHsm.UserPin));
        _pkcs11 = KeySource.OpenSigner(new KeySourceOptions { Pkcs11 = options });

        var validators = new ValidatorSet([_inMemory.Address, _pkcs11.Address]);
        _header = new BlockHeader(8610, 1, Keccak256.Hash("previous"u8), 1_790_000_000_000, validators.ProposerFor(1, 0), 0, 2000,
            Keccak256.Hash("tx"u8), Keccak256.Hash("state"u8), 2000, Keccak256.Hash("history"u8), validators.Hash);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pkcs11?.Dispose();
        _inMemory?.Dispose();
        _hsm?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "commit seal, in-memory key (libsecp256k1)")]
    public Signature SealInMemory() => CommitSeal.Sign(_inMemory!, _domain, _header);

    [Benchmark(Description = "commit seal, PKCS#11 (SoftHSM2)")]
    public Signature SealOnSoftHsm() => CommitSeal.Sign(_pkcs11!, _domain, _header);
}
