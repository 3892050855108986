using System.Text.Json.Nodes;
using SmartCity.CreditApi.Cli;
using SmartCity.Testing;

namespace SmartCity.CreditApi.Tests.Cli;

public sealed class ReceiptCommandTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("smartcity-receipt-").FullName;

    private static readonly string Genesis = RepositoryFiles.PathOf("contracts/genesis/sample-genesis.json");

    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task A_licence_status_receipt_verifies_offline_and_shows_the_status()
    {
        var (exit, output, _) = await Run("receipt", "verify", "--file", RepositoryFiles.PathOf("docs/examples/receipts/licence-status.json"), "--genesis", Genesis);
        Assert.Equal(0, exit);
        Assert.StartsWith("VALID", output, StringComparison.Ordinal);
        Assert.Contains("status 01 Valid", output, StringComparison.Ordinal);
        Assert.Contains("certified by 3 of 4 validators (quorum 3)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_transaction_inclusion_receipt_verifies_offline()
    {
        var (exit, output, _) = await Run("receipt", "verify", "--file", RepositoryFiles.PathOf("docs/examples/receipts/transaction-inclusion.json"), "--genesis", Genesis);
        Assert.Equal(0, exit);
        Assert.Contains("transaction 7 of 37", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_receipt_is_invalid_with_exit_code_1_and_the_reason()
    {
        var json = JsonNode.Parse(await File.ReadAllTextAsync(RepositoryFiles.PathOf("docs/examples/receipts/transaction-inclusion.json")))!;
        var transaction = json["transaction"]!.GetValue<string>();
        json["transaction"] = transaction[..^1] + (transaction[^1] == '0' ? '1' : '0');
        var path = Path.Combine(_scratch, "tampered.json");
        await File.WriteAllTextAsync(path, json.ToJsonString());

        var (exit, output, _) = await Run("receipt", "verify", "--file", path, "--genesis", Genesis);
        Assert.Equal(1, exit);
        Assert.StartsWith("INVALID: ProofInvalid: inclusion proof of leaf 7", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_input_is_one_line_on_stderr_with_exit_code_2()
    {
        var garbage = Path.Combine(_scratch, "garbage.json");
        await File.WriteAllTextAsync(garbage, "{\"format\":\"something else\"}");

        foreach (var args in new[]
        {
            new[] { "receipt", "verify", "--file", garbage, "--genesis", Genesis },
            ["receipt", "verify", "--file", Path.Combine(_scratch, "missing.json"), "--genesis", Genesis],
            ["receipt", "verify", "--file", garbage],
            ["receipt", "verify", "--file", RepositoryFiles.PathOf("docs/examples/receipts/licence-status.json"), "--genesis", garbage],
        })
        {
            var (exit, output, error) = await Run(args);
            Assert.Equal(2, exit);
            Assert.Equal(string.Empty, output);
            Assert.Single(error.Trim().Split('\n'));
            Assert.StartsWith("smartcity receipt verify: ", error, StringComparison.Ordinal);
        }
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);
}
