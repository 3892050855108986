using SmartCity.CreditApi.Node;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Keys;
using SmartCity.Testing;

namespace SmartCity.CreditApi.Tests.Grpc.Infrastructure;

/// <summary>
/// A local setup as <c>smartcity init</c> writes it, in a temporary directory: one validator per region (a single
/// region seals its own blocks), fresh member keys, configs with ports the OS chooses. Deleted on dispose.
/// </summary>
public sealed class LedgerSetup : IAsyncDisposable
{
    private LedgerSetup(string directory, LocalSetupResult result, CryptoSuiteId suite)
    {
        Directory = directory;
        Result = result;
        Suite = suite;
    }

    private readonly Dictionary<int, KeySigner> _members = [];

    public string Directory { get; }

    public LocalSetupResult Result { get; }

    public string ConfigPath => Result.Nodes[0].ConfigPath;

    /// <summary>The chain's crypto suite (<c>init --crypto</c>): its keys are SM2 keys in gm keystores for gm.</summary>
    public CryptoSuiteId Suite { get; }

    public static async Task<LedgerSetup> CreateAsync(string region = "BJ", string? postgres = null, CryptoSuiteId suite = CryptoSuiteId.Eth)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("smartcity-ledger-").FullName;
        var result = await LocalSetup.WriteAsync(directory, RepositoryFiles.Read("contracts/genesis/sample-genesis.json"), [region], 0, postgres, suite, TimeProvider.System, CancellationToken.None);
        return new LedgerSetup(directory, result, suite);
    }

    public Task<NodeStartup> StartupAsync() => NodeConfigLoader.LoadAsync(ConfigPath, CancellationToken.None);

    /// <summary>Changes the node's config file (e.g. its limits) before the node starts.</summary>
    public void EditConfig(Action<System.Text.Json.Nodes.JsonObject> edit)
    {
        ArgumentNullException.ThrowIfNull(edit);
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(ConfigPath))!.AsObject();
        edit(config);
        File.WriteAllText(ConfigPath, config.ToJsonString());
    }

    /// <summary>
    /// Member <paramref name="index"/>'s signer (0-3 the regions' regulators, 4 the joint credit office), opened from
    /// the keystore init wrote, through <see cref="KeySource"/> with the setup's password file, as a member's tool would.
    /// Opened once per member and kept until the setup is disposed.
    /// </summary>
    public KeySigner MemberKey(int index)
    {
        lock (_members)
        {
            if (!_members.TryGetValue(index, out var signer))
            {
                signer = KeySource.OpenSigner(
                    new KeySourceOptions { Keystore = new KeystoreKeyOptions { Path = Result.Members[index].KeyPath, Password = new SecretSourceOptions { File = Result.PasswordFile } } },
                    Result.Members[index].Address,
                    chainScheme: CryptoSuite.For(Suite).Signatures);
                _members[index] = signer;
            }

            return signer;
        }
    }

    public ValueTask DisposeAsync()
    {
        foreach (var signer in _members.Values)
        {
            signer.Dispose();
        }

        System.IO.Directory.Delete(Directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
