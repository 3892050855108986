using System.Text.Json;
using SmartCity.CreditApi.Node;
using SmartCity.Testing;

namespace SmartCity.CreditApi.Tests.Grpc.Infrastructure;

/// <summary>
/// A local setup as <c>smartcity init</c> writes it, in a temporary directory: one validator per region (a single
/// region seals its own blocks), fresh member keys, configs with ports the OS chooses. Deleted on dispose.
/// </summary>
public sealed class LedgerSetup : IAsyncDisposable
{
    private LedgerSetup(string directory, LocalSetupResult result)
    {
        Directory = directory;
        Result = result;
    }

    public string Directory { get; }

    public LocalSetupResult Result { get; }

    public string ConfigPath => Result.Nodes[0].ConfigPath;

    public static async Task<LedgerSetup> CreateAsync(string region = "BJ", string? postgres = null)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("smartcity-ledger-").FullName;
        var result = await LocalSetup.WriteAsync(directory, RepositoryFiles.Read("contracts/genesis/sample-genesis.json"), [region], 0, postgres, TimeProvider.System, CancellationToken.None);
        return new LedgerSetup(directory, result);
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

    /// <summary>The private key of member <paramref name="index"/> (0-3 the regions' regulators, 4 the joint credit office).</summary>
    public byte[] MemberKey(int index)
    {
        using var file = JsonDocument.Parse(File.ReadAllText(Result.Members[index].KeyPath));
        return Convert.FromHexString(file.RootElement.GetProperty("privateKey").GetString()!.AsSpan(2));
    }

    public ValueTask DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
