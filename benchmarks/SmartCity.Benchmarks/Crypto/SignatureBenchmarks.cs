using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Nethereum.Signer;
using Nethereum.Signer.EIP712;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.Benchmarks.Crypto;

/// <summary>
/// The transaction hot path in one table, so the ratios compare within one run: hashing and EIP-712 against one
/// signature check, and the signature check across implementations. Baseline: Nethereum 6.1.0's
/// <c>EthECKey.RecoverFromSignature</c> → address, what a .NET team would otherwise use; the typed-data rows set
/// Nethereum's <c>Eip712TypedDataSigner</c> (JSON in, signature or signer out) against the project's path.
/// </summary>
[MemoryDiagnoser]
public class SignatureBenchmarks
{
    private readonly ISecp256k1 _native = CryptoSamples.Native;
    private readonly ISecp256k1 _managed = ManagedSecp256k1.Instance;
    private readonly byte[] _twoHundredBytes = [.. Enumerable.Range(0, 200).Select(i => (byte)i)];
    private ECDsa? _dotnetEcdsa;
    private byte[] _p1363Signature = [];
    private Hash256 _digest;
    private Signature _signature;
    private Address _signer;
    private byte[] _privateKey = [];
    private byte[] _digestBytes = [];
    private EthECKey? _nethereumKey;
    private EthECDSASignature? _nethereumSignature;
    private string _typedDataJson = "";
    private string _signatureHex = "";

    [GlobalSetup]
    public void Setup()
    {
        var key = CryptoSamples.PrivateKey(1);
        _digest = Eip712Encoding.Digest(CreditRecordMessage.Domain, CreditRecordMessage.Sample);
        _signature = _native.Sign(_digest, key);
        _signer = _native.GetAddress(key);
        _privateKey = key;
        _digestBytes = _digest.ToArray();
        _typedDataJson = CreditRecordMessage.TypedDataJson();
        _signatureHex = _signature.ToString();
        _nethereumKey = new EthECKey(key, isPrivate: true);
        _nethereumSignature = EthECDSASignatureFactory.FromComponents(_signature.R.ToArray(), _signature.S.ToArray(), _signature.V);
        if (!Eip712TypedData.TryComputeDigest(_typedDataJson, out var jsonDigest, out _) || jsonDigest != _digest
            || RecoverNethereum() != _signer.ToString() || Eip712TypedDataSigner.Current.SignTypedDataV4(_typedDataJson, _nethereumKey).ToLowerInvariant() != _signatureHex)
        {
            throw new InvalidOperationException("the project and Nethereum disagree on the sample; the comparison would be meaningless");
        }

        Span<byte> publicKey = stackalloc byte[64];
        _native.GetPublicKey(key, publicKey);
        _dotnetEcdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.CreateFromFriendlyName("secP256k1"),
            Q = new ECPoint { X = publicKey[..32].ToArray(), Y = publicKey[32..].ToArray() },
        });
        _p1363Signature = _signature.Compact.ToArray();
        if (!_dotnetEcdsa.VerifyHash(_digest.Bytes, _p1363Signature))
        {
            throw new InvalidOperationException(".NET ECDsa does not accept the signature");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _dotnetEcdsa?.Dispose();

    [Benchmark(Description = "Keccak-256, 200 B")]
    public Hash256 Keccak200() => Keccak256.Hash(_twoHundredBytes);

    [Benchmark(Description = "EIP-712 digest, credit record (typed)")]
    public Hash256 Eip712Digest() => Eip712Encoding.Digest(CreditRecordMessage.Domain, CreditRecordMessage.Sample);

    [Benchmark(Description = "verify: native libsecp256k1")]
    public SignatureCheck VerifyNative() => _native.Verify(_digest, _signature, _signer);

    [Benchmark(Description = "recover→address: native libsecp256k1")]
    public Address RecoverNative()
    {
        _native.Recover(_digest, _signature, out var signer);
        return signer;
    }

    [Benchmark(Description = "verify: BouncyCastle CustomNamedCurves")]
    public SignatureCheck VerifyManaged() => _managed.Verify(_digest, _signature, _signer);

    [Benchmark(Description = "recover→address: BouncyCastle CustomNamedCurves")]
    public Address RecoverManaged()
    {
        _managed.Recover(_digest, _signature, out var signer);
        return signer;
    }

    [Benchmark(Description = "recover→address: Nethereum EthECKey (BouncyCastle)", Baseline = true)]
    public string RecoverNethereum() => EthECKey.RecoverFromSignature(_nethereumSignature!, _digestBytes).GetPublicAddress();

    [Benchmark(Description = "typed-data JSON → signature: project (parse, digest, native sign)")]
    public Signature SignTypedDataJsonProject()
    {
        Eip712TypedData.TryComputeDigest(_typedDataJson, out var digest, out _);
        return _native.Sign(digest, _privateKey);
    }

    [Benchmark(Description = "typed-data JSON → signature: Nethereum Eip712TypedDataSigner")]
    public string SignTypedDataJsonNethereum() => Eip712TypedDataSigner.Current.SignTypedDataV4(_typedDataJson, _nethereumKey!);

    [Benchmark(Description = "typed-data JSON + signature → signer: project (parse, digest, native recover)")]
    public Address RecoverTypedDataJsonProject()
    {
        Eip712TypedData.TryComputeDigest(_typedDataJson, out var digest, out _);
        Signature.TryParse(_signatureHex, out var signature);
        _native.Recover(digest, signature, out var signer);
        return signer;
    }

    [Benchmark(Description = "typed-data JSON + signature → signer: Nethereum Eip712TypedDataSigner")]
    public string RecoverTypedDataJsonNethereum() => Eip712TypedDataSigner.Current.RecoverFromSignatureV4(_typedDataJson, _signatureHex, "message");

    [Benchmark(Description = "verify (public key, no recovery): .NET ECDsa/OpenSSL")]
    public bool VerifyDotnetEcdsa() => _dotnetEcdsa!.VerifyHash(_digest.Bytes, _p1363Signature);
}
