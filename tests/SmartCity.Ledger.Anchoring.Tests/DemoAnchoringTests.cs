using SmartCity.CreditApi.Cli;
using SmartCity.Testing.Evm;

namespace SmartCity.Ledger.Anchoring.Tests;

/// <summary>
/// `smartcity demo` with an EVM node (what scripts/demo.sh passes after starting ganache): step 7 deploys the contract,
/// anchors the head through the AnchorJob and finds the store CONSISTENT with it; with an EVM node that does not answer
/// the tour still finishes and says it skipped anchoring and why.
/// </summary>
public sealed class DemoAnchoringTests(LocalEvmFixture evm) : IClassFixture<LocalEvmFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-demo-anchor-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [EvmFact]
    public async Task The_demo_anchors_its_head_on_the_EVM_node_and_anchor_verify_finds_the_store_consistent()
    {
        var node = await evm.NodeAsync();
        var key = Path.Combine(_directory, "submitter.json");
        var account = node.Accounts[2];
        await File.WriteAllTextAsync(key, $$"""{"address":"{{account.Address}}","privateKey":"0x{{Convert.ToHexStringLower(account.PrivateKey)}}"}""");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var (code, output, error) = await RunAsync("demo", "--out", Path.Combine(_directory, "tour"), "--evm-rpc", node.RpcUrl.ToString(), "--evm-key", key);

        Assert.True(code == 0, output + error);
        var step = output[output.IndexOf("== 7.", StringComparison.Ordinal)..output.IndexOf("== 8.", StringComparison.Ordinal)];
        Assert.Contains("CheckpointAnchor deployed at 0x", step, StringComparison.Ordinal);
        Assert.Contains("AnchorJob: anchored block 3 (0x", step, StringComparison.Ordinal);
        Assert.Contains("on-chain checkpoint 3: header 0x", step, StringComparison.Ordinal);
        Assert.Contains("anchor verify: CONSISTENT: 1 anchors of contract 0x", step, StringComparison.Ordinal);
        Assert.DoesNotContain("skipped", step, StringComparison.Ordinal);
    }

    [EvmFact]
    public async Task Without_a_usable_EVM_node_the_demo_finishes_and_says_it_skipped_anchoring_and_why()
    {
        var closed = $"http://127.0.0.1:{LocalEvmNode.FreeLoopbackPort()}";
        var key = Path.Combine(_directory, "submitter.json");
        await File.WriteAllTextAsync(key, """{"address":"0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf","privateKey":"0x0000000000000000000000000000000000000000000000000000000000000001"}""");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var unreachable = await RunAsync("demo", "--out", Path.Combine(_directory, "closed"), "--evm-rpc", closed, "--evm-key", key);
        var notStarted = await RunAsync("demo", "--out", Path.Combine(_directory, "none"), "--crypto", "gm", "--evm-unavailable", "ganache could not be installed");

        Assert.True(unreachable.Code == 0, unreachable.Output + unreachable.Error);
        Assert.Contains($"skipped anchoring: the EVM node at {closed}/ cannot be used:", unreachable.Output, StringComparison.Ordinal);
        Assert.Contains("== 8. Check the receipts yourself", unreachable.Output, StringComparison.Ordinal);
        Assert.True(notStarted.Code == 0, notStarted.Output + notStarted.Error);
        Assert.Contains("skipped anchoring: anchoring is eth-only", notStarted.Output, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }
}
