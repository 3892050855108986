using System.Numerics;
using Microsoft.Extensions.Logging.Abstractions;
using SmartCity.CreditApi.Cli;
using SmartCity.Ledger.Anchoring.Contract;
using SmartCity.Ledger.Anchoring.Evm;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Testing.Evm;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Anchoring.Tests;

/// <summary>Connections, deployments and hand-made (honest or forged) seals for the contract tests.</summary>
internal static class AnchorTestKit
{
    /// <summary>secp256k1's group order n.</summary>
    private static readonly BigInteger CurveOrder = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>In-memory signers of the local node's funded accounts (ganache's public test keys), kept for the test process.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, InMemorySigner> Signers = new(StringComparer.OrdinalIgnoreCase);

    public static EvmOptions Options(LocalEvmNode node, int confirmations = 1) => new()
    {
        RpcUrl = node.RpcUrl,
        ExpectedChainId = node.ChainId,
        ConfirmationDepth = confirmations,
        PollInterval = TimeSpan.FromMilliseconds(50),
        ReceiptTimeout = TimeSpan.FromSeconds(60),
        RetryBaseDelay = TimeSpan.FromMilliseconds(100),
    };

    /// <summary>Connects as one of the node's funded accounts, signing through an <see cref="ISigner"/> of its key.</summary>
    public static Task<EvmChain> ConnectAsync(LocalEvmNode node, int account = 0, int confirmations = 1)
        => EvmChain.ConnectAsync(Options(node, confirmations), SignerOf(node, account), TimeProvider.System, NullLogger.Instance, CancellationToken.None);

    public static InMemorySigner SignerOf(LocalEvmNode node, int account)
        => Signers.GetOrAdd(node.Accounts[account].Address, _ => new InMemorySigner(node.Accounts[account].PrivateKey));

    /// <summary>Deploys a contract for <paramref name="genesis"/> (the sample genesis by default) and returns its service.</summary>
    public static async Task<CheckpointAnchorService> DeployAsync(EvmChain chain, GenesisDocument? genesis = null)
    {
        var deployed = await CheckpointAnchorService.DeployAsync(chain, genesis ?? GenesisBuilder.Sample.Value, CancellationToken.None);
        Assert.True(deployed.Address is not null, $"deployment refused: {deployed.Refusal}");
        return new CheckpointAnchorService(chain, deployed.Address!.Value.ToString());
    }

    public static Hash256 DomainSeparator => Receipts.TrustAnchor.FromGenesis(GenesisBuilder.Sample.Value).DomainSeparator;

    public static Signature Seal(BlockHeader header, TestKey validator, Hash256? domainSeparator = null)
        => CommitSeal.Sign(validator.Signer, domainSeparator ?? DomainSeparator, header);

    /// <summary>Seals by <paramref name="validators"/>, in ascending signer order (a canonical certificate).</summary>
    public static Signature[] Seals(BlockHeader header, params TestKey[] validators)
        => [.. validators.OrderBy(v => v.Address).Select(v => Seal(header, v))];

    /// <summary>A certificate of exactly these seals, in the order given.</summary>
    public static byte[] Certificate(BlockHeader header, params Signature[] seals)
        => new CommitCertificate(header.Height, header.Round, header.Hash, [.. seals]).Encode();

    /// <summary>The malleated twin of a seal: s' = n − s and the other v; it recovers to the same signer.</summary>
    public static Signature HighS(Signature seal)
    {
        var s = new BigInteger(seal.S, isUnsigned: true, isBigEndian: true);
        var twin = (CurveOrder - s).ToByteArray(isUnsigned: true, isBigEndian: true);
        var padded = new byte[32];
        twin.CopyTo(padded.AsSpan(32 - twin.Length));
        return new Signature(seal.R, padded, (byte)(seal.V == 27 ? 28 : 27));
    }

    /// <summary>
    /// A header with some fields changed and its hash recomputed. (A <c>with</c> expression alone copies the cached
    /// hash of the original: BlockHeader keeps it in a field that records copy.)
    /// </summary>
    public static BlockHeader Edit(BlockHeader header, Func<BlockHeader, BlockHeader> change)
    {
        Assert.True(BlockHeader.TryDecode(change(header).Encode(), out var edited, out var error), error);
        return edited!;
    }

    /// <summary>The same seal with another v byte.</summary>
    public static Signature WithV(Signature seal, byte v) => new(seal.R, seal.S, v);

    /// <summary>A clear-text key file (mode 0600) in <paramref name="directory"/> of the node's first funded account, ganache's public test key.</summary>
    public static string SubmitterKeyFile(LocalEvmNode node, string directory)
    {
        var path = Path.Combine(directory, "submitter.json");
        if (!File.Exists(path))
        {
            var account = node.Accounts[0];
            File.WriteAllText(path, $$"""{"address":"{{account.Address}}","privateKey":"0x{{Convert.ToHexStringLower(account.PrivateKey)}}"}""");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        return path;
    }

    /// <summary>Runs the <c>smartcity</c> command line in this process: its exit code, stdout and stderr.</summary>
    public static async Task<(int Code, string Output, string Error)> RunCliAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }
}
