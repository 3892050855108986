using System.Text.Json.Nodes;
using SmartCity.CreditApi.Cli;
using SmartCity.CreditApi.Demo;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Receipts;
using SmartCity.Testing;
using SmartCity.Testing.TestKit;

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

    [Fact]
    public async Task Batch_mode_checks_every_receipt_given_by_repeated_file_options_one_line_each()
    {
        var (exit, output, error) = await Run("receipt", "verify", "--genesis", Genesis,
            "--file", RepositoryFiles.PathOf("docs/examples/receipts/licence-status.json"), "--file", RepositoryFiles.PathOf("docs/examples/receipts/transaction-inclusion.json"));
        Assert.Equal(0, exit);
        Assert.Equal(string.Empty, error);
        var lines = output.Trim().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("VALID " + RepositoryFiles.PathOf("docs/examples/receipts/licence-status.json") + "  block 3, licence ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("VALID " + RepositoryFiles.PathOf("docs/examples/receipts/transaction-inclusion.json") + "  block 3", lines[1], StringComparison.Ordinal);
        Assert.Equal("2 receipts: 2 VALID, 0 INVALID, 0 not receipts", lines[2]);
    }

    [Fact]
    public async Task Batch_mode_over_a_directory_reports_the_forged_receipt_and_exits_1()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_scratch, "batch")).FullName;
        File.Copy(RepositoryFiles.PathOf("docs/examples/receipts/licence-status.json"), Path.Combine(dir, "a.json"));
        var json = JsonNode.Parse(await File.ReadAllTextAsync(RepositoryFiles.PathOf("docs/examples/receipts/transaction-inclusion.json")))!;
        var transaction = json["transaction"]!.GetValue<string>();
        json["transaction"] = transaction[..^1] + (transaction[^1] == '0' ? '1' : '0');
        await File.WriteAllTextAsync(Path.Combine(dir, "b.json"), json.ToJsonString());
        await File.WriteAllTextAsync(Path.Combine(dir, "notes.txt"), "not a receipt and not *.json: skipped");

        var (exit, output, error) = await Run("receipt", "verify", "--genesis", Genesis, "--dir", dir);
        Assert.Equal(1, exit);
        Assert.Equal(string.Empty, error);
        var lines = output.Trim().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("VALID " + Path.Combine(dir, "a.json"), lines[0], StringComparison.Ordinal);
        Assert.StartsWith("INVALID " + Path.Combine(dir, "b.json") + ": ProofInvalid: inclusion proof of leaf 7", lines[1], StringComparison.Ordinal);
        Assert.Equal("2 receipts: 1 VALID, 1 INVALID, 0 not receipts", lines[2]);
    }

    [Fact]
    public async Task Batch_mode_with_a_file_that_is_not_a_receipt_lists_it_and_exits_2_with_one_stderr_line()
    {
        var garbage = Path.Combine(_scratch, "garbage.json");
        await File.WriteAllTextAsync(garbage, "{\"format\":\"something else\"}");

        var (exit, output, error) = await Run("receipt", "verify", "--genesis", Genesis, "--file", RepositoryFiles.PathOf("docs/examples/receipts/licence-status.json"), "--file", garbage);
        Assert.Equal(2, exit);
        Assert.Contains("NOT A RECEIPT " + garbage + ": ", output, StringComparison.Ordinal);
        Assert.Contains("2 receipts: 1 VALID, 0 INVALID, 1 not receipts", output, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("smartcity receipt verify: 1 of 2 files are not receipts", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_stand_alone_verifier_prints_what_the_command_prints_and_exits_the_same()
    {
        foreach (var args in new[]
        {
            new[] { "verify", "--file", RepositoryFiles.PathOf("docs/examples/receipts/licence-status.json"), "--genesis", Genesis },
            ["verify", "--genesis", Genesis, "--file", RepositoryFiles.PathOf("docs/examples/receipts/licence-status.json"), "--file", RepositoryFiles.PathOf("docs/examples/receipts/transaction-inclusion.json")],
        })
        {
            var (exit, output, error) = await Run(["receipt", .. args]);
            var standAloneOutput = new StringWriter();
            var standAloneError = new StringWriter();
            var standAloneExit = SmartCity.ReceiptCheck.ReceiptVerifierCommand.Run(args, standAloneOutput, standAloneError);
            Assert.Equal(0, exit);
            Assert.Equal(exit, standAloneExit);
            Assert.Equal(output.ReplaceLineEndings(), standAloneOutput.ToString().ReplaceLineEndings());
            Assert.Equal(string.Empty, error + standAloneError);
        }

        var usage = new StringWriter();
        Assert.Equal(2, SmartCity.ReceiptCheck.ReceiptVerifierCommand.Run(["verify", "--file", Path.Combine(_scratch, "missing.json"), "--genesis", Genesis], TextWriter.Null, usage));
        Assert.Single(usage.ToString().Trim().Split('\n'));
        Assert.StartsWith("smartcity-receipt: --file: cannot read", usage.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_receipt_of_a_gm_chain_with_its_own_sm2_identifier_verifies_under_that_identifier_only()
    {
        const string Sm2Id = "ALICE123@YAHOO.COM";
        var gmGenesis = JsonNode.Parse(DemoGenesis.ForSuite(await File.ReadAllTextAsync(Genesis), CryptoSuiteId.Gm))!.AsObject();
        var defaultIdGenesis = Path.Combine(_scratch, "gm-default-id-genesis.json");
        await File.WriteAllTextAsync(defaultIdGenesis, gmGenesis.ToJsonString());
        gmGenesis["sm2Id"] = Sm2Id;
        var namedIdGenesis = Path.Combine(_scratch, "gm-named-id-genesis.json");
        await File.WriteAllTextAsync(namedIdGenesis, gmGenesis.ToJsonString());

        // A gm chain of that genesis: members and validators sign with its identifier.
        var genesis = GenesisLoader.Load(gmGenesis.ToJsonString()).Document!;
        Assert.Equal(Sm2Id, TrustAnchor.FromGenesis(genesis).Sm2Id);
        var scheme = genesis.Crypto.CreateSuite().Signatures;
        var chain = new LedgerChain(genesis, scheme);
        using var member = TestKeys.BeijingRegulator.SignerOver(scheme);
        var tx = SignedTransaction.Sign(member, chain.Domain, genesis.ChainId, 0, Build.A.CreditRecord.Body());
        var candidate = chain.Propose([TransactionCodec.Encode(tx)], genesis.GenesisTime.AddDays(1));
        Assert.Single(candidate.Body.Included);
        var validators = TestKeys.Validators.Take(3).Select(v => v.SignerOver(scheme)).ToList();
        Assert.True(chain.Commit(candidate, CommitCertificate.FromSeals(scheme, chain.Anchor.DomainSeparator, candidate.Header, validators.Select(v => chain.Seal(candidate, v)))).IsValid);
        validators.ForEach(v => v.Dispose());
        var receipt = Path.Combine(_scratch, "gm-named-id-receipt.json");
        await File.WriteAllTextAsync(receipt, ReceiptJson.Write(chain.ProveTransaction(tx.Hash(chain.Domain))!));

        // Both offline verifiers read the identifier from the genesis file.
        var (exit, output, _) = await Run("receipt", "verify", "--file", receipt, "--genesis", namedIdGenesis);
        Assert.Equal(0, exit);
        Assert.StartsWith("VALID", output, StringComparison.Ordinal);
        var standAlone = new StringWriter();
        Assert.Equal(0, SmartCity.ReceiptCheck.ReceiptVerifierCommand.Run(["verify", "--genesis", namedIdGenesis, "--file", receipt], standAlone, TextWriter.Null));
        Assert.Equal(output.ReplaceLineEndings(), standAlone.ToString().ReplaceLineEndings());

        // The same chain read with the default identifier: every seal's Z value differs, so the certificate fails.
        (exit, output, _) = await Run("receipt", "verify", "--file", receipt, "--genesis", defaultIdGenesis);
        Assert.Equal(1, exit);
        Assert.StartsWith("INVALID: CertificateInvalid", output, StringComparison.Ordinal);
        Assert.Equal(1, SmartCity.ReceiptCheck.ReceiptVerifierCommand.Run(["verify", "--genesis", defaultIdGenesis, "--file", receipt], TextWriter.Null, TextWriter.Null));

        // A caller who pairs the anchor with an SM2 scheme of another identifier is told so, not sent to the seals.
        var report = ReceiptVerifier.VerifyDocument(await File.ReadAllBytesAsync(receipt), chain.Anchor, CryptoSuite.Gm.Signatures);
        Assert.Equal((ReceiptOutcome.Invalid, SmartCity.Ledger.Receipts.ReceiptCheck.WrongSuite), (report.Outcome, report.Check));
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);
}
