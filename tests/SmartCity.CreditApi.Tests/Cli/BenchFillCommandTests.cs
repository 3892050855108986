using System.Text.Json;
using SmartCity.CreditApi.Bench;
using SmartCity.CreditApi.Cli;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Jobs.Audit;
using SmartCity.Ledger.Storage.Embedded;

namespace SmartCity.CreditApi.Tests.Cli;

/// <summary>
/// `smartcity bench fill` writes a chain that every checker accepts (store verify, the chain audit, a reopened node)
/// and `bench store` measures it. 2,000 transactions each (a few seconds): the 1,000,000-transaction runs are
/// benchmarks, not tests.
/// </summary>
public sealed class BenchFillCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("smartcity-fill-test-").FullName;

    private string Setup => Path.Combine(_dir, "setup");

    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("eth", "1")]
    [InlineData("gm", "4")]
    public async Task A_filled_store_passes_store_verify_and_the_chain_audit_finds_every_signature_valid(string crypto, string validators)
    {
        var fill = await Run("bench", "fill", "--store", Setup, "--tx", "2000", "--block-size", "300", "--signers", "7", "--validators", validators, "--crypto", crypto);
        Assert.True(fill.Exit == 0, fill.Out + fill.Err);
        var summary = JsonSerializer.Deserialize<StoreFillSummary>(await File.ReadAllTextAsync(Path.Combine(Setup, StoreFillSummary.FileName)))!;
        Assert.Equal((2000L, 7L, 1600L, 200L, 200L), (summary.Transactions, summary.Head, summary.CreditRecords, summary.Licences, summary.ListEntries));

        var verify = await Run("store", "verify", "--data", Path.Combine(Setup, "data", "bj"), "--genesis", Path.Combine(Setup, "genesis.json"));
        Assert.True(verify.Exit == 0, verify.Out + verify.Err);
        Assert.StartsWith("INTACT: blocks 0 to 7, 2000 transactions", verify.Out, StringComparison.Ordinal);

        var genesis = GenesisLoader.Load(await File.ReadAllTextAsync(Path.Combine(Setup, "genesis.json"))).Document!;
        Assert.Equal(int.Parse(validators, System.Globalization.CultureInfo.InvariantCulture), genesis.Validators.Count);
        await using var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = Path.Combine(Setup, "data", "bj"), ReadOnly = true }, CancellationToken.None);
        var audit = await new ChainAuditor(genesis, genesis.Crypto.CreateSuite().Signatures).RunAsync(store, AuditCheckpoint.Start, 100, CancellationToken.None);
        Assert.True(audit.IsIntact, audit.Damage);
        Assert.Equal((7L, 2000L), (audit.Checkpoint.Height, audit.Signatures));
    }

    [Fact]
    public async Task An_interrupted_fill_resumes_to_the_same_chain_an_uninterrupted_one_writes_in_shape()
    {
        Assert.Equal(0, (await Run("bench", "fill", "--store", Setup, "--tx", "600", "--block-size", "250", "--signers", "5")).Exit);

        var resumed = await Run("bench", "fill", "--store", Setup, "--tx", "1000", "--block-size", "250", "--resume");

        Assert.True(resumed.Exit == 0, resumed.Out + resumed.Err);
        var summary = JsonSerializer.Deserialize<StoreFillSummary>(await File.ReadAllTextAsync(Path.Combine(Setup, StoreFillSummary.FileName)))!;
        Assert.Equal((1000L, 5L), (summary.Transactions, summary.Head)); // 250 + 250 + 100, then 250 + 150
        Assert.Equal(0, (await Run("store", "verify", "--data", Path.Combine(Setup, "data", "bj"), "--genesis", Path.Combine(Setup, "genesis.json"))).Exit);
    }

    [Fact]
    public async Task Bench_store_reopens_a_filled_setup_and_measures_the_audit_and_verify_chain_over_all_of_it()
    {
        Assert.Equal(0, (await Run("bench", "fill", "--store", Setup, "--tx", "2000", "--block-size", "500", "--signers", "4")).Exit);
        var json = Path.Combine(_dir, "report.json");

        var (exit, output, error) = await Run("bench", "store", "--store", Setup, "--proofs", "50", "--audit-blocks", "2", "--ceiling-signatures", "200", "--json", json);

        Assert.True(exit == 0, output + error);
        var report = JsonSerializer.Deserialize<StoreBenchReport>(await File.ReadAllTextAsync(json))!;
        Assert.Equal((4L, 2000L, 50), (report.Head, report.Transactions, report.ProofsVerified));
        Assert.Equal(["ChainAuditJob (ChainAuditor, job-sized runs)", "VerifyChain (ChainVerifier, AuditService's stream)"], report.Rates.Select(r => r.Name));
        Assert.All(report.Rates, r => Assert.True(r.Transactions == 2000 && r.PerSecond > 0 && r.CeilingBefore > 0, r.ToString()));
        Assert.Contains(report.Memory, m => m.Phase == "chain audit" && m.Transactions == 2000);
        Assert.Contains("| restart: config + store open + node open |", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--validators", "3")]
    [InlineData("--crypto", "rsa")]
    [InlineData("--tx", "0")]
    public async Task Bad_options_exit_2_with_one_line_and_write_nothing(string option, string value)
    {
        var (exit, output, error) = await Run("bench", "fill", "--store", Setup, option, value);

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(Setup));
    }

    [Fact]
    public async Task Fill_refuses_a_directory_that_already_holds_a_setup_unless_resuming()
    {
        Assert.Equal(0, (await Run("bench", "fill", "--store", Setup, "--tx", "10", "--signers", "2")).Exit);

        var (exit, _, error) = await Run("bench", "fill", "--store", Setup, "--tx", "20");

        Assert.Equal(2, exit);
        Assert.Contains("--resume", error, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
