using SmartCity.CreditApi.Node;
using SmartCity.Testing;

namespace SmartCity.Ledger.Anchoring.Tests;

/// <summary><c>jobs.anchor</c> in the node configuration: bound, validated and its submitter key opened at start-up.</summary>
public sealed class AnchorJobConfigTests : IDisposable
{
    private const string Key = """{"address":"0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf","privateKey":"0x0000000000000000000000000000000000000000000000000000000000000001"}""";
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-anchor-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_node_opens_the_anchor_submitter_key_at_start_up_and_refuses_bad_anchor_settings_naming_them()
    {
        var key = Path.Combine(_directory, "anchor-key.json");
        await File.WriteAllTextAsync(key, Key);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        const string contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
        using var good = await LoadAsync($$"""{ "rpcUrl": "http://127.0.0.1:8545", "contract": "{{contract}}", "everyBlocks": 5, "submitterKey": { "plaintext": { "path": "anchor-key.json" }, "insecurePlaintext": true } }""");

        Assert.Equal("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", good.AnchorSubmitter!.Address.ToString());
        Assert.Equal(5, good.Config.Jobs.Anchor!.EveryBlocks);
        foreach (var (anchor, expected) in new[]
        {
            ($$"""{ "rpcUrl": "http://127.0.0.1:8545", "contract": "{{contract}}", "submitterKey": { "plaintext": { "path": "anchor-key.json" } } }""", "jobs.anchor.submitterKey"),
            ($$"""{ "rpcUrl": "ftp://x", "contract": "{{contract}}", "submitterKey": { "plaintext": { "path": "anchor-key.json" }, "insecurePlaintext": true } }""", "jobs.anchor.rpcUrl"),
            ("""{ "rpcUrl": "http://127.0.0.1:8545", "contract": "0x12", "submitterKey": { "plaintext": { "path": "anchor-key.json" }, "insecurePlaintext": true } }""", "jobs.anchor.contract"),
            ($$"""{ "rpcUrl": "http://127.0.0.1:8545", "contract": "{{contract}}", "everyBlocks": 0, "submitterKey": { "plaintext": { "path": "anchor-key.json" }, "insecurePlaintext": true } }""", "jobs.anchor.everyBlocks"),
            ($$"""{ "rpcUrl": "http://127.0.0.1:8545", "contract": "{{contract}}" }""", "jobs.anchor.submitterKey: required"),
            ($$"""{ "rpcUrl": "http://127.0.0.1:8545", "contract": "{{contract}}", "submitterKey": { "keystore": { "path": "missing.json", "password": { "file": "missing" } } } }""", "jobs.anchor.submitterKey:"),
        })
        {
            var refused = await Assert.ThrowsAsync<NodeConfigurationException>(() => LoadAsync(anchor));
            Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        }
    }

    private async Task<NodeStartup> LoadAsync(string anchor)
    {
        var config = Path.Combine(_directory, "node.json");
        var genesis = RepositoryFiles.PathOf("contracts/genesis/sample-genesis.json").Replace("\\", "\\\\", StringComparison.Ordinal);
        await File.WriteAllTextAsync(config, $$"""{ "region": "BJ", "genesis": "{{genesis}}", "storage": { "dataDirectory": "data" }, "jobs": { "anchor": {{anchor}} } }""");
        return await NodeConfigLoader.LoadAsync(config, CancellationToken.None);
    }
}
