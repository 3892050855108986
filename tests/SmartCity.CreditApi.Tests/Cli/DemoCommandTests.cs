using System.Text.RegularExpressions;
using SmartCity.CreditApi.Cli;

namespace SmartCity.CreditApi.Tests.Cli;

public sealed partial class DemoCommandTests : IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("smartcity-demo-test-").FullName;

    [Theory]
    [InlineData("eth")]
    [InlineData("gm")]
    public async Task The_tour_commits_certified_blocks_on_four_qbft_validators_that_agree_loses_one_catches_it_up_and_writes_receipts_that_verify(string crypto)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, await CommandLine.RunAsync(CliRoot.Create(), ["demo", "--out", _out, "--crypto", crypto], output, error, CancellationToken.None));
        var text = output.ToString();

        Assert.Contains($"crypto {crypto}, signatures: ", text, StringComparison.Ordinal);
        var genesis = await File.ReadAllTextAsync(Path.Combine(_out, "genesis.json"));
        Assert.Equal(crypto == "gm", genesis.Contains("\"crypto\": \"gm\"", StringComparison.Ordinal));

        Assert.Contains("REJECTED NonceReused", text, StringComparison.Ordinal);
        Assert.Contains("REJECTED NotAMember", text, StringComparison.Ordinal);
        Assert.Contains("REJECTED RegionMismatch", text, StringComparison.Ordinal);
        Assert.Contains("status 02 Suspended at block 2", text, StringComparison.Ordinal);
        Assert.Contains("edited to say 01 Valid: ProofInvalid", text, StringComparison.Ordinal);
        Assert.Contains("status 02 in the projection, written by block 2", text, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(_out, "nodes", "XA")), "each node keeps an embedded store");

        // A validator stopped, the other three committed block 3 without it, and it caught up when it started again.
        Assert.Matches(@"validator stops \(as if its process were killed\)", text);
        Assert.Matches(@"committed in block 3 by (BJ|TJ|HE|XA), (BJ|TJ|HE|XA), (BJ|TJ|HE|XA) while (BJ|TJ|HE|XA) is down", text);
        Assert.Matches(@"(BJ|TJ|HE|XA) caught up: head 3 ", text);

        // After each block (1, 2 and the one committed without the stopped validator) all four regions report one and the same state root.
        var roots = StateRootLine().Matches(text).GroupBy(m => m.Groups["height"].Value).ToList();
        Assert.Equal(["1", "2", "3"], roots.Select(g => g.Key));
        Assert.All(roots, g => Assert.Equal(4, g.Count()));
        Assert.All(roots, g => Assert.Single(g.Select(m => m.Groups["root"].Value).Distinct()));

        foreach (var receipt in new[] { "licence-status.json", "credit-record-inclusion.json" })
        {
            var verify = new StringWriter();
            var exit = await CommandLine.RunAsync(CliRoot.Create(), ["receipt", "verify", "--file", Path.Combine(_out, receipt), "--genesis", Path.Combine(_out, "genesis.json")], verify, error, CancellationToken.None);
            Assert.Equal(0, exit);
            Assert.StartsWith("VALID", verify.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Demo_on_a_directory_holding_a_chain_or_a_damaged_store_exits_2_with_one_line()
    {
        Assert.Equal(0, await CommandLine.RunAsync(CliRoot.Create(), ["demo", "--out", _out], new StringWriter(), new StringWriter(), CancellationToken.None));

        var again = await RunAsync(["demo", "--out", _out]);
        var segment = Directory.EnumerateFiles(Path.Combine(_out, "nodes", "BJ"), "*.seg", SearchOption.AllDirectories).First();
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(file.Length - 100);
        }

        var damaged = await RunAsync(["demo", "--out", _out]);

        Assert.Equal((2, ""), (again.Code, again.Output));
        Assert.Matches("^smartcity demo: .*already holds a chain.*\\n$", again.Error.ReplaceLineEndings("\n"));
        Assert.Equal((2, ""), (damaged.Code, damaged.Output));
        Assert.Matches("^smartcity demo: --out: .* holds a store that cannot be opened .*\\n$", damaged.Error.ReplaceLineEndings("\n"));
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }

    [GeneratedRegex(@"(?<region>BJ|TJ|HE|XA) head (?<height>\d+) state root (?<root>0x[0-9a-f]{64})")]
    private static partial Regex StateRootLine();

    public void Dispose() => Directory.Delete(_out, recursive: true);
}
