using System.Collections.Concurrent;
using System.Numerics;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>Nodes for tests: the sample genesis reduced to one validator (seed 101), embedded stores in temp directories.</summary>
internal static class NodeKit
{
    public static TestKey Validator { get; } = new(101, "validator-bj", "", "BJ");

    public static IReadOnlyList<TestKey> Validators { get; } = [Validator, new(102, "validator-tj", "", "TJ"), new(103, "validator-he", "", "HE"), new(104, "validator-xa", "", "XA")];

    /// <summary>The sample genesis with only the BJ validator: a chain that commits on its own.</summary>
    public static GenesisDocument SoloGenesis { get; } = GenesisBuilder.Sample.Value with
    {
        Validators = [GenesisBuilder.Sample.Value.Validators[0]],
    };

    public static IBlockSealer Sealer(TestKey validator) => new SignerBlockSealer(validator.Signer, Anchor.DomainSeparator);

    private static Receipts.TrustAnchor Anchor => Receipts.TrustAnchor.FromGenesis(SoloGenesis);

    public static string TempDirectory() => Directory.CreateTempSubdirectory("smartcity-node-test-").FullName;

    public static Task<EmbeddedLedgerStore> EmbeddedStoreAsync(string directory)
        => EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = directory }, CancellationToken.None);

    /// <summary>A single-validator node sealing its own blocks on an embedded store in <paramref name="directory"/>.</summary>
    public static async Task<LedgerNode> SoloNodeAsync(string directory, ISecp256k1? curve = null, LedgerNodeOptions? options = null, GenesisDocument? genesis = null)
        => await SoloNodeAsync(await EmbeddedStoreAsync(directory), curve, options, genesis);

    public static Task<LedgerNode> SoloNodeAsync(ILedgerStore store, ISecp256k1? curve = null, LedgerNodeOptions? options = null, GenesisDocument? genesis = null)
        => LedgerNode.OpenAsync(
            new LedgerNodeSetup
            {
                Genesis = genesis ?? SoloGenesis,
                Store = store,
                Curve = curve ?? Secp256k1.Default,
                Consensus = new SoloSealingEngine(Sealer(Validator)),
                Options = options ?? new LedgerNodeOptions(),
            },
            CancellationToken.None);

    /// <summary>A node whose engine never proposes: submissions are admitted and stay in the mempool.</summary>
    public static async Task<LedgerNode> IdleNodeAsync(string directory, LedgerNodeOptions? options = null)
        => await LedgerNode.OpenAsync(
            new LedgerNodeSetup { Genesis = SoloGenesis, Store = await EmbeddedStoreAsync(directory), Consensus = new IdleEngine(), Options = options ?? new LedgerNodeOptions() },
            CancellationToken.None);

    public static byte[] Bytes(SignedTransaction tx) => TransactionCodec.Encode(tx);

    public static CancellationToken Deadline(int seconds = 30) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    /// <summary>The same signature with s replaced by n − s and the recovery bit flipped: valid maths, forbidden by EIP-2.</summary>
    public static Signature HighS(Signature signature)
    {
        var n = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);
        var s = new BigInteger(signature.S, isUnsigned: true, isBigEndian: true);
        var bytes = signature.Bytes.ToArray();
        var high = (n - s).ToByteArray(isUnsigned: true, isBigEndian: true);
        Array.Clear(bytes, 32, 32);
        high.CopyTo(bytes, 64 - high.Length);
        bytes[64] = (byte)(bytes[64] == 27 ? 28 : 27);
        return new Signature(bytes);
    }

    /// <summary>An engine that never proposes (the mempool only fills), for admission tests.</summary>
    private sealed class IdleEngine : IConsensusEngine
    {
        public Task RunAsync(IConsensusHost host, CancellationToken cancellationToken) => Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
    }
}

/// <summary>Counts how often each digest's signature is recovered, around the real implementation.</summary>
internal sealed class CountingSecp256k1(ISecp256k1 inner) : ISecp256k1
{
    private readonly ConcurrentDictionary<Hash256, int> _recoveries = new();

    public string Name => "counting " + inner.Name;

    public int RecoveriesOf(Hash256 digest) => _recoveries.GetValueOrDefault(digest);

    public int TotalRecoveries => _recoveries.Values.Sum();

    public void GeneratePrivateKey(Span<byte> privateKey) => inner.GeneratePrivateKey(privateKey);

    public bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey) => inner.IsValidPrivateKey(privateKey);

    public void GetPublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey64) => inner.GetPublicKey(privateKey, publicKey64);

    public Address GetAddress(ReadOnlySpan<byte> privateKey) => inner.GetAddress(privateKey);

    public Signature Sign(in Hash256 digest, ReadOnlySpan<byte> privateKey) => inner.Sign(digest, privateKey);

    public SignatureCheck Recover(in Hash256 digest, in Signature signature, out Address signer)
    {
        _recoveries.AddOrUpdate(digest, 1, (_, n) => n + 1);
        return inner.Recover(digest, signature, out signer);
    }

    public SignatureCheck Verify(in Hash256 digest, in Signature signature, in Address expectedSigner)
    {
        var check = Recover(digest, signature, out var signer);
        return check != SignatureCheck.Ok ? check : signer == expectedSigner ? SignatureCheck.Ok : SignatureCheck.WrongSigner;
    }
}
