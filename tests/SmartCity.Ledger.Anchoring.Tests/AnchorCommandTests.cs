using SmartCity.Ledger.Crypto;
using SmartCity.Testing;
using SmartCity.Testing.Evm;

namespace SmartCity.Ledger.Anchoring.Tests;

/// <summary>
/// `smartcity anchor deploy|submit|show` against a real EVM node and a store the engine certified: exit 0 when done,
/// 1 when the contract refuses (its decoded reason on stdout), 2 with one stderr line for bad input.
/// </summary>
public sealed class AnchorCommandTests(LocalEvmFixture evm) : IClassFixture<LocalEvmFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-anchor-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [EvmFact]
    public async Task Deploy_submit_and_show_anchor_certified_blocks_of_a_store_and_list_them()
    {
        var node = await evm.NodeAsync();
        var key = AnchorTestKit.SubmitterKeyFile(node, _directory);
        await using var ledger = await CertifiedChain.CreateAsync(blocks: 2);
        var (block1, block2) = (ledger.Block(1).Header, ledger.Block(2).Header);
        var store = await ledger.CloseStoreAsync();
        var rpc = node.RpcUrl.ToString();

        var deploy = await AnchorTestKit.RunCliAsync("anchor", "deploy", "--rpc", rpc, "--genesis", RepositoryFiles.PathOf("contracts/genesis/sample-genesis.json"), "--key", key, "--insecure-plaintext");
        Assert.True(deploy.Code == 0, deploy.Error);
        var contract = deploy.Output.Trim();
        Assert.True(Address.TryParse(contract, out _, out _), contract);

        var first = await AnchorTestKit.RunCliAsync("anchor", "submit", "--rpc", rpc, "--contract", contract, "--store", store, "--height", "1", "--key", key, "--insecure-plaintext");
        var head = await AnchorTestKit.RunCliAsync("anchor", "submit", "--rpc", rpc, "--contract", contract, "--store", store, "--key", key, "--insecure-plaintext");
        var again = await AnchorTestKit.RunCliAsync("anchor", "submit", "--rpc", rpc, "--contract", contract, "--store", store, "--height", "1", "--key", key, "--insecure-plaintext");
        var show = await AnchorTestKit.RunCliAsync("anchor", "show", "--rpc", rpc, "--contract", contract);

        Assert.True(first.Code == 0, first.Output + first.Error);
        Assert.StartsWith($"ANCHORED: height 1 header {block1.Hash}", first.Output, StringComparison.Ordinal);
        Assert.True(head.Code == 0, head.Output + head.Error);
        Assert.StartsWith($"ANCHORED: height 2 header {block2.Hash}", head.Output, StringComparison.Ordinal);
        Assert.Equal((1, "REFUSED: HeightNotIncreasing(height=1, latestHeight=2)"), (again.Code, again.Output.Trim()));
        Assert.Equal(0, show.Code);
        Assert.Contains("checkpoints       2", show.Output, StringComparison.Ordinal);
        Assert.Contains($"height 1 header {block1.Hash} history {block1.HistorySize} root {block1.HistoryRoot} state {block1.StateRoot}", show.Output, StringComparison.Ordinal);
        Assert.Contains($"height 2 header {block2.Hash}", show.Output, StringComparison.Ordinal);
    }

    [EvmFact]
    public async Task Verify_finds_the_anchored_store_consistent_and_a_rewritten_or_shortened_store_disagreeing_at_the_first_anchored_height()
    {
        var node = await evm.NodeAsync();
        var key = AnchorTestKit.SubmitterKeyFile(node, _directory);
        var rpc = node.RpcUrl.ToString();
        await using var ledger = await CertifiedChain.CreateAsync(blocks: 2);
        var store = await ledger.CloseStoreAsync();
        var contract = (await AnchorTestKit.RunCliAsync("anchor", "deploy", "--rpc", rpc, "--genesis", RepositoryFiles.PathOf("contracts/genesis/sample-genesis.json"), "--key", key, "--insecure-plaintext")).Output.Trim();
        Assert.Equal(0, (await AnchorTestKit.RunCliAsync("anchor", "submit", "--rpc", rpc, "--contract", contract, "--store", store, "--height", "1", "--key", key, "--insecure-plaintext")).Code);
        Assert.Equal(0, (await AnchorTestKit.RunCliAsync("anchor", "submit", "--rpc", rpc, "--contract", contract, "--store", store, "--key", key, "--insecure-plaintext")).Code);
        await using var rewritten = await CertifiedChain.CreateAsync(blocks: 0, directory: Path.Combine(_directory, "rewritten"));
        await rewritten.AppendRecordsAsync(3, "rewritten history");
        var rewrittenStore = await rewritten.CloseStoreAsync();
        await using var shortened = await CertifiedChain.CreateAsync(blocks: 0, directory: Path.Combine(_directory, "shortened"));
        var shortenedStore = await shortened.CloseStoreAsync();

        var intact = await AnchorTestKit.RunCliAsync("anchor", "verify", "--rpc", rpc, "--contract", contract, "--store", store);
        var changed = await AnchorTestKit.RunCliAsync("anchor", "verify", "--rpc", rpc, "--contract", contract, "--store", rewrittenStore);
        var behind = await AnchorTestKit.RunCliAsync("anchor", "verify", "--rpc", rpc, "--contract", contract, "--store", shortenedStore);
        var both = await AnchorTestKit.RunCliAsync("anchor", "verify", "--rpc", rpc, "--contract", contract, "--store", store, "--postgres", "Host=x");

        Assert.True(intact.Code == 0, intact.Output + intact.Error);
        Assert.StartsWith("CONSISTENT: 2 anchors", intact.Output, StringComparison.Ordinal);
        Assert.Equal(1, changed.Code);
        Assert.StartsWith("DISAGREES at height 1: the ledger's header at 1 is", changed.Output, StringComparison.Ordinal);
        Assert.Equal(1, behind.Code);
        Assert.StartsWith("DISAGREES at height 1: height 1 was anchored, but the ledger ends at height 0", behind.Output, StringComparison.Ordinal);
        Assert.Equal(2, both.Code);
    }

    [EvmFact]
    public async Task Bad_input_exits_2_with_one_line_on_stderr()
    {
        var node = await evm.NodeAsync();
        var rpc = node.RpcUrl.ToString();
        var key = AnchorTestKit.SubmitterKeyFile(node, _directory);
        var closedPort = $"http://127.0.0.1:{LocalEvmNode.FreeLoopbackPort()}";
        var noCode = node.Accounts[3].Address;
        var missingStore = Path.Combine(_directory, "no-such-store");
        await using var ledger = await CertifiedChain.CreateAsync(blocks: 1);
        var store = await ledger.CloseStoreAsync();

        foreach (var (args, expected) in new (string[] Args, string Expected)[]
        {
            (["anchor", "show", "--rpc", "not a url", "--contract", noCode], "--rpc: 'not a url' is not an http(s) URL"),
            (["anchor", "show", "--rpc", rpc, "--contract", "0x1234"], "--contract: '0x1234' is not an address"),
            (["anchor", "show", "--rpc", rpc, "--contract", noCode], "there is no contract at"),
            (["anchor", "show", "--rpc", closedPort, "--contract", noCode], "did not answer eth_chainId"),
            (["anchor", "show", "--rpc", rpc, "--evm-chain-id", "1", "--contract", noCode], "not the configured 1"),
            (["anchor", "submit", "--rpc", rpc, "--contract", noCode, "--store", missingStore, "--key", key, "--insecure-plaintext"], "is not a directory"),
            (["anchor", "submit", "--rpc", rpc, "--contract", noCode, "--store", store, "--height", "2", "--key", key, "--insecure-plaintext"], "--height: 2 is not a certified block of the store (1 to 1"),
        })
        {
            var (code, output, error) = await AnchorTestKit.RunCliAsync(args);
            Assert.True(code == 2, $"{string.Join(' ', args)}: exit {code}, {output}{error}");
            Assert.Contains(expected, error, StringComparison.Ordinal);
            Assert.Single(error.TrimEnd('\n').Split('\n'));
            Assert.Equal("", output);
        }
    }
}
