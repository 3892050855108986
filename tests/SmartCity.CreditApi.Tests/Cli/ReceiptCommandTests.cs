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

    [Fact]
    public async Task A_header_byte_flipped_exits_1_as_a_forgery_whether_or_not_its_copies_were_rewritten()
    {
        var json = JsonNode.Parse(await File.ReadAllTextAsync(RepositoryFiles.PathOf("docs/examples/receipts/transaction-inclusion.json")))!;
        var header = json["header"]!.GetValue<string>();
        json["header"] = header[..242] + (header[242] == '0' ? '1' : '0') + header[243..]; // a state-root byte
        var path = Path.Combine(_scratch, "flipped.json");
        await File.WriteAllTextAsync(path, json.ToJsonString());

        var (exit, output, error) = await Run("receipt", "verify", "--file", path, "--genesis", Genesis);
        Assert.Equal(1, exit);
        Assert.StartsWith("INVALID: CopyMismatch: headerHash", output, StringComparison.Ordinal);
        Assert.Equal(string.Empty, error);
    }

    [Fact]
    public async Task Invalid_utf8_in_a_receipt_or_a_genesis_is_bad_input_not_silently_replaced()
    {
        var receipt = await File.ReadAllBytesAsync(RepositoryFiles.PathOf("docs/examples/receipts/licence-status.json"));
        var broken = Path.Combine(_scratch, "broken.json");
        await File.WriteAllBytesAsync(broken, [.. receipt[..40], 0xFF, .. receipt[40..]]);
        var genesis = await File.ReadAllBytesAsync(Genesis);
        var brokenGenesis = Path.Combine(_scratch, "genesis.json");
        await File.WriteAllBytesAsync(brokenGenesis, [.. genesis[..40], 0xC3, 0x28, .. genesis[40..]]);

        foreach (var (file, genesisFile, expected) in new[] { (broken, Genesis, "not UTF-8"), (RepositoryFiles.PathOf("docs/examples/receipts/licence-status.json"), brokenGenesis, "is not UTF-8 text") })
        {
            var (exit, output, error) = await Run("receipt", "verify", "--file", file, "--genesis", genesisFile);
            Assert.Equal(2, exit);
            Assert.Equal(string.Empty, output);
            Assert.Single(error.Trim().Split('\n'));
            Assert.Contains(expected, error, StringComparison.Ordinal);
        }
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);
}
