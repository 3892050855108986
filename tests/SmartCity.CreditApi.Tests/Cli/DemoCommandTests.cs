using System.Text.RegularExpressions;
using SmartCity.CreditApi.Cli;

namespace SmartCity.CreditApi.Tests.Cli;

public sealed partial class DemoCommandTests : IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("smartcity-demo-test-").FullName;

    [Fact]
    public async Task The_tour_commits_two_certified_blocks_on_four_nodes_that_agree_and_writes_receipts_that_verify()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, await CommandLine.RunAsync(CliRoot.Create(), ["demo", "--out", _out], output, error, CancellationToken.None));
        var text = output.ToString();

        Assert.Contains("REJECTED NonceReused", text, StringComparison.Ordinal);
        Assert.Contains("REJECTED NotAMember", text, StringComparison.Ordinal);
        Assert.Contains("REJECTED RegionMismatch", text, StringComparison.Ordinal);
        Assert.Contains("status 02 Suspended at block 2", text, StringComparison.Ordinal);
        Assert.Contains("edited to say 01 Valid: ProofInvalid", text, StringComparison.Ordinal);
        Assert.Contains("status 02 in the projection, written by block 2", text, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(_out, "nodes", "XA")), "each node keeps an embedded store");

        // After each block all four regions report one and the same state root.
        var roots = StateRootLine().Matches(text).GroupBy(m => m.Groups["height"].Value).ToList();
        Assert.Equal(2, roots.Count);
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

    [GeneratedRegex(@"(?<region>BJ|TJ|HE|XA) head (?<height>\d+) state root (?<root>0x[0-9a-f]{64})")]
    private static partial Regex StateRootLine();

    public void Dispose() => Directory.Delete(_out, recursive: true);
}
