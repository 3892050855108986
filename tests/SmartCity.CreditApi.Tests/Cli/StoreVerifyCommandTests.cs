using SmartCity.CreditApi.Cli;

namespace SmartCity.CreditApi.Tests.Cli;

/// <summary>
/// `smartcity store verify` and `store repair` on the demo's embedded stores, including issue 10's reproduction:
/// snapshots deleted, the last segment truncated by 100 bytes.
/// </summary>
public sealed class StoreVerifyCommandTests : IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("smartcity-verify-test-").FullName;

    private string Node => Path.Combine(_out, "nodes", "BJ");

    private string Genesis => Path.Combine(_out, "genesis.json");

    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    private async Task DemoAsync() => Assert.Equal(0, (await Run("demo", "--out", _out)).Exit);

    [Fact]
    public async Task Verify_finds_the_demo_store_intact_and_names_what_it_checked()
    {
        await DemoAsync();

        var (exit, output, error) = await Run("store", "verify", "--data", Node, "--genesis", Genesis);

        Assert.True(exit == 0, output + error);
        Assert.StartsWith("INTACT: blocks 0 to 3", output, StringComparison.Ordinal);
        Assert.Contains("certificates", output, StringComparison.Ordinal);
        Assert.Empty(error);
    }

    [Fact]
    public async Task The_issue_reproduction_is_reported_damaged_and_repair_moves_the_lost_block_aside()
    {
        await DemoAsync();
        foreach (var snapshot in Directory.GetFiles(Path.Combine(Node, "snapshots")))
        {
            File.Delete(snapshot);
        }

        var segment = Directory.GetFiles(Path.Combine(Node, "segments")).Order().Last();
        using (var file = File.OpenHandle(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(file, RandomAccess.GetLength(file) - 100);
        }

        var damaged = await Run("store", "verify", "--data", Node, "--genesis", Genesis);
        Assert.Equal(1, damaged.Exit);
        Assert.StartsWith("DAMAGED at height 3:", damaged.Out, StringComparison.Ordinal);

        var repair = await Run("store", "repair", "--data", Node);
        Assert.True(repair.Exit == 0, repair.Out + repair.Err);
        Assert.Contains("acknowledged blocks 3 to 3 are gone", repair.Out, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(Path.Combine(Node, "damaged", "repair-1")));

        var after = await Run("store", "verify", "--data", Node, "--genesis", Genesis);
        Assert.True(after.Exit == 0, after.Out + after.Err);
        Assert.StartsWith("INTACT: blocks 0 to 2", after.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_with_another_chains_genesis_reports_block_0_as_damaged()
    {
        await DemoAsync();
        var other = Path.Combine(_out, "other-genesis.json");
        await File.WriteAllTextAsync(other, (await File.ReadAllTextAsync(Genesis)).Replace("\"chainId\": 8610", "\"chainId\": 8611", StringComparison.Ordinal));

        var (exit, output, _) = await Run("store", "verify", "--data", Node, "--genesis", other);

        Assert.Equal(1, exit);
        Assert.StartsWith("DAMAGED at height 0:", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("store", "verify", "--genesis", "/nonexistent/genesis.json", "--data", "/tmp")]
    [InlineData("store", "verify", "--data", "/nonexistent-store")]
    [InlineData("store", "verify", "--data", "/tmp", "--postgres", "Host=x", "--genesis", "g.json")]
    [InlineData("store", "repair", "--data", "/nonexistent-store")]
    [InlineData("store", "repair")]
    public async Task Bad_input_exits_2_with_one_line_on_stderr(params string[] args)
    {
        var (exit, output, error) = await Run(args);

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }

    public void Dispose() => Directory.Delete(_out, recursive: true);
}
